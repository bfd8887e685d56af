"""SMS reminders: COUNT expiry reminders queued by the reminders cron, then sent by Odoo's SMS
queue to a loopback NextSMS simulator; figures next to the simulator's raw rate (the same
messages POSTed straight to it in batches of the gateway's size) measured in the same run.

Self-contained: installs isp_sms into --db when missing (a subprocess), starts the simulator
(addons/isp_sms/tests/simulators.py), creates a gateway, a template customer and subscription
through the ORM and COUNT copies with SQL (subscriptions expiring in 30 minutes, started a day
ago: each due for its hotspot reminder), measures, then rolls everything back: nothing is
committed (``_commit_progress`` is replaced by a no-op). Prints, never fails.

    .venv/bin/python bench/bench_sms.py --db isp_bench [--count 10000] [--repeat 1]
"""

import importlib.util
import os
import subprocess
import sys
import time
from unittest.mock import patch

from common import (
    ROOT,
    Clock,
    clone_rows,
    make_template_subscription,
    maybe_profile,
    new_env,
    open_registry,
    parse_args,
    print_table,
    write_results,
)


def load_simulators():
    path = ROOT / "addons" / "isp_sms" / "tests" / "simulators.py"
    spec = importlib.util.spec_from_file_location("isp_sms_simulators", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ensure_installed(args):
    import psycopg2  # noqa: PLC0415

    from odoo.sql_db import connection_info_for  # noqa: PLC0415

    _name, params = connection_info_for(args.db)
    try:
        cnx = psycopg2.connect(**params)
    except psycopg2.Error as exc:
        print(f"bench_sms: cannot open database {args.db} ({exc}); no figures")
        return False
    try:
        with cnx.cursor() as cur:
            cur.execute("SELECT state FROM ir_module_module WHERE name = 'isp_sms'")
            row = cur.fetchone()
    finally:
        cnx.close()
    if row and row[0] == "installed":
        return True
    print(f"bench_sms: installing isp_sms into {args.db}")
    result = subprocess.run(
        [sys.executable, "-m", "odoo", "-c", args.config, "-d", args.db, "-i", "isp_sms"]
        + ["--stop-after-init", "--log-level=warn"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        print(f"bench_sms: could not install isp_sms:\n{result.stderr[-2000:]}")
        return False
    return True


def setup(env, sim, count):
    from cryptography.fernet import Fernet  # noqa: PLC0415

    from odoo.tools import SQL, config  # noqa: PLC0415

    if not config.get("isp_credential_key"):
        config["isp_credential_key"] = Fernet.generate_key().decode()
    company = env.company
    gateway = env["isp.sms.gateway"].create(
        {
            "name": "Bench NextSMS",
            "provider": "nextsms",
            "sender_id": "KITONGA",
            "nextsms_username": sim.username,
            "nextsms_password": sim.password,
            "nextsms_base_url": sim.url,
            "timeout": 30,
            "batch_size": 100,
        }
    )
    company.isp_sms_gateway_id = gateway
    company.isp_reminder_hotspot_hours = 2
    bundle, partner, subscription = make_template_subscription(
        env, "Bench SMS Daily", "+255799999998"
    )
    # an old expired state, so that the template itself is not due
    subscription.write({"state": "active"})
    subscription.write({"state": "expired"})
    # the template's own SMS (login, expiry) are not part of the measure
    env["sms.sms"].search([("state", "=", "outgoing")]).unlink()
    env.flush_all()
    cr = env.cr
    now = SQL("(now() AT TIME ZONE 'UTC')")
    numbers = SQL("generate_series(1, %s) AS g(n)", count)
    partner_ids = clone_rows(
        cr,
        "res_partner",
        partner.id,
        numbers,
        {
            "name": SQL("'Bench SMS customer ' || g.n"),
            "complete_name": SQL("'Bench SMS customer ' || g.n"),
            "phone": SQL("'+2556' || lpad(g.n::text, 8, '0')"),
            "phone_sanitized": SQL("'+2556' || lpad(g.n::text, 8, '0')"),
            "commercial_partner_id": SQL("NULL"),
            "lang": SQL("CASE WHEN g.n %% 2 = 0 THEN 'en_US' ELSE t.lang END"),
        },
    )
    cr.execute(
        SQL("UPDATE res_partner SET commercial_partner_id = id WHERE id = ANY(%s)", partner_ids)
    )
    clone_rows(
        cr,
        "isp_subscription",
        subscription.id,
        SQL("unnest(%s::int[]) WITH ORDINALITY AS p(partner_id, n)", partner_ids),
        {
            "name": SQL("'BENCHSMS/' || lpad(p.n::text, 7, '0')"),
            "partner_id": SQL("p.partner_id"),
            "state": SQL("'active'"),
            "login": SQL("'benchsms' || p.n"),
            "date_start": SQL("%s - interval '1 day'", now),
            "date_expiry": SQL(
                "%s + interval '30 minutes' + (p.n %% 60) * interval '1 second'", now
            ),
        },
    )
    env.invalidate_all()
    return gateway


def raw_rate(sim, count, batch_size):
    """Messages per second the simulator takes when POSTed straight to, batch by batch."""
    import base64  # noqa: PLC0415

    import requests  # noqa: PLC0415

    token = base64.b64encode(f"{sim.username}:{sim.password}".encode()).decode()
    headers = {
        "Authorization": f"Basic {token}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    start = time.perf_counter()
    with requests.Session() as session:
        for first in range(0, count, batch_size):
            size = min(batch_size, count - first)
            payload = {
                "messages": [
                    {
                        "from": "KITONGA",
                        "to": f"2556{first + i:08d}",
                        "text": "Reminder: your internet access ends on 01/01/2030 10:00.",
                    }
                    for i in range(size)
                ]
            }
            response = session.post(sim.url + sim.MULTI, json=payload, headers=headers, timeout=30)
            response.raise_for_status()
    return time.perf_counter() - start


def measure(odoo, registry, sim, args):
    with registry.cursor() as cr:
        env = new_env(odoo, cr)
        IrCron = type(env["ir.cron"])
        try:
            with patch.object(IrCron, "_commit_progress", lambda *a, **k: 60.0):
                gateway = setup(env, sim, args.count)
                with Clock(cr) as queue_clock, maybe_profile(args.profile, "sms_queue"):
                    env["isp.subscription"]._cron_isp_sms_reminders()
                    env.flush_all()
                Sms = env["sms.sms"]
                queued = Sms.search_count([("state", "=", "outgoing")])
                with Clock(cr) as send_clock, maybe_profile(args.profile, "sms_send"):
                    for _i in range(args.count):
                        before = Sms.search_count([("state", "=", "outgoing")])
                        if not before:
                            break
                        Sms._process_queue()
                        env.flush_all()
                sent = len(sim.accepted)
                errors = Sms.search_count([("state", "=", "error")])
                raw_seconds = raw_rate(sim, args.count, gateway.batch_size)
        finally:
            cr.rollback()
    return {
        "count": args.count,
        "queued": queued,
        "queue_seconds": round(queue_clock.seconds, 2),
        "queue_queries": queue_clock.queries,
        "queue_per_s": round(queued / queue_clock.seconds, 1) if queue_clock.seconds else None,
        "sent": sent,
        "errors": errors,
        "send_seconds": round(send_clock.seconds, 2),
        "send_queries": send_clock.queries,
        "sends_per_s": round(sent / send_clock.seconds, 1) if send_clock.seconds else None,
        "simulator_raw_per_s": round(args.count / raw_seconds, 1) if raw_seconds else None,
    }


def main():
    args = parse_args(__doc__.splitlines()[0], count=10000)
    sims = load_simulators()
    try:
        os.chdir(ROOT)  # odoo.conf's paths are relative to the repository root
        from odoo.tools import config  # noqa: PLC0415

        config.parse_config(["-c", args.config, "-d", args.db, "--log-level=warn"])
        if not ensure_installed(args):
            return 0
        odoo, registry = open_registry(args)
        sim = sims.NextSmsSimulator(username="bench", password="bench-secret", senders={"KITONGA"})
        with sim:
            figures = measure(odoo, registry, sim, args)
    except Exception as exc:  # noqa: BLE001 - a benchmark reports, it never fails the build
        print(f"bench_sms: failed: {type(exc).__name__}: {exc}")
        return 0
    print_table(
        f"SMS reminders: {figures['count']} queued by the cron, sent to the NextSMS simulator",
        ["step", "messages", "seconds", "per second", "queries"],
        [
            [
                "queue (reminders cron)",
                figures["queued"],
                figures["queue_seconds"],
                figures["queue_per_s"],
                figures["queue_queries"],
            ],
            [
                "send (sms queue cron)",
                figures["sent"],
                figures["send_seconds"],
                figures["sends_per_s"],
                figures["send_queries"],
            ],
            [
                "simulator raw (direct POSTs)",
                figures["count"],
                "",
                figures["simulator_raw_per_s"],
                "",
            ],
        ],
    )
    if figures["simulator_raw_per_s"] and figures["sends_per_s"]:
        print(
            f"  Odoo sends at {figures['sends_per_s'] / figures['simulator_raw_per_s']:.0%} of "
            f"the simulator's raw rate; errors: {figures['errors']}"
        )
    write_results("sms", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
