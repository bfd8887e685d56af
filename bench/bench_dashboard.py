"""ISP dashboard: every figure of the landing screen (isp.dashboard.get_dashboard_data) with
SUBSCRIPTIONS subscriptions and PAYMENTS payments, against plain counts of the same tables.

Dataset, in a company of its own (the dashboard is measured in that company only): one
customer per subscription (40% active, 10% of them PPPoE; 50% expired; 5% suspended; 5%
cancelled), PAYMENTS purchases over the last 90 days (80% paid by a payment transaction,
15% vouchers, 5% manual), one transaction per paid purchase (90% done, 5% pending, 3% error,
2% cancelled) and one device per customer seen within the last 3 days. Rows are inserted with
SQL, as copies of rows made through the ORM (bench/common.py ``clone_rows``), then VACUUM
ANALYZE.

Measured (median of REPEAT runs after one warm-up, each in a fresh environment so no ORM
cache helps): ``get_dashboard_data()``, the landing screen's one RPC (every figure, the last
payments and customers), and ``get_kpi_data()``, the customer KPIs the screen asks for next
(ARPU, MRR, new / returning customers and churn, over the whole purchase history). Baseline,
in the same run: ``search_count`` of all rows of the same four tables (subscriptions,
purchases, transactions, devices) in that company. Target: dashboard data <= 500 ms; the
KPIs are reported with their ratio.
"""

import sys

from common import (
    Clock,
    autocommit_sql,
    clone_rows,
    make_template_subscription,
    maybe_profile,
    median,
    open_registry,
    parse_args,
    print_table,
    record_queries,
    top_queries,
    verdict,
    write_results,
)

TARGET_MS = 500
COMPANY = "Bench Dashboard ISP"
TABLES = ("isp_subscription", "isp_purchase", "payment_transaction", "isp_device", "res_partner")


def company_env(odoo, cr, company_id):
    return odoo.api.Environment(
        cr, odoo.SUPERUSER_ID, {"allowed_company_ids": [company_id], "tz": "Africa/Dar_es_Salaam"}
    )


def setup_templates(env):
    """A company, its bundles, one customer, subscription, purchase, transaction and device
    made through the ORM: the rows the SQL inserts copy."""
    from odoo import Command, fields  # noqa: PLC0415

    company = env["res.company"].create({"name": COMPANY, "currency_id": env.ref("base.TZS").id})
    env = env(context=dict(env.context, allowed_company_ids=[company.id]))
    env.user.company_ids = [Command.link(company.id)]
    bundle, partner, subscription = make_template_subscription(
        env, "Bench Dashboard Daily", "+255799999998"
    )
    pppoe = (
        env["product.template"]
        .create(
            {
                "name": "Bench Home 10 Mbps",
                "is_isp_bundle": True,
                "isp_service_type": "pppoe",
                "list_price": 50000,
                "isp_duration_value": 1,
                "isp_duration_unit": "months",
                "company_id": company.id,
            }
        )
        .product_variant_id
    )
    now = fields.Datetime.now()
    purchase = env["isp.purchase"].create(
        {
            "company_id": company.id,
            "source": "payment",
            "reference": "BENCH-DASH-TEMPLATE",
            "partner_id": partner.id,
            "bundle_id": bundle.id,
            "subscription_id": subscription.id,
            "date_start": now,
            "date_end": now,
            "amount": 1000,
        }
    )
    provider = env["payment.provider"].create(
        {"name": "Bench Mobile Money", "code": "none", "state": "test", "company_id": company.id}
    )
    tx = env["payment.transaction"].create(
        {
            "provider_id": provider.id,
            "payment_method_id": env.ref("payment.payment_method_unknown").id,
            "reference": "BENCH-DASH-TX-TEMPLATE",
            "amount": 1000,
            "currency_id": company.currency_id.id,
            "partner_id": partner.id,
            "operation": "online_direct",
            "isp_bundle_id": bundle.id,
            "isp_purchase_id": purchase.id,
        }
    )
    device = env["isp.device"].create({"partner_id": partner.id, "mac": "02:00:00:00:00:01"})
    env.flush_all()
    return company, bundle, pppoe, partner, subscription, purchase, tx, device


def seed(cr, templates, subscriptions, payments):
    from odoo.tools import SQL  # noqa: PLC0415

    company, bundle, pppoe, partner, subscription, purchase, tx, device = templates
    now = SQL("(now() AT TIME ZONE 'UTC')")
    numbers = SQL("generate_series(1, %s) AS g(n)", subscriptions)
    partner_ids = clone_rows(
        cr,
        "res_partner",
        partner.id,
        numbers,
        {
            "name": SQL("'Dash customer ' || g.n"),
            "complete_name": SQL("'Dash customer ' || g.n"),
            "phone": SQL("'+2556' || lpad(g.n::text, 8, '0')"),
            "phone_sanitized": SQL("'+2556' || lpad(g.n::text, 8, '0')"),
            "ref": SQL("'dash-' || g.n"),
            "commercial_partner_id": SQL("NULL"),
            "create_date": SQL("%s - (g.n %% 120) * interval '1 day'", now),
            "write_date": now,
        },
    )
    cr.execute(
        SQL("UPDATE res_partner SET commercial_partner_id = id WHERE id = ANY(%s)", partner_ids)
    )
    # state by n % 20: 0-7 active (0 PPPoE), 8-17 expired, 18 suspended, 19 cancelled
    kind = SQL("(p.i %% 20)")
    state = SQL(
        "CASE WHEN %(k)s < 8 THEN 'active' WHEN %(k)s < 18 THEN 'expired'"
        " WHEN %(k)s = 18 THEN 'suspended' ELSE 'cancelled' END",
        k=kind,
    )
    expiry = SQL(
        "CASE WHEN %(k)s < 8 THEN %(now)s + (1 + p.i %% 720) * interval '1 hour'"
        " ELSE %(now)s - (1 + p.i %% 120) * interval '1 day' END",
        k=kind,
        now=now,
    )
    source = SQL("unnest(%s::int[]) WITH ORDINALITY AS p(partner_id, i)", partner_ids)
    sub_ids = clone_rows(
        cr,
        "isp_subscription",
        subscription.id,
        source,
        {
            "name": SQL("'DASH/' || lpad(p.i::text, 7, '0')"),
            "partner_id": SQL("p.partner_id"),
            "state": state,
            "service_type": SQL("CASE WHEN %s = 0 THEN 'pppoe' ELSE 'hotspot' END", kind),
            "bundle_id": SQL("CASE WHEN %s = 0 THEN %s ELSE %s END", kind, pppoe.id, bundle.id),
            "login": SQL("'dash' || p.i"),
            "date_start": SQL("(%s) - interval '1 day'", expiry),
            "date_expiry": expiry,
            "create_date": now,
            "write_date": now,
        },
    )
    # PAYMENTS purchases, over the customers in turn; created over the last 90 days
    per = SQL(
        "(SELECT g.n, s.id AS sub_id, s.partner_id, s.service_type, s.bundle_id,"
        " %(now)s - ((g.n * 7919) %% 129600) * interval '1 minute' AS created"
        " FROM generate_series(1, %(count)s) AS g(n)"
        " JOIN (SELECT id, partner_id, service_type, bundle_id,"
        "       row_number() OVER (ORDER BY id) AS i FROM isp_subscription"
        "       WHERE id = ANY(%(subs)s)) s ON s.i = 1 + (g.n - 1) %% %(subs_count)s) AS q",
        now=now,
        count=payments,
        subs=sub_ids,
        subs_count=len(sub_ids),
    )
    purchase_source = SQL(
        "CASE WHEN q.n %% 20 < 16 THEN 'payment' WHEN q.n %% 20 < 19 THEN 'voucher'"
        " ELSE 'manual' END"
    )
    purchase_ids = clone_rows(
        cr,
        "isp_purchase",
        purchase.id,
        per,
        {
            "source": purchase_source,
            "reference": SQL("'DASH-P-' || q.n"),
            "partner_id": SQL("q.partner_id"),
            "bundle_id": SQL("q.bundle_id"),
            "subscription_id": SQL("q.sub_id"),
            "service_type": SQL("q.service_type"),
            "date_start": SQL("q.created"),
            "date_end": SQL(
                "q.created + CASE WHEN q.service_type = 'pppoe' THEN interval '30 days'"
                " ELSE interval '1 day' END"
            ),
            "amount": SQL("CASE WHEN q.service_type = 'pppoe' THEN 50000 ELSE 1000 END"),
            "create_date": SQL("q.created"),
            "write_date": SQL("q.created"),
        },
    )
    tx_source = SQL(
        "(SELECT p.id, p.reference, p.partner_id, p.bundle_id, p.amount, p.create_date,"
        " row_number() OVER (ORDER BY p.id) AS n"
        " FROM isp_purchase p WHERE p.id = ANY(%s) AND p.source = 'payment') AS q",
        purchase_ids,
    )
    tx_ids = clone_rows(
        cr,
        "payment_transaction",
        tx.id,
        tx_source,
        {
            "reference": SQL("q.reference"),
            "partner_id": SQL("q.partner_id"),
            "isp_bundle_id": SQL("q.bundle_id"),
            "isp_purchase_id": SQL("q.id"),
            "amount": SQL("q.amount"),
            "state": SQL(
                "CASE WHEN q.n %% 100 < 90 THEN 'done' WHEN q.n %% 100 < 95 THEN 'pending'"
                " WHEN q.n %% 100 < 98 THEN 'error' ELSE 'cancel' END"
            ),
            "create_date": SQL("q.create_date"),
            "write_date": SQL("q.create_date"),
        },
    )
    device_ids = clone_rows(
        cr,
        "isp_device",
        device.id,
        source,
        {
            "partner_id": SQL("p.partner_id"),
            "mac": SQL(
                "'02:' || regexp_replace(lpad(to_hex(p.i), 10, '0'), '(..)(?!$)', '\\1:', 'g')"
            ),
            "last_seen": SQL("%s - (p.i %% 4320) * interval '1 minute'", now),
            "first_seen": SQL("%s - interval '10 days'", now),
            "create_date": now,
            "write_date": now,
        },
    )
    return {
        "customers": len(partner_ids),
        "subscriptions": len(sub_ids),
        "purchases": len(purchase_ids),
        "transactions": len(tx_ids),
        "devices": len(device_ids),
    }


def existing_counts(env):
    company = [("company_id", "in", env.companies.ids)]
    return {
        "customers": env["res.partner"].search_count([*company, ("is_isp_customer", "=", True)]),
        "subscriptions": env["isp.subscription"].search_count(company),
        "purchases": env["isp.purchase"].search_count(company),
        "transactions": env["payment.transaction"].search_count(company),
        "devices": env["isp.device"].search_count(company),
    }


def baseline(env):
    """Plain counts of every row of the same tables in the company."""
    company = [("company_id", "in", env.companies.ids)]
    return sum(
        env[model].search_count(company)
        for model in ("isp.subscription", "isp.purchase", "payment.transaction", "isp.device")
    )


def figures(data):
    rows = []
    for section in data["sections"]:
        for card in section["cards"]:
            if card["kind"] == "monetary":
                value = ", ".join(f"{a['value']:,.2f}" for a in card["amounts"])
            else:
                value = card["value"]
            rows.append((section["key"], card["key"], value))
    return rows


def main():
    args = parse_args(__doc__.splitlines()[0], subscriptions=100_000, payments=200_000)
    odoo, registry = open_registry(args)

    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        existing = env["res.company"].search([("name", "=", COMPANY)], limit=1)
        if existing:  # a kept database (KEEP_DB=1): measure its dataset again
            company_id = existing.id
            counts = existing_counts(env(context={"allowed_company_ids": existing.ids}))
            print(f"  dataset: {counts} already there (company {COMPANY!r})", flush=True)
        else:
            templates = setup_templates(env)
            company_id = templates[0].id
            with Clock(cr) as clock:
                counts = seed(cr, templates, args.subscriptions, args.payments)
            print(
                f"  dataset: {counts} inserted in {clock.seconds:.1f} s (company {COMPANY!r})",
                flush=True,
            )
    autocommit_sql(args.db, *(f"VACUUM ANALYZE {table}" for table in TABLES))

    calls = {
        "baseline": baseline,
        "dashboard": lambda env: env["isp.dashboard"].get_dashboard_data(),
        "kpis": lambda env: env["isp.dashboard"].get_kpi_data(),
    }

    def run(kind):
        with registry.cursor() as cr:
            env = company_env(odoo, cr, company_id)
            with Clock(cr) as clock:
                result = calls[kind](env)
            cr.rollback()
        return clock, result

    for kind in calls:  # warm-up: caches, query plans
        run(kind)
    timings = {kind: [] for kind in calls}
    queries, results = {}, {}
    for _i in range(args.repeat):
        for kind in calls:
            clock, results[kind] = run(kind)
            timings[kind].append(clock.seconds * 1000)
            queries[kind] = clock.queries
    with record_queries() as counter, maybe_profile(args.profile, "bench_dashboard"):
        run("dashboard")

    dash_ms, base_ms = median(timings["dashboard"]), median(timings["baseline"])
    kpi_ms = median(timings["kpis"])
    ratio = dash_ms / base_ms if base_ms else float("inf")
    kpi_ratio = kpi_ms / base_ms if base_ms else float("inf")
    print_table(
        f"Dashboard data, {counts['subscriptions']:,} subscriptions and "
        f"{counts['purchases']:,} payments (median of {args.repeat})",
        ["measure", "ms", "queries", "ratio to baseline"],
        [
            ("baseline: search_count x4", round(base_ms, 1), queries["baseline"], 1.0),
            ("get_dashboard_data()", round(dash_ms, 1), queries["dashboard"], round(ratio, 2)),
            ("get_kpi_data()", round(kpi_ms, 1), queries["kpis"], round(kpi_ratio, 2)),
        ],
    )
    data = {
        "sections": [*results["dashboard"]["sections"], results["kpis"]["section"]],
    }
    print_table("Figures", ["section", "figure", "value"], figures(data))
    ok = dash_ms <= TARGET_MS
    print(f"\n  dashboard {dash_ms:.0f} ms (target <= {TARGET_MS} ms): {verdict(ok)}")
    write_results(
        "bench_dashboard",
        {
            "dataset": counts,
            "repeat": args.repeat,
            "dashboard_ms": timings["dashboard"],
            "kpis_ms": timings["kpis"],
            "baseline_ms": timings["baseline"],
            "dashboard_median_ms": dash_ms,
            "kpis_median_ms": kpi_ms,
            "baseline_median_ms": base_ms,
            "ratio": ratio,
            "kpis_ratio": kpi_ratio,
            "queries": queries,
            "target_ms": TARGET_MS,
            "target_met": ok,
            "figures": figures(data),
            "top_queries": top_queries(counter),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
