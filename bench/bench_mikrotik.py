#!/usr/bin/env python3
"""Benchmark of isp_mikrotik's router reconciler against the RouterOS API simulator.

Self-contained: it makes (once) a database with isp_mikrotik installed, creates N active
hotspot subscriptions inside a transaction that is rolled back at the end, starts the
simulator on loopback and measures, in the same run:

- the suite's first sync of N users (the real path: queue job → one connection → diff → writes)
  and a no-change re-sync (must write nothing);
- a naive client doing one lookup and one call per user, for both.

Prints seconds and API sentences. Targets: first sync <= 15 s, re-sync <= 2 s with 0 writes.
Never fails the build: problems are printed and the exit status is 0.

Usage (from the repository root):
    .venv/bin/python bench/bench_mikrotik.py [--users 5000] [--database isp_bench_mikrotik]
        [--config odoo.conf] [--keep-database]
"""

import argparse
import os
import subprocess
import sys
import time
import traceback
from datetime import datetime, timedelta

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_FIRST = 15.0
TARGET_RESYNC = 2.0


def odoo_cmd(*args):
    return [sys.executable, "-m", "odoo", *args]


def ensure_database(config, database):
    """A database with isp_mikrotik installed (made when missing)."""
    check = subprocess.run(
        [
            "psql",
            "-h",
            os.environ.get("PGHOST", "127.0.0.1"),
            "-p",
            os.environ.get("PGPORT", "5432"),
            "-U",
            "odoo",
            "-d",
            database,
            "-tAc",
            "SELECT state FROM ir_module_module WHERE name = 'isp_mikrotik'",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PGPASSWORD": os.environ.get("PGPASSWORD", "odoo")},
        check=False,
        timeout=60,
    )
    if check.returncode == 0 and check.stdout.strip() == "installed":
        return
    print(f"[bench_mikrotik] preparing database {database} (once)...", flush=True)
    subprocess.run(
        odoo_cmd("db", "-c", config, "init", database, "--country", "TZ", "--force"),
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=1800,
    )
    subprocess.run(
        odoo_cmd(
            "-c",
            config,
            "-d",
            database,
            "-i",
            "isp_mikrotik",
            "--stop-after-init",
            "--log-level=warn",
        ),
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=1800,
    )


def make_subscriptions(env, count):
    """N active hotspot subscriptions of one bundle, made in bulk."""
    company = env.company
    bundle = env["product.template"].create(
        {
            "name": "Bench Daily",
            "is_isp_bundle": True,
            "isp_service_type": "hotspot",
            "list_price": 1000,
            "isp_duration_value": 1,
            "isp_duration_unit": "days",
            "isp_upload_kbps": 1024,
            "isp_download_kbps": 4096,
            "company_id": company.id,
        }
    )
    partners = env["res.partner"].create(
        [
            {
                "name": f"Bench {index}",
                "is_isp_customer": True,
                "company_id": company.id,
                "phone": f"+2557{index + 10000000:08d}"[:13],
            }
            for index in range(count)
        ]
    )
    subscriptions = env["isp.subscription"].create(
        [{"partner_id": p.id, "bundle_id": bundle.product_variant_id.id} for p in partners]
    )
    now = datetime.now().replace(microsecond=0)
    subscriptions.write(
        {"state": "active", "date_start": now, "date_expiry": now + timedelta(days=1)}
    )
    env["isp.router.job"].search([]).unlink()
    return subscriptions


def suite_sync(env, router, sim):
    """One full sync through the queue, as the cron does it. (seconds, sentences, writes)"""
    Job = env["isp.router.job"]
    jobs = Job._enqueue_full(router, reason="manual", now=True)
    sim.reset_counters()
    start = time.perf_counter()
    router._process_jobs(jobs)
    env.flush_all()
    elapsed = time.perf_counter() - start
    return elapsed, sim.sentences, sim.writes


def naive_sync(sim, rows):
    """One lookup and one write per user (add when missing, else set everything)."""
    import librouteros
    from librouteros.query import Key

    sim.reset_counters()
    start = time.perf_counter()
    api = librouteros.connect("127.0.0.1", sim.username, sim.password, port=sim.port, timeout=10)
    users = api.path("ip", "hotspot", "user")
    try:
        for row in rows:
            found = list(users.select(Key(".id")).where(Key("name") == row["name"]))
            if found:
                users.update(**{".id": found[0][".id"]}, **row)
            else:
                users.add(**row)
    finally:
        api.close()
    return time.perf_counter() - start, sim.sentences, sim.writes


def run(args):
    ensure_database(args.config, args.database)
    sys.path.insert(0, ROOT)
    os.chdir(ROOT)
    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    from cryptography.fernet import Fernet

    config.options["isp_credential_key"] = Fernet.generate_key().decode()

    from odoo.addons.isp_mikrotik.tests.routeros_sim import RouterOSSimulator

    registry = Registry(args.database)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        try:
            print(f"[bench_mikrotik] creating {args.users} subscriptions...", flush=True)
            start = time.perf_counter()
            subscriptions = make_subscriptions(env, args.users)
            print(f"[bench_mikrotik] data ready in {time.perf_counter() - start:.1f} s")

            sim = RouterOSSimulator().start()
            naive_sim = RouterOSSimulator().start()
            try:
                router = env["isp.router"].create(
                    {
                        "name": "Bench router",
                        "host": "127.0.0.1",
                        "port": sim.port,
                        "username": sim.username,
                        "password": sim.password,
                        "service_hotspot": True,
                        "service_pppoe": False,
                    }
                )
                first = suite_sync(env, router, sim)
                users_on_router = len(sim.rows("/ip/hotspot/user"))
                resync = suite_sync(env, router, sim)

                Reconciler = env["isp.router.reconciler"]
                rows = [
                    Reconciler._add_values(Reconciler._user_spec(router, "hotspot", sub))
                    for sub in subscriptions.sudo()
                ]
                # the router refuses a user naming a profile it lacks: the profiles first
                for profile in sorted({row["profile"] for row in rows}):
                    naive_sim.add_row("/ip/hotspot/user/profile", name=profile)
                naive_first = naive_sync(naive_sim, rows)
                naive_resync = naive_sync(naive_sim, rows)
            finally:
                sim.stop()
                naive_sim.stop()
        finally:
            cr.rollback()

    width = 34
    print()
    print(f"isp_mikrotik reconciler, {args.users} hotspot users, simulator on loopback")
    print(f"{'':{width}} {'seconds':>9} {'sentences':>10} {'writes':>8}")
    for label, (seconds, sentences, writes) in (
        ("suite: first sync", first),
        ("suite: re-sync, no change", resync),
        ("naive 1 call/user: first sync", naive_first),
        ("naive 1 call/user: re-sync", naive_resync),
    ):
        print(f"{label:{width}} {seconds:9.2f} {sentences:10d} {writes:8d}")
    print()
    print(f"users on the router after the first sync: {users_on_router}")
    verdicts = [
        ("first sync <= %.0f s" % TARGET_FIRST, first[0] <= TARGET_FIRST),
        ("re-sync <= %.0f s" % TARGET_RESYNC, resync[0] <= TARGET_RESYNC),
        ("re-sync writes 0", resync[2] == 0),
        ("all users created", users_on_router == args.users),
    ]
    for label, ok in verdicts:
        print(f"target {label}: {'met' if ok else 'MISSED'}")
    if naive_resync[0]:
        print(
            f"re-sync speed-up over the naive loop: {naive_resync[0] / max(resync[0], 1e-6):.0f}x"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--database", default="isp_bench_mikrotik")
    parser.add_argument("--config", default="odoo.conf")
    parser.add_argument(
        "--keep-database",
        action="store_true",
        help="keep the benchmark database (dropped at the end otherwise)",
    )
    args = parser.parse_args()
    try:
        run(args)
    except Exception:  # noqa: BLE001 - a benchmark reports, it never fails the build
        print("[bench_mikrotik] the benchmark could not run:")
        traceback.print_exc(file=sys.stdout)
    finally:
        if not args.keep_database:
            # `odoo db drop` refuses while list_db = False: drop with PostgreSQL's own tool.
            subprocess.run(
                [
                    "dropdb",
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "odoo",
                    "--if-exists",
                    "--force",
                    args.database,
                ],
                cwd=ROOT,
                capture_output=True,
                check=False,
                timeout=300,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
