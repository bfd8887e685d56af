"""The ISP dashboard's landing sections: customers, revenue, payments, devices, vouchers."""

from collections import defaultdict
from datetime import datetime, timedelta

from odoo import api, models

from .isp_dashboard import ACCESS_NOT_GIVEN

TX_STATES = ["done", "pending", "authorized", "error", "cancel", "draft"]
PAYMENT_DONE_STATES = ("in_process", "paid")
# A purchase is unpaid while its invoice is not fully paid; every other purchase is paid
# (invoice paid, paid by a payment whose invoice is still to be issued, prepaid voucher).
UNPAID_INVOICE_STATES = ("not_paid", "partial")


class IspDashboard(models.AbstractModel):
    _inherit = "isp.dashboard"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _dashboard_sections(self, ctx):
        """Hook: the list of sections ``{key, title, sequence, cards: [card, ...]}``; extend it
        with ``super()`` and append yours (isp_mikrotik: routers, isp_sms: SMS). Each card is
        made with ``_card`` and is computed with grouped queries."""
        sections = [
            self._section_customers(ctx),
            self._section_revenue(ctx),
            self._section_devices(ctx),
        ]
        if self.env["payment.transaction"].has_access("read"):
            sections.append(self._section_payments(ctx))
        if "isp.voucher" in self.env:
            sections.append(self._section_vouchers(ctx))
        return [section for section in sections if section]

    @api.model
    def _section_customers(self, ctx):
        Subscription = self.env["isp.subscription"]
        companies = ctx["company_domain"]
        active_domain = [*companies, ("state", "=", "active")]
        active = dict(Subscription._read_group(active_domain, ["service_type"], ["__count"]))
        expiring_domain = [
            *active_domain,
            ("date_expiry", "<=", ctx["now"] + timedelta(hours=24)),
        ]
        signed_up_domain = [
            *companies,
            ("is_isp_customer", "=", True),
            ("create_date", ">=", ctx["period_from"]),
        ]
        now = self._now_label()
        cards = [
            self._card(
                "active_subscriptions",
                self.env._("Active users"),
                sum(active.values()),
                self._action(self.env._("Active subscriptions"), "isp.subscription", active_domain),
                tone="success",
                window=now,
            ),
            self._card(
                "active_hotspot",
                self.env._("Active hotspot"),
                active.get("hotspot", 0),
                self._action(
                    self.env._("Active hotspot subscriptions"),
                    "isp.subscription",
                    [*active_domain, ("service_type", "=", "hotspot")],
                ),
                window=now,
            ),
            self._card(
                "active_pppoe",
                self.env._("Active PPPoE"),
                active.get("pppoe", 0),
                self._action(
                    self.env._("Active PPPoE subscriptions"),
                    "isp.subscription",
                    [*active_domain, ("service_type", "=", "pppoe")],
                ),
                window=now,
            ),
            self._card(
                "expiring_24h",
                self.env._("Expiring within 24 h"),
                Subscription.search_count(expiring_domain),
                self._action(
                    self.env._("Expiring within 24 h"), "isp.subscription", expiring_domain
                ),
                tone="warning",
                window=self.env._("next 24 hours"),
            ),
            # customer records created; "New customers" (KPIs) are first-time buyers
            self._card(
                "customers_signed_up",
                self.env._("Signed up"),
                self.env["res.partner"].search_count(signed_up_domain),
                self._action(
                    self.env._("Customers signed up (%(window)s)", window=ctx["window"]),
                    "res.partner",
                    signed_up_domain,
                ),
                hint=self.env._("customer records created"),
                window=ctx["window"],
            ),
        ]
        return {
            "key": "customers",
            "title": self.env._("Customers"),
            "sequence": 10,
            "cards": cards,
        }

    @api.model
    def _section_revenue(self, ctx):
        """Revenue of the period (what was sold: ``isp.purchase.amount``), split into paid
        and unpaid (the purchase's invoice not fully paid), and its chart: per day (per hour
        for today) of the current company's purchases, paid and unpaid stacked."""
        companies = ctx["company_domain"]
        period = [*companies, ("create_date", ">=", ctx["period_from"])]
        unpaid = [("invoice_payment_state", "in", UNPAID_INVOICE_STATES)]
        paid = [
            "|",
            ("invoice_payment_state", "=", False),
            ("invoice_payment_state", "not in", UNPAID_INVOICE_STATES),
        ]
        by_hour = ctx["period"] == "today"
        # days and hours in the user's timezone, as the period's start
        rows = (
            self.env["isp.purchase"]
            .with_context(tz=self.env.tz.zone)
            ._read_group(
                period,
                [
                    "company_id",
                    "create_date:hour" if by_hour else "create_date:day",
                    "invoice_payment_state",
                ],
                ["amount:sum", "__count"],
            )
        )
        amounts = {key: defaultdict(float) for key in ("all", "paid", "unpaid")}
        counts = dict.fromkeys(amounts, 0)
        buckets = defaultdict(lambda: {"paid": 0.0, "unpaid": 0.0})
        for company, moment, payment_state, amount, count in rows:
            split = "unpaid" if payment_state in UNPAID_INVOICE_STATES else "paid"
            for key in ("all", split):
                amounts[key][company] += amount
                counts[key] += count
            if company == self.env.company:
                buckets[self._chart_bucket(moment, by_hour)][split] += amount
        window = ctx["window"]
        labels = {
            "all": self.env._("Revenue"),
            "paid": self.env._("Paid"),
            "unpaid": self.env._("Unpaid"),
        }
        domains = {"all": period, "paid": [*period, *paid], "unpaid": [*period, *unpaid]}
        hints = {
            "all": self.env._("%(count)s purchases", count=counts["all"]),
            "paid": self.env._("%(count)s purchases", count=counts["paid"]),
            "unpaid": self.env._(
                "%(count)s purchases, invoice not fully paid", count=counts["unpaid"]
            ),
        }
        tones = {"all": None, "paid": "success", "unpaid": "warning"}
        cards = [
            self._card(
                "revenue" if key == "all" else f"revenue_{key}",
                labels[key],
                self._amounts_by_currency(amounts[key]),
                self._action(
                    self.env._("%(figure)s (%(window)s)", figure=labels[key], window=window),
                    "isp.purchase",
                    domains[key],
                ),
                kind="monetary",
                tone=tones[key],
                hint=hints[key],
                window=window,
            )
            for key in ("all", "paid", "unpaid")
        ]
        return {
            "key": "revenue",
            "title": self.env._("Revenue"),
            "sequence": 20,
            "cards": cards,
            "chart": self._revenue_chart(ctx, buckets, by_hour),
        }

    @api.model
    def _chart_bucket(self, moment, by_hour):
        """The chart's key of a read_group date: the local day (ISO) or the local hour
        ("07"); read_group gives them in the context's timezone, naive."""
        if by_hour:
            return moment.strftime("%H")
        return (moment.date() if isinstance(moment, datetime) else moment).isoformat()

    @api.model
    def _revenue_chart(self, ctx, buckets, by_hour):
        """The revenue chart of the period: one bar per day (per hour for today), its paid
        and unpaid parts, with its title, axis titles and series names (the current
        company's currency: two currencies are never drawn on one axis)."""
        currency = self.env.company.currency_id
        if by_hour:
            keys = [f"{hour:02d}" for hour in range(24)]
            points = [
                {"x": f"{key}:00", **buckets.get(key, {"paid": 0.0, "unpaid": 0.0})} for key in keys
            ]
            title = self.env._(
                "Revenue per hour, %(window)s (%(currency)s)",
                window=ctx["window"],
                currency=currency.name,
            )
            x_title = self.env._("Hour")
        else:
            today = ctx["local_today"]
            days = [
                (today - timedelta(days=age)).isoformat()
                for age in range(ctx["period_days"] - 1, -1, -1)
            ]
            points = [{"x": day, **buckets.get(day, {"paid": 0.0, "unpaid": 0.0})} for day in days]
            title = self.env._(
                "Revenue per day, %(window)s (%(currency)s)",
                window=ctx["window"],
                currency=currency.name,
            )
            x_title = self.env._("Day")
        return {
            "title": title,
            "x_title": x_title,
            "y_title": self.env._("Revenue (%(currency)s)", currency=currency.name),
            "by_hour": by_hour,
            "currency_id": currency.id,
            "company": self.env.company.name,
            "series": [
                {"key": "paid", "label": self.env._("Paid")},
                {"key": "unpaid", "label": self.env._("Unpaid")},
            ],
            "points": points,
        }

    @api.model
    def _section_payments(self, ctx):
        Tx = self.env["payment.transaction"]
        base = [
            *ctx["company_domain"],
            ("isp_bundle_id", "!=", False),
            ("create_date", ">=", ctx["period_from"]),
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
            self._card(
                f"payments_{state}",
                state_labels.get(state, state),
                by_state.get(state, 0),
                self._action(
                    self.env._(
                        "Payments (%(window)s): %(state)s",
                        window=ctx["window"],
                        state=state_labels.get(state, state),
                    ),
                    "payment.transaction",
                    [*base, ("state", "=", state), *not_given],
                ),
                tone=tones.get(state),
                window=ctx["window"],
            )
            for state in TX_STATES
            if state in ("done", "pending", "error", "cancel") or by_state.get(state)
        ]
        # money taken without access, whatever its date, until staff grant it or refund it
        not_applied = [*ctx["company_domain"], ("isp_access_state", "=", "not_applied")]
        cards.append(
            self._card(
                "payments_not_applied",
                self.env._("Paid, Not Applied"),
                Tx.search_count(not_applied),
                self._action(
                    self.env._("Payments taken without access"), "payment.transaction", not_applied
                ),
                tone="danger",
                hint=self.env._("grant access or record a refund"),
                window=self._all_dates_label(),
            )
        )
        unmatched = self._unmatched_payments_domain(ctx["companies"])
        if unmatched is not None:
            cards.append(
                self._card(
                    "payments_unmatched",
                    self.env._("Not matched to an invoice"),
                    self.env["account.payment"].search_count(unmatched),
                    self._action(
                        self.env._("Mobile-money payments not matched to an invoice"),
                        "account.payment",
                        unmatched,
                    ),
                    tone="danger",
                    hint=self.env._("payment-provider journals"),
                    window=self._all_dates_label(),
                )
            )
        return {
            "key": "payments",
            "title": self.env._("Payments"),
            "sequence": 30,
            "cards": cards,
        }

    @api.model
    def _unmatched_payments_domain(self, companies=None):
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
    def _section_devices(self, ctx):
        """Devices registered (now), and of them those seen in the period or not."""
        Device = self.env["isp.device"]
        since = ctx["period_from"]
        companies = ctx["company_domain"]
        total = Device.search_count(companies)
        active_domain = [*companies, ("last_seen", ">=", since)]
        inactive_domain = [
            *companies,
            "|",
            ("last_seen", "<", since),
            ("last_seen", "=", False),
        ]
        active = Device.search_count(active_domain)
        window = ctx["window"]
        cards = [
            self._card(
                "devices_total",
                self.env._("Devices"),
                total,
                self._action(self.env._("Devices"), "isp.device", companies),
                window=self._now_label(),
            ),
            self._card(
                "devices_active",
                self.env._("Seen"),
                active,
                self._action(
                    self.env._("Devices seen (%(window)s)", window=window),
                    "isp.device",
                    active_domain,
                ),
                tone="success",
                window=window,
            ),
            self._card(
                "devices_inactive",
                self.env._("Not seen"),
                total - active,
                self._action(
                    self.env._("Devices not seen (%(window)s)", window=window),
                    "isp.device",
                    inactive_domain,
                ),
                tone="muted",
                window=window,
            ),
        ]
        return {"key": "devices", "title": self.env._("Devices"), "sequence": 50, "cards": cards}

    @api.model
    def _section_vouchers(self, ctx):
        """Vouchers generated and redeemed in the period; available, expired and void now."""
        Voucher = self.env["isp.voucher"]
        companies = ctx["company_domain"]
        window = ctx["window"]
        generated = [*companies, ("create_date", ">=", ctx["period_from"])]
        redeemed = [
            *companies,
            ("state", "=", "redeemed"),
            ("date_redeemed", ">=", ctx["period_from"]),
        ]
        cards = [
            self._card(
                "vouchers_generated",
                self.env._("Generated"),
                Voucher.search_count(generated),
                self._action(
                    self.env._("Vouchers generated (%(window)s)", window=window),
                    "isp.voucher",
                    generated,
                ),
                window=window,
            ),
            self._card(
                "vouchers_redeemed",
                self.env._("Redeemed"),
                Voucher.search_count(redeemed),
                self._action(
                    self.env._("Vouchers redeemed (%(window)s)", window=window),
                    "isp.voucher",
                    redeemed,
                ),
                tone="success",
                window=window,
            ),
        ]
        by_state = dict(Voucher._read_group(companies, ["state"], ["__count"]))
        labels = dict(Voucher._fields["state"]._description_selection(self.env))
        tones = {"available": None, "expired": "muted", "void": "muted"}
        for state, tone in tones.items():
            if state not in labels:
                continue
            cards.append(
                self._card(
                    f"vouchers_{state}",
                    labels[state],
                    by_state.get(state, 0),
                    self._action(
                        self.env._("Vouchers: %(state)s", state=labels[state]),
                        "isp.voucher",
                        [*companies, ("state", "=", state)],
                    ),
                    tone=tone,
                    window=self._now_label(),
                )
            )
        return {"key": "vouchers", "title": self.env._("Vouchers"), "sequence": 40, "cards": cards}
