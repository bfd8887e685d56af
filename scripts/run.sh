#!/usr/bin/env bash
# Serve Odoo with the five modules and demo data. The database is created once (a Tanzanian
# company, TZS) and reused afterwards, so a second `make run` serves within seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/modules.sh
DB=${DB:-isp}
# Stored credentials need a key: the one in the environment or odoo.conf, else the local key
# that make setup made (.data/isp_credential.key).
if [ -z "${ISP_CREDENTIAL_KEY:-}" ] && ! grep -qE '^\s*isp_credential_key\s*=' odoo.conf; then
    ISP_CREDENTIAL_KEY=$(cat .data/isp_credential.key)
    export ISP_CREDENTIAL_KEY
fi

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
