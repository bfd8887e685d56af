#!/usr/bin/env bash
# Serve Odoo with the five modules and demo data. The database is created once (a Tanzanian
# company, TZS) and reused afterwards, so a second `make run` serves within seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/modules.sh
DB=${DB:-isp}
export_credential_key

if ! db_exists "$DB"; then
    echo "[run] creating database $DB (Tanzanian company, TZS, demo data)"
    "${ODOO[@]}" db -c odoo.conf init "$DB" --country TZ --with-demo
fi
missing=$(missing_modules "$DB")
if [ -n "$missing" ]; then
    echo "[run] installing $missing into $DB"
    "${ODOO[@]}" -c odoo.conf -d "$DB" -i "$missing" --with-demo --stop-after-init
fi
echo "[run] serving $DB at http://localhost:8069 (login admin / admin)"
exec "${ODOO[@]}" -c odoo.conf -d "$DB" --db-filter="^${DB}\$"
