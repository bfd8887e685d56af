#!/usr/bin/env bash
# Benchmarks (`make bench`): a fresh database with isp_billing, then each benchmark in-process.
# They print figures, ratios against a baseline measured in the same run and "target met" /
# "target MISSED"; they never fail the build (exit 0 unless the setup itself fails).
# Figures also go to bench/results/<name>.json (gitignored).
# Environment:
#   BENCH_DB       database name (default isp_bench; the expiry bench also uses <name>_large)
#   KEEP_DB=1      keep the databases afterwards
#   BENCH_REPEAT   repetitions per measurement (default 3, median reported)
#   BENCH_DUE / BENCH_TOTAL   expiry sweep sizes (default 10000 among 100000)
#   BENCH_COUNT    fulfilments (and plain invoices) in all (default 200)
#   BENCH_SUBSCRIPTIONS / BENCH_PAYMENTS   dashboard dataset (default 100000 / 200000)
#   BENCH_CONFIRMATIONS   M-Pesa Paybill / Till confirmations (default 10000)
#   BENCH_SESSIONS / BENCH_ROUNDS   RADIUS accounting: sessions x interim rounds (default 10000 x 10)
#   BENCH_RADIUS_USERS / BENCH_RADIUS_REQUESTS   RADIUS authorization: subscriptions, Access-Requests
#                  per repetition (default 100000 / 1000; bench_radius_auth, its own database)
#   BENCH_PROFILE=1  also write cProfile dumps to bench/results/
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/modules.sh
BENCH_DB=${BENCH_DB:-isp_bench}
export BENCH_DB
mkdir -p bench/results

say() { printf '[bench] %s\n' "$*"; }

cleanup() {
    if [ "${KEEP_DB:-0}" != 1 ]; then
        for db in "$BENCH_DB" "${BENCH_DB}_large"; do
            drop_db "$db"
        done
    else
        say "kept databases $BENCH_DB and ${BENCH_DB}_large (KEEP_DB=1)"
    fi
}
trap cleanup EXIT

start=$SECONDS
say "creating database $BENCH_DB with isp_billing (no demo data)"
drop_db "$BENCH_DB"
if ! "${ODOO[@]}" db -c odoo.conf init "$BENCH_DB" --country TZ >/dev/null 2>bench/results/install.log \
    || ! "${ODOO[@]}" -c odoo.conf -d "$BENCH_DB" -i isp_billing --stop-after-init \
        --log-level=warn >>bench/results/install.log 2>&1; then
    say "could not create the database (see bench/results/install.log); no figures"
    exit 0
fi
say "database ready in $((SECONDS - start)) s"

failed=()
for bench in bench_expiry bench_fulfilment bench_sms bench_mpesa bench_c2b bench_voucher bench_hotspot bench_dashboard bench_radius_accounting; do
    say "running $bench"
    t0=$SECONDS
    if ! .venv/bin/python "bench/$bench.py" --db "$BENCH_DB"; then
        failed+=("$bench")
        say "$bench stopped with an error (no figures from it)"
    fi
    say "$bench took $((SECONDS - t0)) s"
done
# Self-contained benchmarks of the other modules: each makes (and drops) its own database.
for bench in bench_mikrotik bench_radius_auth; do
    say "running $bench"
    t0=$SECONDS
    if ! .venv/bin/python "bench/$bench.py" --config odoo.conf; then
        failed+=("$bench")
        say "$bench stopped with an error (no figures from it)"
    fi
    say "$bench took $((SECONDS - t0)) s"
done
say "total $((SECONDS - start)) s${failed:+; errors in: ${failed[*]}}"
exit 0
