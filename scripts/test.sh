#!/usr/bin/env bash
# A fresh test database with the five modules installed (no demo data: tests make their own),
# a check that installing them - with and without demo data - logs nothing wrong about our
# modules, then every test (addons/*/tests and the cross-module tests/).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/modules.sh
TEST_DB=${TEST_DB:-isp_test}
mkdir -p artifacts

# install_checked DB LOG COUNTRY [--with-demo]: create DB (its main company in COUNTRY, or
# Odoo's generic company for "-"), install the suite, fail on bad log lines.
install_checked() {
    local db=$1 log=$2 country=$3
    shift 3
    local init_args=()
    [ "$country" = - ] || init_args=(--country "$country")
    drop_db "$db"  # odoo's init --force cannot drop while list_db = False
    : >"$log"      # odoo's --logfile appends: start each run with an empty log
    "${ODOO[@]}" db -c odoo.conf init "$db" "${init_args[@]}" "$@" >"${log%.log}-init.log" 2>&1 \
        || { tail -n 30 "${log%.log}-init.log"; echo "[test] FAILED: creating $db"; exit 1; }
    "${ODOO[@]}" -c odoo.conf -d "$db" -i "$ISP_MODULES" "$@" --stop-after-init \
        --log-level=info --logfile="$log" \
        || { tail -n 40 "$log"; echo "[test] FAILED: installing the suite into $db ($log)"; exit 1; }
    # Any warning whose logger or message names our modules or models (from their loggers or
    # Odoo's), and any error. Fields: date time pid level database logger: message.
    if awk '$4 ~ /^(WARNING|ERROR|CRITICAL)$/ { $1 = $2 = $3 = $5 = ""; print }' "$log" \
        | grep -iE "isp[_.]" || grep -E " (ERROR|CRITICAL) " "$log"; then
        echo "[test] FAILED: installing the suite into $db logged the lines above ($log)"
        exit 1
    fi
}

echo "[test] installing $ISP_MODULES with demo data (what make run serves)"
install_checked "${TEST_DB}_demo" artifacts/install-demo.log TZ --with-demo
drop_db "${TEST_DB}_demo"
# Demo data must load on any database, e.g. Odoo's own test runs: a company of no country.
echo "[test] installing $ISP_MODULES with demo data into a database of no country"
install_checked "${TEST_DB}_demo" artifacts/install-demo-any.log - --with-demo
drop_db "${TEST_DB}_demo"

echo "[test] installing $ISP_MODULES into $TEST_DB"
install_checked "$TEST_DB" artifacts/install.log TZ

echo "[test] running the tests"
set +e
.venv/bin/python -m pytest -p no:cacheprovider --odoo-config=odoo.conf --odoo-database="$TEST_DB" \
    --odoo-http --junitxml=artifacts/junit.xml "$@" addons tests
rc=$?
set -e
if [ "$rc" = 5 ]; then
    echo "[test] FAILED: no test was collected"
    exit 1
fi
exit "$rc"
