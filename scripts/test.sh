#!/usr/bin/env bash
# A fresh test database with the five modules installed (no demo data: tests make their own),
# a check that installing them logs no warning from our code, then every test.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/modules.sh
TEST_DB=${TEST_DB:-isp_test}
mkdir -p artifacts

echo "[test] creating database $TEST_DB"
"${ODOO[@]}" db -c odoo.conf init "$TEST_DB" --country TZ --force >/dev/null
echo "[test] installing $ISP_MODULES"
"${ODOO[@]}" -c odoo.conf -d "$TEST_DB" -i "$ISP_MODULES" --stop-after-init \
    --log-level=info --logfile=artifacts/install.log
# Warnings or errors logged by our modules while installing fail the run.
if grep -E " (WARNING|ERROR|CRITICAL) .*odoo\.addons\.isp_" artifacts/install.log; then
    echo "[test] FAILED: the modules log warnings or errors on install (artifacts/install.log)"
    exit 1
fi
if grep -E " (ERROR|CRITICAL) " artifacts/install.log; then
    echo "[test] FAILED: errors while installing (artifacts/install.log)"
    exit 1
fi

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
