"""M-Pesa callback → fulfilled: throughput and p95 latency over loopback, against a separate
Odoo server with 2 workers (prefork), next to a bare Odoo public JSON route measured in the
same run and the same way.

Each callback is the one Safaricom sends for a pushed transaction (CallBackURL with its token,
then the STK status query to the loopback Daraja simulator, amount check against the
invoice-to-be, ``_process``, access: purchase and subscription); its response comes back once
the customer has access, so "callbacks per second" are fulfilments per second. The invoice,
the payment (with the receipt number) and the reconciliation are issued by the transactions'
post-processing, in Odoo's post-processing cron (``payment.cron_post_process_payment_tx``),
triggered by each callback and run by the server's cron worker meanwhile (it shares the 2
cores): the bench also reports how long after the last callback every invoice was paid and
reconciled.

Self-contained: ``.venv/bin/python bench/bench_mpesa.py [--db isp_bench] [--count 100]
[--clients 4] [--cron-workers 1]`` (``--cron-workers 0``: the callbacks measured alone, the
post-processing cron run afterwards in this process). The database is created (``--country TZ``)
and dropped when it does not exist; isp_mpesa, isp_sms and isp_mikrotik (whose hooks every
callback runs: confirmation SMS, router sync) are installed into it when missing. The fixture
is a company of its own, committed, its provider disabled at the end. Prints figures, never
fails (exit 0). Targets on 2 cores: >= 25 callbacks/s, p95 <= 300 ms.

Timings depend on what else the machine runs; these figures do not (much): before the server
starts, ``--in-process`` (default 13) callbacks are served through Odoo's WSGI application in
this process (3 to warm up): SQL queries and CPU ms (this thread) per callback, then the
post-processing cron on their transactions, queries and CPU ms per purchase invoiced; during
the run, the CPU ms per request of the server's HTTP workers, of its cron worker, of the
database backends, of the bench's client threads and of the simulator, and the throughput 2
idle cores would give at that cost. ``BENCH_PROFILE=1`` adds cProfiles of 5 more callbacks
and of the cron.
"""

import os
import statistics
import sys
import threading
import time
import traceback
import uuid

from common import (
    ROOT,
    drop_database,
    ensure_database,
    fire,
    maybe_profile,
    parse_args,
    print_table,
    record_queries,
    top_queries,
    verdict,
    write_results,
)

# the callback runs the hooks of the whole suite: SMS confirmation and router sync
MODULES = ("isp_mpesa", "isp_sms", "isp_mikrotik")
TARGET_RATE = 25.0
# callbacks profiled (with --profile) after the ones measured in-process
PROFILED = 5
TARGET_P95_MS = 300.0
# unmeasured callbacks per worker before the measured ones (a worker's first callbacks fill
# its caches: ~4 ms more CPU per callback over a run of 100 than over a run of 300)
WARM_CALLBACKS_PER_WORKER = 5


BENCH_SECRETS = {
    "consumer_key": "bench-key",
    "consumer_secret": "bench-secret",
    "passkey": "bench-passkey",
    "sms_username": "bench",
    "sms_api_key": "bench-sms-key",
}


def fixture(odoo, registry, sim_url, server_url, count, sms_url=None):
    """A Kenyan company, a bundle, an M-Pesa provider on the simulator, an Africa's Talking
    SMS gateway on its simulator at ``sms_url`` (the customers' SMS are sent, as in
    production, by the server's cron worker), and ``count`` pushed (pending) transactions.
    Returns (provider id, [(tx id, checkout, token)])."""
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
        if sms_url:
            env["res.company"].browse(company_id).isp_sms_gateway_id = env[
                "isp.sms.gateway"
            ].create(
                {
                    "name": f"Bench SMS {tag}",
                    "provider": "africastalking",
                    "sender_id": "KITONGA",
                    "at_username": BENCH_SECRETS["sms_username"],
                    "at_api_key": BENCH_SECRETS["sms_api_key"],
                    "at_base_url": sms_url,
                    "timeout": 10,
                    "company_id": company_id,
                }
            )
        # the callbacks come within the run: the lost-callback poll (which would ask the
        # simulator about every pushed transaction meanwhile) is not part of what is measured
        provider.isp_poll_after = 3600
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
        # pending transactions post-processed as the customer's payment status page does (Odoo's
        # post-processing cron would otherwise flag them all at its first run, in the measures)
        txs._post_process()
        return provider.id, rows


def wait_invoiced(odoo, registry, tx_ids, timeout=300):
    """Wait for the post-processing cron to pay every fulfilled transaction's invoice. Returns
    (fulfilled, invoices paid and reconciled with the receipt on the payment, seconds waited
    after the last callback or None when not all were within ``timeout``)."""
    start = time.perf_counter()
    while True:
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            txs = env["payment.transaction"].browse(tx_ids)
            fulfilled = txs.filtered("isp_purchase_id")
            paid = fulfilled.filtered(
                lambda tx: tx.isp_purchase_id.invoice_id.payment_state == "paid"
                and tx.provider_reference in (tx.payment_id.memo or "")
                and all(
                    line.reconciled
                    for line in tx.isp_purchase_id.invoice_id.line_ids
                    if line.display_type == "payment_term"
                )
            )
        waited = round(time.perf_counter() - start, 1)
        if len(paid) == len(fulfilled):
            return len(fulfilled), len(paid), waited
        if waited > timeout:
            return len(fulfilled), len(paid), None
        time.sleep(0.5)


def serve_in_process(db, url, body):
    """POST ``body`` to ``url`` through Odoo's WSGI application in this thread: the code path
    of a worker without the network. Returns (HTTP status, thread CPU ms, SQL queries)."""
    from werkzeug.test import Client  # noqa: PLC0415

    from odoo.http import root  # noqa: PLC0415

    path = "/" + url.split("/", 3)[3]
    thread = threading.current_thread()
    start = time.thread_time()
    response = Client(root).post(
        path,
        json=body,
        headers={"X-Odoo-Database": db},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    )
    cpu_ms = (time.thread_time() - start) * 1000
    return response.status_code, cpu_ms, getattr(thread, "query_count", 0)


def measure_in_process(odoo, registry, args, bare, calls, warm=3):
    """Load-independent figures of one callback, before the server starts: SQL queries and
    CPU ms (this thread only: the Daraja simulator answering the status query runs in another
    thread) per callback and per bare route call, median of the measured calls after ``warm``
    unmeasured ones (caches, templates), with the callbacks' normalized queries; then Odoo's
    post-processing cron run here on the transactions those callbacks confirmed (invoice,
    payment, reconciliation; one commit per transaction): queries and CPU ms per purchase
    invoiced. ``--profile`` writes cProfiles of ``PROFILED`` more callbacks and of the cron."""
    for _i in range(warm):
        serve_in_process(args.db, *bare)
    bare_runs = [serve_in_process(args.db, *bare) for _i in range(10)]
    profiled = PROFILED if args.profile else 0
    for call in calls[:warm]:
        serve_in_process(args.db, *call)
    with record_queries() as counter:
        runs = [serve_in_process(args.db, *call) for call in calls[warm : len(calls) - profiled]]
    if profiled:  # profiled apart: cProfile slows what it measures
        with maybe_profile(True, "mpesa_callback"):
            for call in calls[len(calls) - profiled :]:
                serve_in_process(args.db, *call)
    measured = len(runs)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        # the in-process callbacks' purchases (and any other still to invoice)
        purchases = env["isp.purchase"].search_count([("invoice_status", "=", "to_invoice")])
        thread = threading.current_thread()
        thread.query_count = 0
        start = time.thread_time()
        with maybe_profile(args.profile, "mpesa_invoicing"):
            env["payment.transaction"]._cron_post_process()
        job_ms = (time.thread_time() - start) * 1000
        job_queries = thread.query_count
        invoiced = purchases - env["isp.purchase"].search_count(
            [("invoice_status", "=", "to_invoice")]
        )
    return {
        "callbacks_measured": measured,
        "callback_statuses": sorted({status for status, _cpu, _q in runs}),
        "callback_queries": statistics.median(q for _s, _c, q in runs),
        "callback_cpu_ms": round(statistics.median(c for _s, c, _q in runs), 1),
        "bare_queries": statistics.median(q for _s, _c, q in bare_runs),
        "bare_cpu_ms": round(statistics.median(c for _s, c, _q in bare_runs), 1),
        "invoiced_in_process": invoiced,
        "invoicing_queries_per_purchase": round(job_queries / max(invoiced, 1), 1),
        # with --profile, slowed by cProfile
        "invoicing_cpu_ms_per_purchase": round(job_ms / max(invoiced, 1), 1),
        "top_queries": top_queries(counter, limit=25),
    }


def process_cpu_seconds(pid):
    """(HTTP, cron) user + system CPU seconds of the Odoo server ``pid`` and its children:
    the cron workers are the ones Odoo runs niced (``os.nice(10)``), the rest serve HTTP
    (workers, master, gevent). Reaped workers count in the master's children times."""
    import psutil  # noqa: PLC0415

    http = cron = 0.0
    try:
        master = psutil.Process(pid)
        times = master.cpu_times()
        http += times.user + times.system + times.children_user + times.children_system
        for proc in master.children(recursive=True):
            try:
                times = proc.cpu_times()
                used = times.user + times.system
                if proc.nice() > master.nice():
                    cron += used
                else:
                    http += used
            except psutil.Error:
                continue
    except psutil.Error:
        pass
    return http, cron


def db_cpu_seconds(dbname):
    """User + system CPU seconds of the PostgreSQL backends connected to ``dbname`` (the
    server's pooled connections; short-lived connections are missed), plus the WAL writer
    (commits)."""
    import psutil  # noqa: PLC0415

    total = 0.0
    for proc in psutil.process_iter(["cmdline"]):
        title = " ".join(proc.info["cmdline"] or [])
        if not title.startswith("postgres:"):
            continue
        if f" {dbname} " in title or title.endswith("walwriter"):
            try:
                times = proc.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
    return total


def p95(values):
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 2 else values[0]


def main():
    args = parse_args(
        __doc__.splitlines()[0],
        count=100,
        clients=4,
        workers=2,
        cron_workers=1,
        in_process=13,
    )
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
    created = ensure_database(args, MODULES, "bench_mpesa")
    from odoo.modules.registry import Registry  # noqa: PLC0415

    from odoo.addons.isp_mpesa.tests.common import retire_committed_provider  # noqa: PLC0415
    from odoo.addons.isp_mpesa.tests.server import OdooServer  # noqa: PLC0415
    from odoo.addons.isp_mpesa.tests.simulators import DarajaSimulator  # noqa: PLC0415

    registry = Registry(args.db)
    sim = DarajaSimulator(
        consumer_key=BENCH_SECRETS["consumer_key"],
        consumer_secret=BENCH_SECRETS["consumer_secret"],
        passkey=BENCH_SECRETS["passkey"],
        send_callbacks=False,
    ).start()
    from odoo.addons.isp_sms.tests.simulators import AfricasTalkingSimulator  # noqa: PLC0415

    sms_sim = AfricasTalkingSimulator(
        username=BENCH_SECRETS["sms_username"],
        api_key=BENCH_SECRETS["sms_api_key"],
        senders={"KITONGA"},
    ).start()
    server = OdooServer(
        args.db,
        args.config,
        workers=args.workers,
        credential_key=key,
        cron_workers=args.cron_workers,
    )
    provider_id = None
    try:
        inproc = args.in_process if args.in_process > 3 else 0
        inproc += PROFILED if inproc and args.profile else 0
        # unmeasured callbacks once the server runs: each worker's caches (templates, SMS
        # rendering, ORM caches) warm, as the bare route's are before it is measured
        warm = args.workers * WARM_CALLBACKS_PER_WORKER
        print(f"  fixture: {args.count} + {inproc} + {warm} pushed transactions")
        provider_id, all_rows = fixture(
            odoo, registry, sim.url, server.url, args.count + inproc + warm, sms_sim.url
        )
        rows_in = all_rows[:inproc]
        rows_warm = all_rows[inproc : inproc + warm]
        rows = all_rows[inproc + warm :]
        bare_path = "/web/webclient/version_info"
        bare_body = {"jsonrpc": "2.0", "method": "call", "params": {}}

        def callbacks(base_url, some_rows):
            return [
                (f"{base_url}/payment/daraja/callback/{token}", sim.callback_body(checkout))
                for _tx, checkout, token in some_rows
            ]

        unit = None
        if inproc:
            print(f"  in-process: {inproc} callbacks through Odoo's WSGI application")
            unit = measure_in_process(
                odoo,
                registry,
                args,
                (server.url + bare_path, bare_body),
                callbacks(server.url, rows_in),
            )
        print(f"  starting Odoo with {args.workers} workers on {server.url}")
        server.start()
        server.warm_up()
        bare_url = server.url + bare_path
        fire([("POST", bare_url, bare_body)] * (args.workers * 4), args.clients)  # warm-up
        fire([("POST", *call) for call in callbacks(server.url, rows_warm)], args.clients)

        def cpu():
            return (
                time.process_time(),
                *process_cpu_seconds(server.process.pid),
                db_cpu_seconds(args.db),
            )

        cpu_before = cpu()
        bare = fire([("POST", bare_url, bare_body)] * args.count, args.clients)
        cpu_bare = cpu()
        cb = fire([("POST", *call) for call in callbacks(server.url, rows)], args.clients)
        cpu_cb = cpu()
        if not args.cron_workers:  # --cron-workers 0: callbacks alone, then the cron here
            with registry.cursor() as cr:
                odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})[
                    "payment.transaction"
                ]._cron_post_process()
        fulfilled, paid, drain = wait_invoiced(odoo, registry, [row[0] for row in rows])
        results = {}
        phases = (
            ("bare JSON route", bare, cpu_before, cpu_bare),
            ("M-Pesa callback", cb, cpu_bare, cpu_cb),
        )
        for name, (wall, lat, statuses, client_cpu), before, after in phases:
            results[name] = {
                "requests": len(lat),
                "ok": sum(1 for s in statuses if s == 200),
                "per_second": round(len(lat) / wall, 1),
                "p50_ms": round(statistics.median(lat), 1),
                "p95_ms": round(p95(lat), 1),
                # CPU per request: the Odoo server (workers + cron worker), the bench's client
                # threads, and the rest of this process (the Daraja simulator's answers)
                "server_cpu_ms": round((after[1] - before[1]) * 1000 / len(lat), 1),
                # the cron worker meanwhile (post-processing: invoices; SMS queue), per request
                "cron_cpu_ms": round((after[2] - before[2]) * 1000 / len(lat), 1),
                "db_cpu_ms": round((after[3] - before[3]) * 1000 / len(lat), 1),
                "client_cpu_ms": round(client_cpu * 1000 / len(lat), 1),
                "simulator_cpu_ms": round(
                    max(after[0] - before[0] - client_cpu, 0) * 1000 / len(lat), 1
                ),
                "client_core_share": round(client_cpu / wall, 2),
            }
            r = results[name]
            # the requests' own cost: HTTP workers, database, client, simulator (the cron
            # worker's is reported apart: it depends on how much it did meanwhile)
            machine_ms = r["server_cpu_ms"] + r["db_cpu_ms"] + r["client_cpu_ms"]
            machine_ms += r["simulator_cpu_ms"]
            # what 2 idle cores could serve, CPU-bound: a figure the machine's load does not
            # change (much)
            r["cpu_bound_per_second_2_cores"] = round(2000 / machine_ms, 1) if machine_ms else None
        rate = results["M-Pesa callback"]["per_second"]
        p95_ms = results["M-Pesa callback"]["p95_ms"]
        print_table(
            f"Callback → fulfilled over loopback, {args.workers} workers, {args.cron_workers}"
            f" cron worker(s), {args.clients} clients",
            [
                "route",
                "requests",
                "HTTP 200",
                "per s",
                "p50 ms",
                "p95 ms",
                "Odoo CPU ms/req",
                "cron CPU ms/req",
                "DB CPU ms/req",
                "client CPU ms/req",
                "sim CPU ms/req",
                "CPU-bound/s on 2 cores",
            ],
            [
                [
                    name,
                    r["requests"],
                    r["ok"],
                    r["per_second"],
                    r["p50_ms"],
                    r["p95_ms"],
                    r["server_cpu_ms"],
                    r["cron_cpu_ms"],
                    r["db_cpu_ms"],
                    r["client_cpu_ms"],
                    r["simulator_cpu_ms"],
                    r["cpu_bound_per_second_2_cores"],
                ]
                for name, r in results.items()
            ],
        )
        client_share = results["M-Pesa callback"]["client_core_share"]
        print(f"  bench client threads used {client_share:.0%} of one core during the callbacks")
        print(
            f"  fulfilled: {fulfilled}/{args.count}; invoices paid and reconciled, receipt on the"
            f" payment: {paid}/{fulfilled}, the last {drain} s after the last callback"
        )
        print(
            f"  SMS accepted by the gateway simulator (2 per new customer: login, payment"
            f" confirmation): {len(sms_sim.accepted)}"
        )
        if fulfilled < args.count:
            from collections import Counter  # noqa: PLC0415

            print(f"  callback statuses: {dict(Counter(cb[2]))}")
            print(server.tail(60))
        elif paid < fulfilled:  # what the server's cron worker said
            print(server.tail(60))
        ratio = round(rate / results["bare JSON route"]["per_second"], 3)
        if unit:
            print(
                f"  one callback (in-process, median of {unit['callbacks_measured']}, HTTP"
                f" {unit['callback_statuses']}): {unit['callback_queries']} queries,"
                f" {unit['callback_cpu_ms']} ms CPU; bare route: {unit['bare_queries']} queries,"
                f" {unit['bare_cpu_ms']} ms CPU; CPU ratio"
                f" {round(unit['callback_cpu_ms'] / max(unit['bare_cpu_ms'], 0.1), 1)}"
            )
            print(
                f"  post-processing cron (in-process, {unit['invoiced_in_process']} purchases):"
                f" {unit['invoicing_queries_per_purchase']} queries,"
                f" {unit['invoicing_cpu_ms_per_purchase']} ms CPU per purchase"
            )
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
                "cron_workers": args.cron_workers,
                "load_average": os.getloadavg(),
                "results": results,
                "per_callback_in_process": unit,
                "fulfilled": fulfilled,
                "paid_invoices": paid,
                "sms_accepted": len(sms_sim.accepted),
                "invoiced_seconds_after_last_callback": drain,
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
        sms_sim.stop()
        if provider_id:
            # its credentials (and the SMS gateway's) are encrypted with this run's key
            retire_committed_provider(registry, provider_id)
            with registry.cursor() as cr:
                env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
                provider = env["payment.provider"].browse(provider_id)
                gateway = provider.company_id.isp_sms_gateway_id
                gateway.write({"at_api_key_encrypted": False, "active": False})
        if created:
            drop_database(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
