"""M-Pesa callback → fulfilled: throughput and p95 latency over loopback, against a separate
Odoo server with 2 workers (prefork), next to a bare Odoo public JSON route measured in the
same run and the same way.

Each callback is the one Safaricom sends for a pushed transaction (CallBackURL with its token,
then the STK status query to the loopback Daraja simulator, amount check, ``_process``,
fulfilment: subscription, invoice, payment, reconciliation); its response comes back once the
transaction is fulfilled, so "callbacks per second" are fulfilments per second.

Self-contained: ``.venv/bin/python bench/bench_mpesa.py [--db isp_bench] [--count 100]
[--clients 4]``. The database is created (``--country TZ``) and dropped when it does not
exist; isp_mpesa is installed into it when missing. The fixture is a company of its own,
committed, its provider disabled at the end. Prints figures, never fails (exit 0).
Targets on 2 cores: >= 25 callbacks/s, p95 <= 300 ms.
"""

import os
import statistics
import subprocess
import sys
import threading
import time
import traceback
import uuid

from common import ROOT, parse_args, print_table, verdict, write_results

TARGET_RATE = 25.0
TARGET_P95_MS = 300.0


def run(cmd, log):
    with open(log, "a") as out:
        return subprocess.run(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT).returncode  # noqa: S603


def ensure_database(args):
    """Create the database and install isp_mpesa when needed. Returns True if created."""
    odoo = [sys.executable, "-m", "odoo"]
    log = ROOT / "bench" / "results" / "bench_mpesa_install.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    import psycopg2  # noqa: PLC0415

    from odoo.sql_db import connection_info_for  # noqa: PLC0415

    _name, params = connection_info_for("postgres")
    cnx = psycopg2.connect(**params)
    try:
        with cnx.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.db])
            exists = bool(cur.fetchone())
    finally:
        cnx.close()
    created = False
    if not exists:
        print(f"  creating database {args.db}")
        if run([*odoo, "db", "-c", args.config, "init", args.db, "--country", "TZ"], log):
            raise RuntimeError(f"could not create {args.db} (see {log})")
        created = True
    cnx = psycopg2.connect(**dict(params, database=args.db))
    try:
        with cnx.cursor() as cur:
            cur.execute("SELECT state FROM ir_module_module WHERE name = 'isp_mpesa'")
            row = cur.fetchone()
    finally:
        cnx.close()
    if not row or row[0] != "installed":
        print(f"  installing isp_mpesa into {args.db}")
        cmd = [*odoo, "-c", args.config, "-d", args.db, "-i", "isp_mpesa", "--stop-after-init"]
        if run([*cmd, "--log-level=warn"], log):
            raise RuntimeError(f"could not install isp_mpesa (see {log})")
    return created


def drop_database(args):
    """In-process (``odoo db drop`` only sees the databases odoo.conf's dbfilter allows)."""
    from odoo.service import db  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    config["list_db"] = True  # database management is off in odoo.conf (list_db = False)
    if db.exp_drop(args.db):
        print(f"  dropped database {args.db}")


BENCH_SECRETS = {
    "consumer_key": "bench-key",
    "consumer_secret": "bench-secret",
    "passkey": "bench-passkey",
}


def fixture(odoo, registry, sim_url, server_url, count):
    """A Kenyan company, a bundle, an M-Pesa provider on the simulator, and ``count``
    pushed (pending) transactions. Returns (provider id, [(tx id, checkout, token)])."""
    from odoo.addons.isp_mpesa.tests.common import (  # noqa: PLC0415
        create_committed_daraja_setup,
    )

    tag = uuid.uuid4().hex[:8]
    company_id, bundle_id, provider_id = create_committed_daraja_setup(
        registry, f"Bench M-Pesa {tag}", sim_url, server_url, BENCH_SECRETS
    )
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"allowed_company_ids": [company_id]})
        provider = env["payment.provider"].browse(provider_id)
        method = env.ref("payment.payment_method_mpesa")
        kes = env.ref("base.KES")
        txs = env["payment.transaction"].create(
            [
                {
                    "provider_id": provider.id,
                    "payment_method_id": method.id,
                    "reference": f"BENCH-{tag}-{n:05d}",
                    "amount": 50,
                    "currency_id": kes.id,
                    "partner_id": env.ref("base.public_partner").id,
                    "operation": "online_direct",
                    "isp_bundle_id": bundle_id,
                }
                for n in range(count)
            ]
        )
        rows = []
        for n, tx in enumerate(txs):
            tx._isp_send_push(f"07{n // 10000 % 100:02d}{n % 10000:04d}00"[:10])
            if tx.state != "pending":
                raise RuntimeError(f"push failed: {tx.state_message}")
            rows.append((tx.id, tx.daraja_checkout_request_id, tx._daraja_callback_token()))
        return provider.id, rows


def fire(requests_list, clients):
    """POST each (url, json) with ``clients`` threads; returns (wall seconds, latencies ms,
    status codes)."""
    import requests  # noqa: PLC0415

    latencies, statuses = [], []
    lock = threading.Lock()
    queue = list(reversed(requests_list))

    def worker():
        session = requests.Session()
        while True:
            with lock:
                if not queue:
                    return
                url, body = queue.pop()
            start = time.perf_counter()
            try:
                status = session.post(url, json=body, timeout=120).status_code
            except requests.RequestException:
                status = -1
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                latencies.append(elapsed)
                statuses.append(status)

    threads = [threading.Thread(target=worker) for _i in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, latencies, statuses


def p95(values):
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def main():
    args = parse_args(__doc__.splitlines()[0], count=100, clients=4, workers=2)
    os.chdir(ROOT)
    import odoo  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config(
        ["-c", args.config, "-d", args.db, "--log-level=warn", "--db-filter=.*"],
        setup_logging=True,
    )
    from cryptography.fernet import Fernet  # noqa: PLC0415

    key = config.get("isp_credential_key") or os.environ.get("ISP_CREDENTIAL_KEY")
    key = key or Fernet.generate_key().decode()
    config["isp_credential_key"] = key
    created = ensure_database(args)
    from odoo.modules.registry import Registry  # noqa: PLC0415

    from odoo.addons.isp_mpesa.tests.server import OdooServer  # noqa: PLC0415
    from odoo.addons.isp_mpesa.tests.simulators import DarajaSimulator  # noqa: PLC0415

    registry = Registry(args.db)
    sim = DarajaSimulator(
        consumer_key=BENCH_SECRETS["consumer_key"],
        consumer_secret=BENCH_SECRETS["consumer_secret"],
        passkey=BENCH_SECRETS["passkey"],
        send_callbacks=False,
    ).start()
    server = OdooServer(args.db, args.config, workers=args.workers, credential_key=key)
    provider_id = None
    try:
        print(f"  fixture: {args.count} pushed transactions")
        provider_id, rows = fixture(odoo, registry, sim.url, server.url, args.count)
        print(f"  starting Odoo with {args.workers} workers on {server.url}")
        server.start()
        server.warm_up()
        bare_url = f"{server.url}/web/webclient/version_info"
        bare_body = {"jsonrpc": "2.0", "method": "call", "params": {}}
        fire([(bare_url, bare_body)] * (args.workers * 4), args.clients)  # warm-up
        bare = fire([(bare_url, bare_body)] * args.count, args.clients)
        calls = [
            (f"{server.url}/payment/daraja/callback/{token}", sim.callback_body(checkout))
            for _tx, checkout, token in rows
        ]
        cb = fire(calls, args.clients)
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            txs = env["payment.transaction"].browse([row[0] for row in rows])
            fulfilled = len(txs.filtered("isp_purchase_id"))
            paid = len(txs.isp_purchase_id.invoice_id.filtered(lambda m: m.payment_state == "paid"))
        results = {}
        for name, (wall, lat, statuses) in (("bare JSON route", bare), ("M-Pesa callback", cb)):
            results[name] = {
                "requests": len(lat),
                "ok": sum(1 for s in statuses if s == 200),
                "per_second": round(len(lat) / wall, 1),
                "p50_ms": round(statistics.median(lat), 1),
                "p95_ms": round(p95(lat), 1),
            }
        rate = results["M-Pesa callback"]["per_second"]
        p95_ms = results["M-Pesa callback"]["p95_ms"]
        print_table(
            f"Callback → fulfilled over loopback, {args.workers} workers, {args.clients} clients",
            ["route", "requests", "HTTP 200", "per s", "p50 ms", "p95 ms"],
            [
                [name, r["requests"], r["ok"], r["per_second"], r["p50_ms"], r["p95_ms"]]
                for name, r in results.items()
            ],
        )
        print(f"  fulfilled: {fulfilled}/{args.count}, invoices paid: {paid}")
        if fulfilled < args.count:
            from collections import Counter  # noqa: PLC0415

            print(f"  callback statuses: {dict(Counter(cb[2]))}")
            print(server.tail(60))
        ratio = round(rate / results["bare JSON route"]["per_second"], 3)
        print(f"  callback / bare route throughput: {ratio}")
        print(
            f"  throughput {rate}/s (target >= {TARGET_RATE}): {verdict(rate >= TARGET_RATE)}; "
            f"p95 {p95_ms} ms (target <= {TARGET_P95_MS}): {verdict(p95_ms <= TARGET_P95_MS)}"
        )
        write_results(
            "mpesa",
            {
                "count": args.count,
                "clients": args.clients,
                "workers": args.workers,
                "results": results,
                "fulfilled": fulfilled,
                "paid_invoices": paid,
                "ratio_callback_vs_bare": ratio,
                "targets": {"per_second": TARGET_RATE, "p95_ms": TARGET_P95_MS},
            },
        )
    except Exception:  # noqa: BLE001 - a benchmark prints, never fails the build
        traceback.print_exc()
        print("  bench_mpesa stopped with an error: no figures")
        if server.process:
            print(server.tail())
    finally:
        server.stop()
        sim.stop()
        if provider_id:
            with registry.cursor() as cr:
                env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
                env["payment.provider"].browse(provider_id).state = "disabled"
        if created:
            drop_database(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
