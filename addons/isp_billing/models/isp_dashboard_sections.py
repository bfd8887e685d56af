"""The ISP dashboard's landing sections: customers, revenue, payments, devices, vouchers."""

from collections import defaultdict
from datetime import datetime, timedelta

import pytz

from odoo import api, models

from .isp_dashboard import ACCESS_NOT_GIVEN, KPI_DAYS

# A device counts as active when it was seen within this many hours.
DEVICE_ACTIVE_HOURS = 24
TX_STATES = ["done", "pending", "authorized", "error", "cancel", "draft"]
PAYMENT_DONE_STATES = ("in_process", "paid")


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
        new_domain = [
            *companies,
            ("is_isp_customer", "=", True),
            ("create_date", ">=", ctx["week"]),
        ]
        cards = [
            self._card(
                "active_subscriptions",
                self.env._("Active users"),
                sum(active.values()),
                self._action(self.env._("Active subscriptions"), "isp.subscription", active_domain),
                tone="success",
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
            ),
            self._card(
                "expiring_24h",
                self.env._("Expiring within 24 h"),
                Subscription.search_count(expiring_domain),
                self._action(
                    self.env._("Expiring within 24 h"), "isp.subscription", expiring_domain
                ),
                tone="warning",
            ),
            self._card(
                "new_customers_7d",
                self.env._("New customers (7 days)"),
                self.env["res.partner"].search_count(new_domain),
                self._action(self.env._("New customers (7 days)"), "res.partner", new_domain),
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
            self._card(
                f"revenue_{key}",
                labels[key],
                self._amounts_by_currency(amounts[key]),
                self._action(
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
    def _section_payments(self, ctx):
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
            self._card(
                f"payments_{state}",
                state_labels.get(state, state),
                by_state.get(state, 0),
                self._action(
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
            self._card(
                "payments_not_applied",
                self.env._("Paid, Not Applied"),
                Tx.search_count(not_applied),
                self._action(
                    self.env._("Payments taken without access"), "payment.transaction", not_applied
                ),
                tone="danger",
                hint=self.env._("all dates: grant access or record a refund"),
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
            self._card(
                "devices_total",
                self.env._("Devices"),
                total,
                self._action(self.env._("Devices"), "isp.device", companies),
            ),
            self._card(
                "devices_active",
                self.env._("Active (seen in 24 h)"),
                active,
                self._action(self.env._("Devices seen in 24 h"), "isp.device", active_domain),
                tone="success",
            ),
            self._card(
                "devices_inactive",
                self.env._("Inactive"),
                total - active,
                self._action(self.env._("Devices not seen in 24 h"), "isp.device", inactive_domain),
                tone="muted",
            ),
        ]
        return {"key": "devices", "title": self.env._("Devices"), "sequence": 50, "cards": cards}

    @api.model
    def _section_vouchers(self, ctx):
        Voucher = self.env["isp.voucher"]
        companies = ctx["company_domain"]
        by_state = dict(Voucher._read_group(companies, ["state"], ["__count"]))
        labels = dict(Voucher._fields["state"]._description_selection(self.env))
        cards = [
            self._card(
                "vouchers_generated",
                self.env._("Generated"),
                sum(by_state.values()),
                self._action(self.env._("Vouchers"), "isp.voucher", companies),
            )
        ]
        tones = {"redeemed": "success", "available": None, "expired": "muted", "void": "muted"}
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
                )
            )
        return {"key": "vouchers", "title": self.env._("Vouchers"), "sequence": 40, "cards": cards}
