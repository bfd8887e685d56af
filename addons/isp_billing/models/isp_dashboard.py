from collections import defaultdict
from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

# Churn: customers whose access lapsed and who did not buy again within N days (default 7).
CHURN_DAYS_DEFAULT = 7
CHURN_DAYS_MAX = 365
# KPIs (revenue per customer, new / returning, churn window) look at the last 30 days.
KPI_DAYS = 30
# A device counts as active when it was seen within this many hours.
DEVICE_ACTIVE_HOURS = 24
TX_STATES = ["done", "pending", "authorized", "error", "cancel", "draft"]
PAYMENT_DONE_STATES = ("in_process", "paid")
# payment.transaction.isp_access_state of confirmed payments that gave no access
ACCESS_NOT_GIVEN = ("not_applied", "refunded")


class IspDashboard(models.AbstractModel):
    """The ISP back-office dashboard: every figure of the landing screen in one call.

    ``get_dashboard_data()`` returns sections of cards; each card has its value and the action
    opening the records behind it (a filtered list), so the figure and the list always agree.
    Figures come from grouped queries (``_read_group`` or set-based SQL), never from loops over
    records. Other modules add sections by extending ``_isp_dashboard_sections(ctx)`` (routers
    in isp_mikrotik, SMS in isp_sms): isp_billing knows nothing of them.

    Revenue is what was sold: ``isp.purchase.amount`` at the purchase's creation time (the
    moment of fulfilment), whatever the state of its invoice, which may be created later.
    Accountants' figures on posted invoices are Odoo's own (Invoicing > Reporting).
    """

    _name = "isp.dashboard"
    _description = "ISP Dashboard"

    # ------------------------------------------------------------------ entry points

    @api.model
    def get_dashboard_data(self, options=None):
        """Every figure of the landing screen (the operational ones: customers, revenue,
        payments, vouchers, devices, and what other modules add)."""
        ctx = self._isp_dashboard_context(options)
        sections = sorted(
            self._isp_dashboard_sections(ctx), key=lambda s: (s.get("sequence", 100), s["key"])
        )
        return {
            "generated_at": fields.Datetime.to_string(ctx["now"]),
            "company_names": ctx["companies"].mapped("name"),
            "sections": sections,
            "lists": self._isp_dashboard_lists(ctx),
        }

    @api.model
    def get_kpi_data(self, options=None):
        """The customer KPIs (ARPU, MRR, new / returning customers, churn): analyses of the
        whole purchase history, asked for by the dashboard once its figures are shown.
        ``options``: ``{"churn_days": N}``."""
        ctx = self._isp_dashboard_context(options)
        return {"churn_days": ctx["churn_days"], "section": self._isp_section_kpis(ctx)}

    @api.model
    def action_open_figure(self, key, options=None):
        """The action of a figure whose records are a computed set of customers (KPIs):
        computed on click rather than shipped with the dashboard."""
        ctx = self._isp_dashboard_context(options)
        kpis = self._isp_customer_kpis(ctx, with_ids=True)
        if key not in kpis["ids"]:
            raise UserError(self.env._("Unknown dashboard figure %(key)r.", key=key))
        labels = self._isp_kpi_labels(ctx)
        return self._isp_action(
            labels[key], "res.partner", [("id", "in", sorted(kpis["ids"][key]))]
        )

    @api.model
    def action_open_unmatched_payments(self):
        """Reporting menu: mobile-money payments not matched to an invoice."""
        domain = self._isp_unmatched_payments_domain()
        if domain is None:
            raise UserError(self.env._("You are not allowed to see payments."))
        return self._isp_action(
            self.env._("Mobile-money payments not matched to an invoice"),
            "account.payment",
            domain,
        )

    # ------------------------------------------------------------------ context and helpers

    @api.model
    def _isp_dashboard_context(self, options=None):
        options = options or {}
        churn_days = self._isp_check_churn_days(options.get("churn_days", CHURN_DAYS_DEFAULT))
        now = fields.Datetime.now()
        tz = self.env.tz
        today = pytz.utc.localize(now).astimezone(tz).date()

        def days_ago(days):
            """Midnight (user's timezone) ``days`` days ago, as naive UTC."""
            start = tz.localize(datetime.combine(today - timedelta(days=days), time.min))
            return start.astimezone(pytz.utc).replace(tzinfo=None)

        return {
            "now": now,
            "companies": self.env.companies,
            # in every domain: the figures are those of the companies selected in the switcher
            "company_domain": [("company_id", "in", self.env.companies.ids)],
            "today": days_ago(0),
            "week": days_ago(6),
            "month": days_ago(KPI_DAYS - 1),
            "churn_days": churn_days,
            # customer KPIs (ARPU, new / returning) over the last 30 days
            "kpi_from": days_ago(KPI_DAYS - 1),
            "kpi_to": now,
            # lapses in the 30 days that ended N days ago (each one had N days to return)
            "churn_from": now - timedelta(days=churn_days + KPI_DAYS),
            "churn_to": now - timedelta(days=churn_days),
        }

    @api.model
    def _isp_check_churn_days(self, churn_days):
        if (
            isinstance(churn_days, bool)
            or not isinstance(churn_days, int)
            or not 1 <= churn_days <= CHURN_DAYS_MAX
        ):
            raise UserError(
                self.env._(
                    "The churn delay must be a whole number of days between 1 and %(max)s.",
                    max=CHURN_DAYS_MAX,
                )
            )
        return churn_days

    @api.model
    def _isp_action(self, name, model, domain, views=("list", "form"), context=None):
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": model,
            "domain": [self._isp_json_leaf(leaf) for leaf in domain],
            "views": [[False, view] for view in views],
            "target": "current",
            "context": dict(context or {}, create=False),
        }

    @api.model
    def _isp_json_leaf(self, leaf):
        """A domain leaf the web client can take back: datetimes as UTC strings."""
        if isinstance(leaf, tuple | list) and len(leaf) == 3 and isinstance(leaf[2], datetime):
            return [leaf[0], leaf[1], fields.Datetime.to_string(leaf[2])]
        return list(leaf) if isinstance(leaf, tuple) else leaf

    @api.model
    def _isp_card(self, key, label, value, action=None, *, kind="integer", tone=None, hint=None):
        """One figure. ``value``: a number, or for money a list of ``{currency_id, value}``
        (one per currency of the companies shown); ``action``: what a click opens (a window
        action dict), or the key for ``action_open_figure``; ``tone``: success / warning /
        danger / muted, for the colour."""
        card = {"key": key, "label": label, "kind": kind, "tone": tone, "hint": hint}
        if kind == "monetary":
            card["amounts"] = value
        else:
            card["value"] = value
        if isinstance(action, str):
            card["action_key"] = action
        else:
            card["action"] = action
        return card

    @api.model
    def _isp_amounts(self, by_company):
        """``{company: amount}`` → ``[{currency_id, value}]`` summed per currency (always at
        least the main company's currency, so an empty period shows 0)."""
        totals = defaultdict(float)
        totals[self.env.company.currency_id.id] = 0.0
        for company, amount in by_company.items():
            totals[company.currency_id.id] += amount or 0.0
        return [{"currency_id": cid, "value": value} for cid, value in totals.items()]

    # ------------------------------------------------------------------ sections (hook)

    @api.model
    def _isp_dashboard_sections(self, ctx):
        """Hook: the list of sections ``{key, title, sequence, cards: [card, ...]}``; extend it
        with ``super()`` and append yours (isp_mikrotik: routers, isp_sms: SMS). Each card is
        made with ``_isp_card`` and is computed with grouped queries."""
        sections = [
            self._isp_section_customers(ctx),
            self._isp_section_revenue(ctx),
            self._isp_section_devices(ctx),
        ]
        if self.env["payment.transaction"].has_access("read"):
            sections.append(self._isp_section_payments(ctx))
        if "isp.voucher" in self.env:
            sections.append(self._isp_section_vouchers(ctx))
        return [section for section in sections if section]

    @api.model
    def _isp_section_customers(self, ctx):
        Subscription = self.env["isp.subscription"]
        companies = ctx["company_domain"]
        active_domain = [*companies, ("state", "=", "active")]
        active = dict(Subscription._read_group(active_domain, ["service_type"], ["__count"]))
        expiring_domain = [
            *active_domain,
            ("date_expiry", "<=", ctx["now"] + timedelta(hours=24)),
        ]
        new_domain = [
            *companies,
            ("is_isp_customer", "=", True),
            ("create_date", ">=", ctx["week"]),
        ]
        cards = [
            self._isp_card(
                "active_subscriptions",
                self.env._("Active users"),
                sum(active.values()),
                self._isp_action(
                    self.env._("Active subscriptions"), "isp.subscription", active_domain
                ),
                tone="success",
            ),
            self._isp_card(
                "active_hotspot",
                self.env._("Active hotspot"),
                active.get("hotspot", 0),
                self._isp_action(
                    self.env._("Active hotspot subscriptions"),
                    "isp.subscription",
                    [*active_domain, ("service_type", "=", "hotspot")],
                ),
            ),
            self._isp_card(
                "active_pppoe",
                self.env._("Active PPPoE"),
                active.get("pppoe", 0),
                self._isp_action(
                    self.env._("Active PPPoE subscriptions"),
                    "isp.subscription",
                    [*active_domain, ("service_type", "=", "pppoe")],
                ),
            ),
            self._isp_card(
                "expiring_24h",
                self.env._("Expiring within 24 h"),
                Subscription.search_count(expiring_domain),
                self._isp_action(
                    self.env._("Expiring within 24 h"), "isp.subscription", expiring_domain
                ),
                tone="warning",
            ),
            self._isp_card(
                "new_customers_7d",
                self.env._("New customers (7 days)"),
                self.env["res.partner"].search_count(new_domain),
                self._isp_action(self.env._("New customers (7 days)"), "res.partner", new_domain),
            ),
        ]
        return {
            "key": "customers",
            "title": self.env._("Customers"),
            "sequence": 10,
            "cards": cards,
        }

    @api.model
    def _isp_section_revenue(self, ctx):
        rows = self.env["isp.purchase"]._read_group(
            [*ctx["company_domain"], ("create_date", ">=", ctx["month"])],
            ["company_id", "create_date:day"],
            ["amount:sum", "__count"],
        )
        tz = self.env.tz
        today_local = pytz.utc.localize(ctx["today"]).astimezone(tz).date()
        periods = {"today": 0, "week": 6, "month": KPI_DAYS - 1}
        amounts = {key: defaultdict(float) for key in periods}
        counts = dict.fromkeys(periods, 0)
        daily = defaultdict(float)
        for company, day, amount, count in rows:
            day = day.date() if isinstance(day, datetime) else day
            age = (today_local - day).days
            if company == self.env.company:
                daily[day.isoformat()] += amount
            for key, days in periods.items():
                if age <= days:
                    amounts[key][company] += amount
                    counts[key] += count
        labels = {
            "today": self.env._("Revenue today"),
            "week": self.env._("Revenue 7 days"),
            "month": self.env._("Revenue 30 days"),
        }
        cards = [
            self._isp_card(
                f"revenue_{key}",
                labels[key],
                self._isp_amounts(amounts[key]),
                self._isp_action(
                    labels[key],
                    "isp.purchase",
                    [*ctx["company_domain"], ("create_date", ">=", ctx[key])],
                ),
                kind="monetary",
                hint=self.env._("%(count)s purchases", count=counts[key]),
            )
            for key in periods
        ]
        series = [
            {
                "date": (today_local - timedelta(days=age)).isoformat(),
                "value": daily.get((today_local - timedelta(days=age)).isoformat(), 0.0),
            }
            for age in range(KPI_DAYS - 1, -1, -1)
        ]
        return {
            "key": "revenue",
            "title": self.env._("Revenue"),
            "sequence": 20,
            "cards": cards,
            "series": {"currency_id": self.env.company.currency_id.id, "points": series},
        }

    @api.model
    def _isp_section_payments(self, ctx):
        Tx = self.env["payment.transaction"]
        base = [
            *ctx["company_domain"],
            ("isp_bundle_id", "!=", False),
            ("create_date", ">=", ctx["month"]),
        ]
        by_state = defaultdict(int)
        for state, access, count in Tx._read_group(
            base, ["state", "isp_access_state"], ["__count"]
        ):
            # money taken without access (confirmed, or ended in error after a short
            # payment) is counted once, in its own figure below: not "Confirmed", not "Failed"
            if access in ACCESS_NOT_GIVEN:
                continue
            by_state[state] += count
        state_labels = dict(Tx._fields["state"]._description_selection(self.env))
        tones = {"done": "success", "pending": "warning", "error": "danger", "cancel": "muted"}
        not_given = [("isp_access_state", "not in", list(ACCESS_NOT_GIVEN))]
        cards = [
            self._isp_card(
                f"payments_{state}",
                state_labels.get(state, state),
                by_state.get(state, 0),
                self._isp_action(
                    self.env._(
                        "Payments (30 days): %(state)s", state=state_labels.get(state, state)
                    ),
                    "payment.transaction",
                    [*base, ("state", "=", state), *not_given],
                ),
                tone=tones.get(state),
            )
            for state in TX_STATES
            if state in ("done", "pending", "error", "cancel") or by_state.get(state)
        ]
        # money taken without access, whatever its date, until staff grant it or refund it
        not_applied = [*ctx["company_domain"], ("isp_access_state", "=", "not_applied")]
        cards.append(
            self._isp_card(
                "payments_not_applied",
                self.env._("Paid, Not Applied"),
                Tx.search_count(not_applied),
                self._isp_action(
                    self.env._("Payments taken without access"), "payment.transaction", not_applied
                ),
                tone="danger",
                hint=self.env._("all dates: grant access or record a refund"),
            )
        )
        unmatched = self._isp_unmatched_payments_domain(ctx["companies"])
        if unmatched is not None:
            cards.append(
                self._isp_card(
                    "payments_unmatched",
                    self.env._("Not matched to an invoice"),
                    self.env["account.payment"].search_count(unmatched),
                    self._isp_action(
                        self.env._("Mobile-money payments not matched to an invoice"),
                        "account.payment",
                        unmatched,
                    ),
                    tone="danger",
                    hint=self.env._("payment-provider journals, all dates"),
                )
            )
        return {
            "key": "payments",
            "title": self.env._("Payments (30 days)"),
            "sequence": 30,
            "cards": cards,
        }

    @api.model
    def _isp_unmatched_payments_domain(self, companies=None):
        """Domain of the payments received in a payment provider's journal (mobile money)
        that are not reconciled with an invoice; None when the user cannot read payments."""
        if not self.env["account.payment"].has_access("read"):
            return None
        companies = companies or self.env.companies
        # a provider's journal is the one of its payment method line (account_payment)
        journals = (
            self.env["account.payment.method.line"]
            .search(
                [
                    ("payment_provider_id", "!=", False),
                    ("journal_id.company_id", "in", companies.ids),
                ]
            )
            .journal_id
        )
        return [
            ("company_id", "in", companies.ids),
            ("journal_id", "in", journals.ids),
            ("payment_type", "=", "inbound"),
            ("state", "in", PAYMENT_DONE_STATES),
            ("is_reconciled", "=", False),
        ]

    @api.model
    def _isp_section_devices(self, ctx):
        Device = self.env["isp.device"]
        recent = ctx["now"] - timedelta(hours=DEVICE_ACTIVE_HOURS)
        companies = ctx["company_domain"]
        total = Device.search_count(companies)
        active_domain = [*companies, ("last_seen", ">=", recent)]
        inactive_domain = [
            *companies,
            "|",
            ("last_seen", "<", recent),
            ("last_seen", "=", False),
        ]
        active = Device.search_count(active_domain)
        cards = [
            self._isp_card(
                "devices_total",
                self.env._("Devices"),
                total,
                self._isp_action(self.env._("Devices"), "isp.device", companies),
            ),
            self._isp_card(
                "devices_active",
                self.env._("Active (seen in 24 h)"),
                active,
                self._isp_action(self.env._("Devices seen in 24 h"), "isp.device", active_domain),
                tone="success",
            ),
            self._isp_card(
                "devices_inactive",
                self.env._("Inactive"),
                total - active,
                self._isp_action(
                    self.env._("Devices not seen in 24 h"), "isp.device", inactive_domain
                ),
                tone="muted",
            ),
        ]
        return {"key": "devices", "title": self.env._("Devices"), "sequence": 50, "cards": cards}

    @api.model
    def _isp_section_vouchers(self, ctx):
        Voucher = self.env["isp.voucher"]
        companies = ctx["company_domain"]
        by_state = dict(Voucher._read_group(companies, ["state"], ["__count"]))
        labels = dict(Voucher._fields["state"]._description_selection(self.env))
        cards = [
            self._isp_card(
                "vouchers_generated",
                self.env._("Generated"),
                sum(by_state.values()),
                self._isp_action(self.env._("Vouchers"), "isp.voucher", companies),
            )
        ]
        tones = {"redeemed": "success", "available": None, "expired": "muted", "void": "muted"}
        for state, tone in tones.items():
            if state not in labels:
                continue
            cards.append(
                self._isp_card(
                    f"vouchers_{state}",
                    labels[state],
                    by_state.get(state, 0),
                    self._isp_action(
                        self.env._("Vouchers: %(state)s", state=labels[state]),
                        "isp.voucher",
                        [*companies, ("state", "=", state)],
                    ),
                    tone=tone,
                )
            )
        return {"key": "vouchers", "title": self.env._("Vouchers"), "sequence": 40, "cards": cards}

    # ------------------------------------------------------------------ KPIs

    @api.model
    def _isp_kpi_labels(self, ctx):
        return {
            "new": self.env._("New customers (30 days)"),
            "returning": self.env._("Returning customers (30 days)"),
            "lapsed": self.env._("Access lapsed"),
            "churned": self.env._(
                "Churned (no return within %(days)s days)", days=ctx["churn_days"]
            ),
        }

    @api.model
    def _isp_section_kpis(self, ctx):
        kpis = self._isp_customer_kpis(ctx)
        labels = self._isp_kpi_labels(ctx)
        period = [*ctx["company_domain"], ("create_date", ">=", ctx["kpi_from"])]
        churn_rate = round(100.0 * kpis["churned"] / kpis["lapsed"], 1) if kpis["lapsed"] else 0.0
        cards = [
            self._isp_card(
                "arpu",
                self.env._("ARPU (30 days)"),
                kpis["arpu"],
                self._isp_action(
                    self.env._("Purchases by customer (30 days)"),
                    "isp.purchase",
                    period,
                    context={"group_by": ["partner_id"]},
                ),
                kind="monetary",
                hint=self.env._("revenue / paying customers (%(count)s)", count=kpis["payers"]),
            ),
            self._isp_card(
                "mrr_pppoe",
                self.env._("MRR (PPPoE)"),
                kpis["mrr"],
                self._isp_action(
                    self.env._("Active PPPoE subscriptions"),
                    "isp.subscription",
                    [
                        *ctx["company_domain"],
                        ("state", "=", "active"),
                        ("service_type", "=", "pppoe"),
                    ],
                    context={"group_by": ["bundle_id"]},
                ),
                kind="monetary",
                hint=self.env._("active PPPoE at monthly list price"),
            ),
            self._isp_card("new", labels["new"], kpis["new"], "new", tone="success"),
            self._isp_card("returning", labels["returning"], kpis["returning"], "returning"),
            self._isp_card(
                "churned",
                labels["churned"],
                kpis["churned"],
                "churned",
                tone="danger",
                hint=self.env._(
                    "%(rate)s%% of %(lapsed)s whose access lapsed %(days)s-%(end)s days ago",
                    rate=churn_rate,
                    lapsed=kpis["lapsed"],
                    days=ctx["churn_days"] + KPI_DAYS,
                    end=ctx["churn_days"],
                ),
            ),
        ]
        return {
            "key": "kpis",
            "title": self.env._("Customers and revenue KPIs"),
            "sequence": 60,
            "cards": cards,
            "churn_rate": churn_rate,
        }

    @api.model
    def _isp_customer_kpis(self, ctx, with_ids=False):
        """ARPU and MRR (per currency), new / returning customers over the KPI period
        (``kpi_from`` to ``kpi_to``) and churn: set-based SQL over the companies shown, after
        the usual access check. Three queries, each one pass over its table.

        - ARPU: purchase revenue of the period / customers with a paid purchase in it.
        - MRR (PPPoE): active PPPoE subscriptions at their bundle's list price brought to a
          month (price × 30 days / bundle duration).
        - new: customers whose first purchase ever is in the period; returning: customers with
          a purchase in the period and one before it.
        - churn: a customer's access lapses at the end of a purchased period that no other of
          their periods covers (the end of a run of back-to-back or overlapping periods);
          lapsed = customers with a lapse between ``churn_from`` and ``churn_to``; churned =
          those of them with such a lapse not followed by a new period within N days.
        """
        self.env["isp.purchase"].check_access("read")
        self.env["isp.subscription"].check_access("read")
        self.env["isp.purchase"].flush_model()
        self.env["isp.subscription"].flush_model()
        cr = self.env.cr
        company_ids = ctx["companies"].ids
        currency_of = {c.id: c.currency_id.id for c in ctx["companies"]}
        main_currency = self.env.company.currency_id.id
        # one row per customer: first purchase ever, purchases and revenue in the period
        ids_or_count = (
            (lambda cond: SQL("ARRAY_AGG(partner_id) FILTER (WHERE %s)", cond))
            if with_ids
            else (lambda cond: SQL("COUNT(*) FILTER (WHERE %s)", cond))
        )
        cr.execute(
            SQL(
                """
                SELECT company_id, SUM(revenue), COUNT(*) FILTER (WHERE revenue > 0),
                       %(new)s, %(returning)s
                  FROM (SELECT company_id, partner_id,
                               MIN(create_date) AS first_purchase,
                               BOOL_OR(create_date >= %(start)s) AS in_period,
                               COALESCE(SUM(amount) FILTER (WHERE create_date >= %(start)s), 0)
                                   AS revenue
                          FROM isp_purchase
                         WHERE company_id = ANY(%(companies)s) AND create_date < %(end)s
                      GROUP BY company_id, partner_id) AS customer
              GROUP BY company_id
                """,
                new=ids_or_count(SQL("in_period AND first_purchase >= %s", ctx["kpi_from"])),
                returning=ids_or_count(SQL("in_period AND first_purchase < %s", ctx["kpi_from"])),
                companies=company_ids,
                start=ctx["kpi_from"],
                end=ctx["kpi_to"],
            )
        )
        revenue, payers = defaultdict(float), defaultdict(int)
        new = [] if with_ids else 0
        returning = [] if with_ids else 0
        for company_id, amount, count, new_part, returning_part in cr.fetchall():
            revenue[currency_of[company_id]] += amount or 0.0
            payers[currency_of[company_id]] += count
            new += new_part or ([] if with_ids else 0)
            returning += returning_part or ([] if with_ids else 0)
        arpu = [
            {
                "currency_id": cid,
                "value": round(revenue[cid] / payers[cid], 2) if payers[cid] else 0.0,
            }
            for cid in dict.fromkeys([main_currency, *revenue])
        ]
        cr.execute(
            SQL(
                """
                SELECT s.company_id,
                       SUM(t.list_price * 720.0 / NULLIF(t.isp_duration_hours, 0))
                  FROM isp_subscription s
                  JOIN product_product p ON p.id = s.bundle_id
                  JOIN product_template t ON t.id = p.product_tmpl_id
                 WHERE s.company_id = ANY(%(companies)s)
                   AND s.state = 'active' AND s.service_type = 'pppoe'
              GROUP BY s.company_id
                """,
                companies=company_ids,
            )
        )
        mrr_by_currency = defaultdict(float)
        for company_id, amount in cr.fetchall():
            mrr_by_currency[currency_of[company_id]] += amount or 0.0
        mrr = [
            {"currency_id": cid, "value": round(mrr_by_currency[cid], 2)}
            for cid in dict.fromkeys([main_currency, *mrr_by_currency])
        ]
        # Each customer's periods in order of start: ``covered_until`` is the end of the run
        # of periods so far; when the next period starts after it (or there is none), the
        # access lapsed then, and came back when the next one started.
        cr.execute(
            SQL(
                """
                WITH run AS (
                    SELECT partner_id,
                           MAX(date_end) OVER w AS covered_until,
                           LEAD(date_start) OVER w AS next_start
                      FROM isp_purchase
                     WHERE company_id = ANY(%(companies)s)
                       AND date_start IS NOT NULL AND date_end IS NOT NULL
                    WINDOW w AS (PARTITION BY partner_id ORDER BY date_start, id
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                ), lapse AS (
                    SELECT partner_id,
                           next_start IS NOT NULL
                           AND next_start <= covered_until + %(delay)s AS returned
                      FROM run
                     WHERE (next_start IS NULL OR next_start > covered_until)
                       AND covered_until >= %(from)s AND covered_until < %(to)s
                )
                SELECT ARRAY_AGG(DISTINCT partner_id),
                       ARRAY_AGG(DISTINCT partner_id) FILTER (WHERE NOT returned)
                  FROM lapse
                """,
                companies=company_ids,
                delay=timedelta(days=ctx["churn_days"]),
                **{"from": ctx["churn_from"], "to": ctx["churn_to"]},
            )
        )
        lapsed_ids, churned_ids = cr.fetchone()
        result = {
            "arpu": arpu,
            "mrr": mrr,
            "payers": sum(payers.values()),
            "new": len(new) if with_ids else new,
            "returning": len(returning) if with_ids else returning,
            "lapsed": len(lapsed_ids or []),
            "churned": len(churned_ids or []),
        }
        if with_ids:
            result["ids"] = {
                "new": new,
                "returning": returning,
                "lapsed": lapsed_ids or [],
                "churned": churned_ids or [],
            }
        return result

    # ------------------------------------------------------------------ lists

    @api.model
    def _isp_dashboard_lists(self, ctx):
        """The last 10 payments (ISP transactions, when the user may read them) and the last
        10 new customers, as rows ready to show."""
        lists = {}
        Tx = self.env["payment.transaction"]
        if Tx.has_access("read"):
            states = dict(Tx._fields["state"]._description_selection(self.env))
            access_states = dict(Tx._fields["isp_access_state"]._description_selection(self.env))
            txs = Tx.search(
                [*ctx["company_domain"], ("isp_bundle_id", "!=", False)], order="id desc", limit=10
            )
            lists["payments"] = [
                {
                    "id": tx.id,
                    "reference": tx.reference,
                    "date": fields.Datetime.to_string(tx.create_date),
                    "partner": tx.partner_id.display_name or tx.partner_name or "",
                    "bundle": tx.isp_bundle_id.display_name,
                    "provider": tx.provider_id.name,
                    "amount": tx.amount,
                    "currency_id": tx.currency_id.id,
                    # money taken without access shows as such, not as "Confirmed"
                    "state": (
                        tx.isp_access_state if tx.isp_access_state in ACCESS_NOT_GIVEN else tx.state
                    ),
                    "state_label": (
                        access_states[tx.isp_access_state]
                        if tx.isp_access_state in ACCESS_NOT_GIVEN
                        else states.get(tx.state, tx.state)
                    ),
                }
                for tx in txs
            ]
        # newest first by id (creation order), which the primary key index serves
        partners = self.env["res.partner"].search(
            [*ctx["company_domain"], ("is_isp_customer", "=", True)], order="id desc", limit=10
        )
        lists["customers"] = [
            {
                "id": partner.id,
                "name": partner.display_name,
                "phone": partner.phone or "",
                "date": fields.Datetime.to_string(partner.create_date),
                "access_until": fields.Datetime.to_string(partner.isp_access_until)
                if partner.isp_access_until
                else False,
            }
            for partner in partners
        ]
        return lists
