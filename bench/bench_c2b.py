"""M-Pesa Paybill / Till (C2B) confirmations → booked and matched: throughput and p95 latency
over loopback against a separate Odoo server with 2 workers (prefork), next to STK Push
callbacks (bench_mpesa's) measured in the same run, on the same server, the same way.

Each confirmation is the flat JSON M-Pesa posts to the URL registered (with the provider's
secret path token) on the strict Daraja simulator; its answer comes back once the receipt is
recorded (once per receipt) and the booking cron woken. The server's cron worker books each
in the provider's journal and matches it: half name a hotspot customer's account number with
a bundle's price (bundle bought: purchase, invoice reconciled with the payment), a quarter
another amount (customer credit), a quarter nobody (unmatched, for review). Every 20th
confirmation is delivered twice (M-Pesa repeats them): the repeat answers Success and books
nothing. The bench reports how long after the last confirmation every receipt was booked,
and the rate of receipts booked from the first confirmation to the last booking.

Self-contained: ``.venv/bin/python bench/bench_c2b.py [--db isp_bench] [--confirmations 10000]
[--callbacks 200] [--clients 4]``. The database is created and dropped when it does not exist
(modules as bench_mpesa). Prints figures, never fails (exit 0). Target: confirmations per
second >= the STK callbacks' rate of the same run.
"""

import os
import statistics
import time
import traceback
import uuid

from bench_mpesa import BENCH_SECRETS, MODULES, p95
from bench_mpesa import fixture as stk_fixture
from common import (
    ROOT,
    drop_database,
    ensure_database,
    fire,
    parse_args,
    print_table,
    verdict,
    write_results,
)

SHORTCODE = "600300"
CUSTOMERS = 500
# the bookings still waiting after this long are reported as such
DRAIN_TIMEOUT = 600


def c2b_fixture(odoo, registry, sim, server_url):
    """A Kenyan company with a provider receiving C2B on ``SHORTCODE`` (URLs registered on
    the simulator) and ``CUSTOMERS`` hotspot customers. Returns (provider id, account
    numbers)."""
    from odoo.addons.isp_mpesa.tests.common import (  # noqa: PLC0415
        create_committed_daraja_setup,
    )

    tag = uuid.uuid4().hex[:8]
    company_id, _bundle_id, provider_id = create_committed_daraja_setup(
        registry, f"Bench C2B {tag}", sim.url, server_url, BENCH_SECRETS
    )
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {"allowed_company_ids": [company_id]})
        provider = env["payment.provider"].browse(provider_id)
        provider.write({"daraja_c2b_shortcode": SHORTCODE, "daraja_c2b_validation": True})
        action = provider.action_daraja_c2b_register()
        if action["params"]["type"] != "success":
            raise RuntimeError(action["params"]["message"])
        customers = env["res.partner"].create(
            [
                {
                    "name": f"Bench payer {n}",
                    "phone": f"+2547{n // 1000 % 100:02d}{n % 1000:03d}999",
                    "is_isp_customer": True,
                    "company_id": company_id,
                }
                for n in range(CUSTOMERS)
            ]
        )
        return provider_id, customers.mapped("isp_account_number")


def bodies(sim, accounts, count, tag):
    """``count`` confirmations (and the repeats of every 20th), as M-Pesa posts them."""
    result = []
    for n in range(count):
        kind = n % 4
        body = sim.c2b_body(
            trans_id=f"B{tag}{n:06d}",
            amount="50.00" if kind < 2 else ("75.00" if kind == 2 else "120.00"),
            bill_ref=accounts[n % len(accounts)] if kind < 3 else f"unknown {n}",
        )
        result.append(body)
        if n % 20 == 19:
            result.append(body)
    return result


def summary(name, wall, lat, statuses):
    return {
        "requests": len(lat),
        "ok": sum(1 for s in statuses if s == 200),
        "per_second": round(len(lat) / wall, 1),
        "p50_ms": round(statistics.median(lat), 1),
        "p95_ms": round(p95(lat), 1),
    }


def main():
    args = parse_args(
        __doc__.splitlines()[0], confirmations=10000, callbacks=200, clients=4, workers=2
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
    created = ensure_database(args, MODULES, "bench_c2b")
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
        c2b_shortcodes={SHORTCODE},
    ).start()
    # one cron worker, as bench_mpesa: the STK callbacks' invoicing and the C2B bookings
    server = OdooServer(
        args.db, args.config, workers=args.workers, credential_key=key, cron_workers=1
    )
    providers = []
    try:
        tag = uuid.uuid4().hex[:6].upper()
        warm = args.workers * 5
        print(f"  fixture: {args.callbacks} + {warm} pushed transactions, {CUSTOMERS} payers")
        stk_provider, stk_rows = stk_fixture(
            odoo, registry, sim.url, server.url, args.callbacks + warm
        )
        providers.append(stk_provider)
        c2b_provider, accounts = c2b_fixture(odoo, registry, sim, server.url)
        providers.append(c2b_provider)
        registration = sim.c2b_registrations[SHORTCODE]
        url = registration["ConfirmationURL"]
        confirmations = bodies(sim, accounts, args.confirmations, tag)
        warm_bodies = bodies(sim, accounts, warm, f"W{tag}")
        print(f"  starting Odoo with {args.workers} workers on {server.url}")
        server.start()
        server.warm_up()

        def callbacks(rows):
            return [
                ("POST", f"{server.url}/payment/daraja/callback/{token}", sim.callback_body(c))
                for _tx, c, token in rows
            ]

        fire(callbacks(stk_rows[:warm]), args.clients)
        fire([("POST", url, body) for body in warm_bodies], args.clients)
        stk = fire(callbacks(stk_rows[warm:]), args.clients)
        c2b = fire([("POST", url, body) for body in confirmations], args.clients)
        results = {
            "STK callback": summary("STK callback", *stk[:3]),
            "C2B confirmation": summary("C2B confirmation", *c2b[:3]),
        }
        drain_start = time.perf_counter()
        while True:
            with registry.cursor() as cr:
                env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
                rows = env["isp.mpesa.c2b"].search([("trans_id", "=like", f"B{tag}%")])
                states = dict.fromkeys(("bundle", "credit", "unmatched", "draft", "invoice"), 0)
                for state in rows.mapped("state"):
                    states[state] = states.get(state, 0) + 1
                payments = env["account.payment"].search_count([("memo", "=like", f"B{tag}%")])
            drain = round(time.perf_counter() - drain_start, 1)
            if not states["draft"] or drain > DRAIN_TIMEOUT:
                break
            time.sleep(1)
        booked_rate = round(len(rows) / (c2b[0] + drain), 1)
        print_table(
            f"Over loopback, {args.workers} workers, {args.clients} clients",
            ["route", "requests", "HTTP 200", "per s", "p50 ms", "p95 ms"],
            [
                [name, r["requests"], r["ok"], r["per_second"], r["p50_ms"], r["p95_ms"]]
                for name, r in results.items()
            ],
        )
        booked_ok = len(rows) == payments == args.confirmations
        print(
            f"  recorded {len(rows)}/{args.confirmations} receipts, {payments} payments"
            f" ({'each once' if booked_ok else 'MISMATCH'}): {states}"
        )
        print(
            f"  {len(rows) - states['draft']} booked {drain} s after the last confirmation"
            f" ({states['draft']} still to book): {booked_rate} receipts booked per second"
            " from the first confirmation to the last booking"
        )
        rate = results["C2B confirmation"]["per_second"]
        target = results["STK callback"]["per_second"]
        ratio = round(rate / target, 2) if target else None
        print(
            f"  confirmations / STK callbacks throughput: {ratio}"
            f" (target >= 1): {verdict(bool(ratio) and ratio >= 1)}"
        )
        write_results(
            "c2b",
            {
                "confirmations": args.confirmations,
                "clients": args.clients,
                "workers": args.workers,
                "load_average": os.getloadavg(),
                "results": results,
                "states": states,
                "booked_seconds_after_last_confirmation": drain,
                "booked_per_second": booked_rate,
                "payments": payments,
                "ratio_c2b_vs_stk_callbacks": ratio,
            },
        )
    except Exception:  # noqa: BLE001 - a benchmark prints, never fails the build
        traceback.print_exc()
        print("  bench_c2b stopped with an error: no figures")
        if server.process:
            print(server.tail())
    finally:
        server.stop()
        sim.stop()
        for provider_id in providers:
            retire_committed_provider(registry, provider_id)
        if created:
            drop_database(args)


if __name__ == "__main__":
    main()
