#!/usr/bin/env python3
"""Benchmark of isp_radius's accounting ingestion: radacct rows → sessions and data use.

N sessions (default 10,000 customers, one session each) are started in radacct as
FreeRADIUS's Start query writes them, then updated in place ROUNDS times (default 10) as its
Interim-Update query does (cumulative octets), the ingestion running after the Starts and
after each round: N x ROUNDS interim updates read in batches of 5,000. Prints rows per
second, seconds per round and the SQL queries per batch (constant whatever the batch holds:
the ingestion is set-based). Everything happens in one transaction rolled back at the end
(the batch commits are recorded, not done). Never fails the build.

Usage (from the repository root): .venv/bin/python bench/bench_radius_accounting.py
    [--db isp_bench] [--sessions 10000] [--rounds 10]
"""

import sys
import time
import traceback
from unittest.mock import patch

from common import (
    Clock,
    clone_rows,
    ensure_database,
    make_template_subscription,
    median,
    new_env,
    open_registry,
    parse_args,
    print_table,
    record_queries,
    top_queries,
    write_results,
)

BATCH = 5000
MIB = 1024 * 1024
# target: 100,000 interim updates ingested in under a minute (the cron runs every minute)
TARGET_ROWS_PER_S = 100000 / 60


def make_customers(env, count):
    """``count`` active hotspot subscriptions (logins rbench1..N) of new customers, cloned in
    SQL from one made through the ORM, and a NAS. Returns the NAS address."""
    from odoo.tools import SQL  # noqa: PLC0415

    cr = env.cr
    _bundle, partner, subscription = make_template_subscription(
        env, "Bench RADIUS", "+255788888888"
    )
    subscription.action_activate()
    nas = env["isp.radius.nas"].create(
        {"name": "Bench NAS", "address": "198.18.0.1", "secret": "bench-secret"}
    )
    env.flush_all()
    now = SQL("(now() AT TIME ZONE 'UTC')")
    partner_ids = clone_rows(
        cr,
        "res_partner",
        partner.id,
        SQL("generate_series(1, %s) AS g(n)", count),
        {
            "name": SQL("'RADIUS customer ' || g.n"),
            "complete_name": SQL("'RADIUS customer ' || g.n"),
            "phone": SQL("'+2558' || lpad(g.n::text, 8, '0')"),
            "phone_sanitized": SQL("'+2558' || lpad(g.n::text, 8, '0')"),
            "isp_account_number": SQL("NULL"),
            "commercial_partner_id": SQL("NULL"),
            "create_date": now,
            "write_date": now,
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
            "name": SQL("'RBENCH/' || lpad(p.n::text, 7, '0')"),
            "partner_id": SQL("p.partner_id"),
            "login": SQL("'rbench' || p.n"),
            "create_date": now,
            "write_date": now,
        },
    )
    return nas.address


def start_sessions(cr, address, count):
    """FreeRADIUS's Start query, for ``count`` sessions at once (the same row each writes)."""
    from odoo.tools import SQL  # noqa: PLC0415

    cr.execute(
        SQL(
            """INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress,
                   nasporttype, acctstarttime, acctupdatetime, acctsessiontime, acctauthentic,
                   connectinfo_start, acctinputoctets, acctoutputoctets, calledstationid,
                   callingstationid, servicetype, framedprotocol, framedipaddress)
               SELECT 'rb' || g.n, 'rbench-uid-' || g.n, 'rbench' || g.n, %s::inet,
                   'Wireless-802.11', now(), now(), 0, 'RADIUS', '', 0, 0, 'hotspot1',
                   upper(to_char(g.n, 'FM000000000000')::text), 'Login-User', '',
                   ('10.' || (g.n / 65536) || '.' || (g.n / 256 %% 256) || '.'
                    || (g.n %% 256))::inet
                 FROM generate_series(1, %s) AS g(n)""",
            address,
            count,
        )
    )


def interim_round(cr, count, round_no):
    """FreeRADIUS's Interim-Update query for every open session: cumulative counters."""
    from odoo.tools import SQL  # noqa: PLC0415

    cr.execute(
        SQL(
            """UPDATE radacct
                  SET acctsessiontime = %s * 300,
                      acctinterval = 300,
                      acctupdatetime = now(),
                      acctinputoctets = %s::bigint * (1 + radacctid %% 7) * %s,
                      acctoutputoctets = %s::bigint * (1 + radacctid %% 3) * %s
                WHERE acctuniqueid LIKE 'rbench-uid-%%' AND acctstoptime IS NULL""",
            round_no,
            round_no,
            MIB,
            round_no,
            MIB // 4,
        )
    )
    return cr.rowcount


def ingest(env):
    """One ingestion (batches of BATCH): (rows, seconds, queries, batches)."""
    batches = []

    def commit_progress(cron, processed=0, *, remaining=None, deactivate=False):
        batches.append(processed)
        return float("inf")

    with (
        patch.object(type(env["ir.cron"]), "_commit_progress", commit_progress),
        Clock(env.cr) as clock,
    ):
        rows = env["isp.radius.accounting"]._ingest_accounting(batch_size=BATCH)
    return rows, clock.seconds, clock.queries, len(batches)


def measure(odoo, registry, args):
    with registry.cursor() as cr:
        env = new_env(odoo, cr)
        try:
            address = make_customers(env, args.sessions)
            env.flush_all()
            # what older runs or other benchmarks left is read first, unmeasured
            ingest(env)
            start_sessions(cr, address, args.sessions)
            rows, seconds, queries, batches = ingest(env)
            start = {"rows": rows, "seconds": round(seconds, 2), "queries": queries}
            rounds = []
            with record_queries() as counter:
                for round_no in range(1, args.rounds + 1):
                    t0 = time.perf_counter()
                    updated = interim_round(cr, args.sessions, round_no)
                    write_seconds = time.perf_counter() - t0
                    rows, seconds, queries, batches = ingest(env)
                    rounds.append(
                        {
                            "round": round_no,
                            "updated": updated,
                            "rows": rows,
                            "seconds": round(seconds, 3),
                            "queries": queries,
                            "batches": batches,
                            "radacct_update_seconds": round(write_seconds, 3),
                        }
                    )
            cr.execute("SELECT sum(data_used_mb) FROM isp_subscription WHERE login LIKE 'rbench%%'")
            used_mb = float(cr.fetchone()[0] or 0)
            cr.execute(
                "SELECT sum(acctinputoctets + acctoutputoctets) / 1048576.0 FROM radacct"
                " WHERE acctuniqueid LIKE 'rbench-uid-%%'"
            )
            expected_mb = float(cr.fetchone()[0] or 0)
        finally:
            cr.rollback()
    total_rows = sum(r["rows"] for r in rounds)
    total_seconds = sum(r["seconds"] for r in rounds)
    total_batches = sum(r["batches"] for r in rounds) or 1
    return {
        "sessions": args.sessions,
        "rounds": args.rounds,
        "start": start,
        "per_round": rounds,
        "interim_rows": total_rows,
        "interim_seconds": round(total_seconds, 2),
        "rows_per_s": round(total_rows / total_seconds) if total_seconds else None,
        "median_round_seconds": median([r["seconds"] for r in rounds]) if rounds else None,
        "queries_per_batch": round(sum(r["queries"] for r in rounds) / total_batches, 1),
        "data_used_mb": round(used_mb, 1),
        "data_expected_mb": round(expected_mb, 1),
        "top_queries": top_queries(counter, limit=8),
    }


def main():
    args = parse_args(__doc__.splitlines()[0], sessions=10000, rounds=10)
    try:
        ensure_database(args, ["isp_radius"], "radius_accounting")
        odoo, registry = open_registry(args)
        figures = measure(odoo, registry, args)
    except Exception as exc:  # noqa: BLE001 - a benchmark reports, it never fails the build
        traceback.print_exc()
        print(f"bench_radius_accounting: failed: {type(exc).__name__}: {exc}")
        return 0
    print_table(
        f"RADIUS accounting: {figures['sessions']} sessions x {figures['rounds']} interim "
        f"updates, ingested in batches of {BATCH}",
        ["step", "rows", "seconds", "queries", "batches", "radacct UPDATE s"],
        [
            [
                "starts (+ devices)",
                figures["start"]["rows"],
                figures["start"]["seconds"],
                figures["start"]["queries"],
                "",
                "",
            ],  # fmt: skip
            *[
                [
                    f"interim round {r['round']}",
                    r["rows"],
                    r["seconds"],
                    r["queries"],
                    r["batches"],
                    r["radacct_update_seconds"],
                ]  # fmt: skip
                for r in figures["per_round"]
            ],
        ],
    )
    rate = figures["rows_per_s"] or 0
    print(
        f"  {figures['interim_rows']} interim updates in {figures['interim_seconds']} s: "
        f"{rate} rows/s ({'target met' if rate >= TARGET_ROWS_PER_S else 'target MISSED'}: "
        f">= {TARGET_ROWS_PER_S:.0f} rows/s); {figures['queries_per_batch']} queries per batch"
    )
    print(
        f"  data use added: {figures['data_used_mb']} MB "
        f"(expected {figures['data_expected_mb']} MB: each byte counted once)"
    )
    write_results("radius_accounting", figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
