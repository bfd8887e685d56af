"""Expiry sweep: the same DUE subscriptions expired among DUE rows, then among TOTAL rows.

The cron's cost must follow what expires, not the table's size (target: large / small <= 1.3).

Rows are inserted with SQL, as copies of one customer and one subscription made through the ORM
(so every required column and ORM default is filled); each subscription has its own customer.
The sweep itself runs through the ORM (``_cron_expire_subscriptions()`` called outside a cron:
``_commit_progress`` then just commits each batch). Between repetitions the due rows, their
customers' ``isp_access_until`` and the tracking messages the sweep wrote are reset with SQL,
then VACUUM ANALYZE, so every repetition starts from the same state.

Dataset "small" (database DB): the DUE rows only. Dataset "large" (database DB_large, a copy of
DB made once the due rows exist): the same DUE rows plus TOTAL - DUE others (40% active and not
due, 50% expired long ago, 5% suspended past their expiry, 5% cancelled). The sweeps alternate
between the two databases, so the machine's drift and noise hit both alike. DB_large is dropped
at the end unless KEEP_DB=1.
"""

import os
import sys

from common import (
    Clock,
    autocommit_sql,
    clone_rows,
    make_template_subscription,
    maybe_profile,
    median,
    new_env,
    open_registry,
    parse_args,
    print_table,
    record_queries,
    top_queries,
    verdict,
    write_results,
)

TARGET_RATIO = 1.3
WARMUP = 1000  # due rows expired once, unmeasured, before the first measured sweep
SUB_TEMPLATE_TABLE = "bench_subscription_template"
VACUUM = (
    "VACUUM ANALYZE isp_subscription",
    "VACUUM ANALYZE res_partner",
    "VACUUM ANALYZE mail_message",
    "VACUUM ANALYZE mail_tracking_value",
)


def setup_templates(env):
    """A bundle, one customer and one active subscription made through the ORM: the rows the
    SQL inserts copy."""
    from odoo import fields  # noqa: PLC0415

    bundle, partner, subscription = make_template_subscription(env, "Bench Daily", "+255799999999")
    subscription.action_activate()
    env.flush_all()
    assert subscription.state == "active" and subscription.date_expiry > fields.Datetime.now()
    return bundle, partner, subscription


def insert_rows(cr, partner_tmpl, sub_tmpl, first, count, kind):
    """``count`` customers numbered from ``first``, each with one subscription of ``kind``
    ('due', 'active', 'expired', 'suspended', 'cancelled'). Returns the subscription ids."""
    from odoo.tools import SQL  # noqa: PLC0415

    now = SQL("(now() AT TIME ZONE 'UTC')")
    numbers = SQL("generate_series(%s, %s) AS g(n)", first, first + count - 1)
    partner_ids = clone_rows(
        cr,
        "res_partner",
        partner_tmpl,
        numbers,
        {
            "name": SQL("'Bench customer ' || g.n"),
            "complete_name": SQL("'Bench customer ' || g.n"),
            "phone": SQL("'+2557' || lpad(g.n::text, 8, '0')"),
            "phone_sanitized": SQL("'+2557' || lpad(g.n::text, 8, '0')"),
            "ref": SQL("'bench-' || g.n"),
            "isp_access_until": SQL("NULL"),
            "commercial_partner_id": SQL("NULL"),
            "create_date": now,
            "write_date": now,
        },
    )
    cr.execute(
        SQL("UPDATE res_partner SET commercial_partner_id = id WHERE id = ANY(%s)", partner_ids)
    )
    # expiry per kind, spread so the rows are not all equal (g.n varies the minute)
    expiry = {
        "due": SQL("%s - (1 + g.n %% 1440) * interval '1 minute'", now),
        "active": SQL("%s + interval '2 hours' + (g.n %% 43200) * interval '1 minute'", now),
        "expired": SQL("%s - (2 + g.n %% 365) * interval '1 day'", now),
        "suspended": SQL("%s - (1 + g.n %% 240) * interval '1 hour'", now),
        "cancelled": SQL("%s - (1 + g.n %% 365) * interval '1 day'", now),
    }[kind]
    state = {"due": "active"}.get(kind, kind)
    sub_ids = clone_rows(
        cr,
        "isp_subscription",
        sub_tmpl,
        SQL(
            "unnest(%s::int[]) WITH ORDINALITY AS p(partner_id, i),"
            " LATERAL (SELECT %s + p.i - 1 AS n) AS g",
            partner_ids,
            first,
        ),
        {
            "name": SQL("'BENCH/' || lpad(g.n::text, 7, '0')"),
            "partner_id": SQL("p.partner_id"),
            "state": SQL("%s", state),
            "login": SQL("'bench' || g.n"),
            "date_start": SQL("(%s) - interval '1 day'", expiry),
            "date_expiry": expiry,
            "create_date": now,
            "write_date": now,
        },
        template_table=SUB_TEMPLATE_TABLE,
    )
    cr.execute(
        SQL(
            "UPDATE res_partner p SET isp_access_until = s.date_expiry FROM isp_subscription s"
            " WHERE s.partner_id = p.id AND s.state = 'active' AND s.id = ANY(%s)",
            sub_ids,
        )
    )
    return sub_ids


def count_rows(cr):
    cr.execute(
        "SELECT (SELECT count(*) FROM isp_subscription),"
        " (SELECT count(*) FROM isp_subscription WHERE state = 'active'),"
        " (SELECT count(*) FROM isp_subscription WHERE state = 'active'"
        "   AND date_expiry <= now() AT TIME ZONE 'UTC')"
    )
    return dict(zip(("total", "active", "due"), cr.fetchone(), strict=True))


def reset_due(registry, db, due_ids, message_floor):
    """Put the due rows back to 'active' (and their customers' isp_access_until), drop the
    tracking messages the sweep wrote, VACUUM ANALYZE: the next repetition starts clean."""
    from odoo.tools import SQL  # noqa: PLC0415

    with registry.cursor() as cr:
        cr.execute(SQL("UPDATE isp_subscription SET state = 'active' WHERE id = ANY(%s)", due_ids))
        cr.execute(
            SQL(
                "UPDATE res_partner p SET isp_access_until = s.date_expiry FROM isp_subscription s"
                " WHERE s.partner_id = p.id AND s.id = ANY(%s)",
                due_ids,
            )
        )
        cr.execute(
            SQL(
                "DELETE FROM mail_message WHERE id > %s AND model = 'isp.subscription'",
                message_floor,
            )
        )
    autocommit_sql(db, *VACUUM)


def explain_sweep_queries(env, batch_size=1000):
    """EXPLAIN ANALYZE the sweep's two reads (count, first batch) as the ORM builds them."""
    import json  # noqa: PLC0415

    from odoo import fields  # noqa: PLC0415
    from odoo.tools import SQL  # noqa: PLC0415

    Sub = env["isp.subscription"]
    domain = [("state", "=", "active"), ("date_expiry", "<=", fields.Datetime.now())]
    plans = {}
    for name, query in (
        ("count", Sub._search(domain).select(SQL("COUNT(*)"))),
        ("batch", Sub._search(domain, order="date_expiry, id", limit=batch_size).select()),
    ):
        env.cr.execute(SQL("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) %s", query))
        plan = env.cr.fetchone()[0]
        plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
        nodes = []

        def walk(node, nodes=nodes):
            label = node["Node Type"]
            if node.get("Index Name"):
                label += f" using {node['Index Name']}"
            if node.get("Relation Name") and not node.get("Index Name"):
                label += f" on {node['Relation Name']}"
            nodes.append(label)
            for child in node.get("Plans", ()):
                walk(child)

        walk(plan["Plan"])
        plans[name] = {
            "sql": env.cr._format(query.code, query.params)[:400],
            "nodes": nodes,
            "execution_ms": plan.get("Execution Time"),
        }
    return plans


def sweep_once(odoo, ds, label, due_ids, profile=False):
    """Reset ``ds`` (a dataset: db, registry, message_floor) to its clean state and time one
    sweep there."""
    reset_due(ds["registry"], ds["db"], due_ids, ds["message_floor"])
    with ds["registry"].cursor() as cr:
        env = new_env(odoo, cr)
        before = count_rows(cr)
        assert before["due"] == len(due_ids), before
        with (
            record_queries() as queries,
            maybe_profile(profile, f"expiry_{label}"),
            Clock(cr) as clock,
        ):
            env["isp.subscription"]._cron_expire_subscriptions()
        after = count_rows(cr)
        assert after["due"] == 0, after
        cr.execute(
            "SELECT count(*) FROM mail_message WHERE id > %s AND model = 'isp.subscription'",
            [ds["message_floor"]],
        )
        messages = cr.fetchone()[0]
    return {
        "seconds": round(clock.seconds, 3),
        "queries": clock.queries,
        "expired": before["due"],
        "messages_written": messages,
        "top_queries": top_queries(queries, limit=8),
    }


def warm_up(odoo, ds, partner_tmpl, sub_tmpl, first, count, due_ids):
    """Expire ``count`` other rows once, unmeasured (caches, first-use costs), remove them and
    record the clean state's last message id."""
    from odoo.tools import SQL  # noqa: PLC0415

    with ds["registry"].cursor() as cr:
        cr.execute(
            SQL("UPDATE isp_subscription SET state = 'cancelled' WHERE id = ANY(%s)", due_ids)
        )
        warm_ids = insert_rows(cr, partner_tmpl, sub_tmpl, first, count, "due")
        cr.commit()
        with Clock(cr) as clock:
            new_env(odoo, cr)["isp.subscription"]._cron_expire_subscriptions()
        cr.execute(SQL("DELETE FROM isp_subscription WHERE id = ANY(%s)", warm_ids))
        cr.execute("DELETE FROM mail_message WHERE model = 'isp.subscription'")
        cr.execute(SQL("UPDATE isp_subscription SET state = 'active' WHERE id = ANY(%s)", due_ids))
        cr.execute("SELECT COALESCE(max(id), 0) FROM mail_message")
        ds["message_floor"] = cr.fetchone()[0]
    return clock.seconds


def _admin_sql(odoo, query):
    with odoo.sql_db.db_connect("postgres").cursor() as cr:
        cr._cnx.autocommit = True
        cr.execute(query)


def drop_database(odoo, name):
    """DROP DATABASE ``name`` after closing this process's connections to it (Odoo's own
    exp_drop refuses while odoo.conf says list_db = False)."""
    from odoo.modules.registry import Registry  # noqa: PLC0415
    from odoo.tools import SQL  # noqa: PLC0415

    Registry.delete(name)
    odoo.sql_db.close_db(name)
    _admin_sql(odoo, SQL("DROP DATABASE IF EXISTS %s", SQL.identifier(name)))


def copy_database(odoo, source, target):
    """CREATE DATABASE target TEMPLATE source, after closing this process's connections."""
    from odoo.modules.registry import Registry  # noqa: PLC0415
    from odoo.tools import SQL  # noqa: PLC0415

    Registry.delete(source)
    odoo.sql_db.close_db(source)
    drop_database(odoo, target)
    _admin_sql(
        odoo,
        SQL("CREATE DATABASE %s TEMPLATE %s", SQL.identifier(target), SQL.identifier(source)),
    )


def main():
    args = parse_args(__doc__.splitlines()[0], due=10_000, total=100_000)
    assert args.total >= args.due > 0
    odoo, registry = open_registry(args)
    from odoo.modules.registry import Registry  # noqa: PLC0415
    from odoo.tools import SQL  # noqa: PLC0415

    # ---- small dataset (database DB): the due rows only
    with registry.cursor() as cr:
        env = new_env(odoo, cr)
        _bundle, partner_tmpl, sub_tmpl = setup_templates(env)
        # the template subscription is kept aside, out of the datasets
        cr.execute(
            SQL(
                "CREATE TABLE %s AS SELECT * FROM isp_subscription WHERE id = %s",
                SQL.identifier(SUB_TEMPLATE_TABLE),
                sub_tmpl.id,
            )
        )
        cr.execute(SQL("DELETE FROM isp_subscription WHERE id = %s", sub_tmpl.id))
        cr.execute(
            SQL("UPDATE res_partner SET isp_access_until = NULL WHERE id = %s", partner_tmpl.id)
        )
        cr.execute("DELETE FROM mail_message WHERE model = 'isp.subscription'")
        with Clock(cr) as clock:
            due_ids = insert_rows(cr, partner_tmpl.id, sub_tmpl.id, 1, args.due, "due")
        partner_tmpl, sub_tmpl = partner_tmpl.id, sub_tmpl.id
    print(f"  small dataset: {args.due} due rows inserted in {clock.seconds:.1f} s", flush=True)

    # ---- large dataset (database DB_large, a copy): the same due rows among TOTAL
    large_db = f"{args.db}_large"
    copy_database(odoo, args.db, large_db)
    small = {"db": args.db, "registry": Registry(args.db)}
    large = {"db": large_db, "registry": Registry(large_db)}
    others = args.total - args.due
    split = {
        "active": others * 40 // 100,
        "suspended": others * 5 // 100,
        "cancelled": others * 5 // 100,
    }
    split["expired"] = others - sum(split.values())
    with large["registry"].cursor() as cr:
        with Clock(cr) as clock:
            first = args.due + 1
            for kind, count in split.items():
                if count:
                    insert_rows(cr, partner_tmpl, sub_tmpl, first, count, kind)
                    first += count
    print(f"  large dataset: {others} more rows inserted in {clock.seconds:.1f} s", flush=True)

    warmup = min(WARMUP, args.due)
    for label, ds in (("small", small), ("large", large)):
        seconds = warm_up(odoo, ds, partner_tmpl, sub_tmpl, args.total + 1, warmup, due_ids)
        with ds["registry"].cursor() as cr:
            ds["rows"] = count_rows(cr)
        print(f"  {label}: {ds['rows']}; warm-up: {warmup} expired in {seconds:.2f} s", flush=True)

    # ---- the sweeps, alternating between the datasets (drift and noise hit both alike)
    runs = {"small": [], "large": []}
    for rep in range(args.repeat):
        order = (("small", small), ("large", large))[:: 1 if rep % 2 == 0 else -1]
        for label, ds in order:
            run = sweep_once(
                odoo, ds, label, due_ids, profile=args.profile and rep == args.repeat - 1
            )
            runs[label].append(run)
            print(
                f"  {label:<5} run {rep + 1}/{args.repeat}: {run['seconds']:7.2f} s,"
                f" {run['queries']} queries, {run['expired']} expired",
                flush=True,
            )

    # ---- the plans of the sweep's reads on both datasets (due rows reset first)
    plans = {}
    for label, ds in (("small", small), ("large", large)):
        reset_due(ds["registry"], ds["db"], due_ids, ds["message_floor"])
        with ds["registry"].cursor() as cr:
            plans[label] = explain_sweep_queries(new_env(odoo, cr))
            cr.rollback()

    med = {label: median(r["seconds"] for r in runs[label]) for label in runs}
    ratio = med["large"] / med["small"]
    ok = ratio <= TARGET_RATIO
    print_table(
        f"Expiry sweep: {args.due} due, median of {args.repeat}",
        ["dataset", "rows", "due", "seconds", "expired/s", "queries", "runs (s)"],
        [
            (
                label,
                ds["rows"]["total"],
                args.due,
                f"{med[label]:.2f}",
                f"{args.due / med[label]:.0f}",
                median(r["queries"] for r in runs[label]),
                " ".join(f"{r['seconds']:.2f}" for r in runs[label]),
            )
            for label, ds in (("small", small), ("large", large))
        ],
    )
    print(f"  ratio large/small: {ratio:.2f} (target <= {TARGET_RATIO}): {verdict(ok)}")
    for label in plans:
        for name, plan in plans[label].items():
            print(f"  {label} dataset, {name} query plan: {' > '.join(plan['nodes'])}")
    write_results(
        "expiry",
        {
            "due": args.due,
            "total": args.total,
            "repeat": args.repeat,
            "small": {"rows": small["rows"], "median_seconds": med["small"], "runs": runs["small"]},
            "large": {"rows": large["rows"], "median_seconds": med["large"], "runs": runs["large"]},
            "ratio_large_small": round(ratio, 3),
            "target_ratio_max": TARGET_RATIO,
            "target_met": ok,
            "plans": plans,
        },
    )
    Registry.delete(args.db)
    odoo.sql_db.close_db(args.db)
    if os.environ.get("KEEP_DB") != "1":
        drop_database(odoo, large_db)
    return 0


if __name__ == "__main__":
    sys.exit(main())
