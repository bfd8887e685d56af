"""RADIUS authorization under load: Access-Requests (PAP) answered by a real FreeRADIUS 3.2 from
isp_radius's views over 100,000 subscriptions, against the same FreeRADIUS answering from plain
radcheck / radreply tables of 100,000 users (FreeRADIUS's stock schema and queries), measured
in the same run the same way.

``.venv/bin/python bench/bench_radius_auth.py [--db isp_bench_radius] [--radius-users 100000]
[--radius-requests 1000] [--radius-clients 4] [--repeat 3]`` (or BENCH_RADIUS_USERS, ...).
Self-contained: it makes the database (isp_radius installed), seeds it with SQL, runs both
servers on loopback ports, sends the requests of both interleaved in chunks of 100 (both see
the same machine load), and drops the database and the FreeRADIUS role at the end
(KEEP_DB=1 keeps them). Needs /usr/sbin/freeradius and CREATEROLE for the odoo database user
(scripts/setup.sh). Prints figures, never fails (exit 0).
Target: views >= 0.8 x the plain tables' requests per second.
"""

import os
import random
import statistics
import sys
import threading
import time
import traceback

from common import (
    ROOT,
    clone_rows,
    drop_database,
    ensure_database,
    make_template_subscription,
    parse_args,
    print_table,
    verdict,
    write_results,
)

TARGET_RATIO = 0.8
SECRET = "bench-radius-secret"

# The baseline: FreeRADIUS's own schema.sql tables and indexes, and its stock queries.
PLAIN_TABLES = """
DROP TABLE IF EXISTS radcheck, radreply;
CREATE TABLE radcheck (id serial PRIMARY KEY, username text NOT NULL DEFAULT '',
    attribute text NOT NULL DEFAULT '', op varchar(2) NOT NULL DEFAULT '==',
    value text NOT NULL DEFAULT '');
CREATE TABLE radreply (id serial PRIMARY KEY, username text NOT NULL DEFAULT '',
    attribute text NOT NULL DEFAULT '', op varchar(2) NOT NULL DEFAULT '=',
    value text NOT NULL DEFAULT '');
"""
PLAIN_INDEXES = """
CREATE INDEX radcheck_username ON radcheck (username, attribute);
CREATE INDEX radreply_username ON radreply (username, attribute);
ANALYZE radcheck; ANALYZE radreply; ANALYZE radacct; ANALYZE isp_subscription;
"""
STOCK_QUERIES = {
    "authorize_check_query": "SELECT id, UserName, Attribute, Value, Op FROM radcheck "
    "WHERE Username = '%{SQL-User-Name}' ORDER BY id",
    "authorize_reply_query": "SELECT id, UserName, Attribute, Value, Op FROM radreply "
    "WHERE Username = '%{SQL-User-Name}' ORDER BY id",
    "simul_count_query": "SELECT COUNT(RadAcctId) FROM radacct "
    "WHERE UserName = '%{SQL-User-Name}' AND AcctStopTime IS NULL",
}


def seed(odoo, registry, count):
    """``count`` active hotspot subscriptions (SQL copies of one made by the ORM) with logins
    07000000001..., the same users in radcheck / radreply, and one NAS. Returns its address."""
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        nas = env["isp.radius.nas"].search([("name", "=", "Bench NAS")], limit=1)
        cr.execute("SELECT count(*) FROM isp_subscription WHERE name LIKE 'BENCH/%%'")
        if nas and cr.fetchone()[0] == count:  # kept from an earlier run (KEEP_DB=1)
            env["isp.radius.schema"]._db_role_ensure()
            return nas.id
        bundle, _partner, template = make_template_subscription(env, "Bench RADIUS", "0700000000")
        bundle.product_tmpl_id.write(
            {"isp_upload_kbps": 512, "isp_download_kbps": 2048, "isp_device_limit": 2}
        )
        env.flush_all()
        clone_rows(
            cr,
            "isp_subscription",
            template.id,
            odoo.tools.SQL("generate_series(1, %s) AS g", count),
            {
                "name": odoo.tools.SQL("'BENCH/' || g"),
                "login": odoo.tools.SQL("'07' || lpad(g::text, 9, '0')"),
                "password": odoo.tools.SQL("'pw' || g"),
                "state": odoo.tools.SQL("'active'"),
                "date_start": odoo.tools.SQL("(now() AT TIME ZONE 'UTC')"),
                "date_expiry": odoo.tools.SQL("(now() AT TIME ZONE 'UTC') + interval '1 day'"),
            },
        )
        cr.execute(PLAIN_TABLES)
        cr.execute(
            """
            INSERT INTO radcheck (username, attribute, op, value)
            SELECT '07' || lpad(g::text, 9, '0'), a.attribute, ':=', a.value
              FROM generate_series(1, %(n)s) g,
                   LATERAL (VALUES ('Cleartext-Password', 'pw' || g),
                                   ('Simultaneous-Use', '2')) a (attribute, value);
            INSERT INTO radreply (username, attribute, op, value)
            SELECT '07' || lpad(g::text, 9, '0'), a.attribute, ':=', a.value
              FROM generate_series(1, %(n)s) g,
                   LATERAL (VALUES ('Session-Timeout', '86400'),
                                   ('Acct-Interim-Interval', '300'),
                                   ('Mikrotik-Rate-Limit', '512k/2M')) a (attribute, value);
            """,
            {"n": count},
        )
        cr.execute(PLAIN_INDEXES)
        nas = env["isp.radius.nas"].create(
            {"name": "Bench NAS", "address": "127.0.0.1", "secret": SECRET}
        )
        schema = env["isp.radius.schema"]
        role, _password = schema._db_role_ensure()
        cr.execute(
            odoo.tools.SQL(
                "GRANT SELECT ON radcheck, radreply TO %s", odoo.tools.SQL.identifier(role)
            )
        )
        return nas.id


def baseline_config(files):
    """The generated configuration with FreeRADIUS's stock queries on radcheck / radreply."""
    lines = files["mods-enabled/sql"].split("\n")
    out, skip = [], False
    for line in lines:
        stripped = line.strip()
        name = stripped.split(" = ", 1)[0]
        if name in STOCK_QUERIES:
            out.append(f'\t{name} = "{STOCK_QUERIES[name]}"')
            skip = line.rstrip().endswith("\\")
            continue
        if skip:
            skip = line.rstrip().endswith("\\")
            continue
        out.append(line)
    return dict(files, **{"mods-enabled/sql": "\n".join(out)})


def measure(server, address, count, clients, users):
    """``count`` PAP requests from ``clients`` NAS sockets at once, random users. Returns
    (wall s, latencies ms, accepted)."""
    from odoo.addons.isp_radius.tests.freeradius import RadiusClient  # noqa: PLC0415

    todo = [random.randint(1, users) for _i in range(count)]
    lock = threading.Lock()
    latencies, accepted = [], []

    def worker():
        client = RadiusClient(server, address, SECRET, timeout=5.0, retries=1)
        try:
            while True:
                with lock:
                    if not todo:
                        return
                    number = todo.pop()
                start = time.perf_counter()
                try:
                    reply = client.pap(f"07{number:09d}", f"pw{number}")
                    ok = reply.code == "accept"
                except Exception:  # noqa: BLE001 - a timeout counts as not accepted
                    ok = False
                elapsed = (time.perf_counter() - start) * 1000
                with lock:
                    latencies.append(elapsed)
                    accepted.append(ok)
        finally:
            client.close()

    threads = [threading.Thread(target=worker) for _i in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, latencies, sum(accepted)


def main():
    args = parse_args(
        __doc__.splitlines()[0], radius_users=100000, radius_requests=1000, radius_clients=4
    )
    args.subscriptions, args.count, args.clients = (
        args.radius_users,
        args.radius_requests,
        args.radius_clients,
    )
    if args.db == os.environ.get("BENCH_DB", "isp_bench"):
        args.db = f"{args.db}_radius"
    os.chdir(ROOT)
    import odoo  # noqa: PLC0415
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config(
        ["-c", args.config, "-d", args.db, "--log-level=warn", "--db-filter=.*"],
        setup_logging=True,
    )
    if not config.get("isp_credential_key") and not os.environ.get("ISP_CREDENTIAL_KEY"):
        from cryptography.fernet import Fernet  # noqa: PLC0415

        config["isp_credential_key"] = Fernet.generate_key().decode()
    from odoo.addons.isp_radius.tests import freeradius  # noqa: PLC0415

    if not freeradius.available():
        print(f"  {freeradius.FREERADIUS} is not installed: no figures")
        return
    ensure_database(args, ["isp_radius"], "bench_radius_auth")
    from odoo.modules.registry import Registry  # noqa: PLC0415

    registry = Registry(args.db)
    servers = []
    try:
        start = time.perf_counter()
        nas_id = seed(odoo, registry, args.subscriptions)
        print(f"  seeded {args.subscriptions} subscriptions in {time.perf_counter() - start:.1f} s")
        views = freeradius.FreeRadius(registry, [nas_id], threads=(8, 32), pool=(8, 16)).start()
        servers.append(views)
        plain = freeradius.FreeRadius(registry, [nas_id], threads=(8, 32), pool=(8, 16))
        plain_write = plain.write_config

        def write_baseline():
            plain_write()
            from odoo.addons.isp_radius.tools.freeradius_config import (  # noqa: PLC0415
                write_config,
            )

            with open(os.path.join(plain.directory, "mods-enabled/sql")) as handle:
                files = {"mods-enabled/sql": handle.read()}
            write_config(baseline_config(files), plain.directory)

        plain.write_config = write_baseline
        plain.start()
        servers.append(plain)
        pairs = (("plain radcheck", plain), ("isp_radius views", views))
        for _name, server in pairs:  # warm-up: every pooled connection plans its queries
            measure(server, "127.0.0.1", 200, args.clients, args.subscriptions)
        # Interleaved in chunks of 100: both servers see the same machine load (the figures
        # of a busy 2-core machine otherwise swing by 2x from one second to the next), and
        # each goes first in half of the chunks.
        chunks = max(args.count // 100, 1)
        totals = {name: {"wall": 0.0, "lat": [], "accepted": 0} for name, _server in pairs}
        for _i in range(args.repeat):
            for chunk in range(chunks):
                # which goes first alternates: the order within a pair biases the figures
                for name, server in pairs if chunk % 2 else pairs[::-1]:
                    wall, lat, accepted = measure(
                        server, "127.0.0.1", args.count // chunks, args.clients, args.subscriptions
                    )
                    totals[name]["wall"] += wall
                    totals[name]["lat"] += lat
                    totals[name]["accepted"] += accepted
        results = {}
        for name, total in totals.items():
            lat = total["lat"]
            results[name] = {
                "requests": len(lat),
                "accepted": total["accepted"],
                "per_second": round(len(lat) / total["wall"], 1),
                "p50_ms": round(statistics.median(lat), 2),
                "p95_ms": round(statistics.quantiles(lat, n=20)[-1], 2),
            }
        print_table(
            f"Access-Request (PAP), {args.subscriptions} users, {args.clients} NAS sockets, "
            f"{args.repeat} x {args.count} requests each, interleaved",
            ["source", "requests", "accepted", "per s", "p50 ms", "p95 ms"],
            [
                [n, r["requests"], r["accepted"], r["per_second"], r["p50_ms"], r["p95_ms"]]
                for n, r in results.items()
            ],
        )
        ratio = round(
            results["isp_radius views"]["per_second"] / results["plain radcheck"]["per_second"], 3
        )
        print(
            f"  views / plain radcheck throughput: {ratio} (target >= {TARGET_RATIO}): "
            f"{verdict(ratio >= TARGET_RATIO)}"
        )
        write_results(
            "radius_auth",
            {
                "subscriptions": args.subscriptions,
                "count": args.count,
                "clients": args.clients,
                "results": results,
                "ratio": ratio,
                "target": TARGET_RATIO,
            },
        )
    except Exception:  # noqa: BLE001 - a benchmark prints, never fails the build
        traceback.print_exc()
        print("  bench_radius_auth stopped with an error: no figures")
        for server in servers:
            print(server.tail())
    finally:
        for server in servers:
            server.stop()
        if os.environ.get("KEEP_DB") != "1":
            drop_all(odoo, registry, args)
        else:
            print(f"  kept database {args.db} (KEEP_DB=1)")


def drop_all(odoo, registry, args):
    """Drop the database, then the FreeRADIUS role made for it (its rights went with it)."""
    try:
        with registry.cursor() as cr:
            role = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})[
                "isp.radius.schema"
            ]._db_role_name()
        drop_database(args)
        from odoo.sql_db import db_connect  # noqa: PLC0415

        with db_connect("postgres").cursor() as cr:
            cr.execute(odoo.tools.SQL("DROP ROLE IF EXISTS %s", odoo.tools.SQL.identifier(role)))
            cr.commit()
        print(f"  dropped role {role}")
    except Exception:  # noqa: BLE001 - a benchmark prints, never fails the build
        traceback.print_exc()


if __name__ == "__main__":
    sys.exit(main())
