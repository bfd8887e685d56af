"""The ISP dashboard's entry points, shared helpers and the last payments and customers."""

from collections import defaultdict
from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError

# Churn: customers whose access lapsed and who did not buy again within N days (default 7).
CHURN_DAYS_DEFAULT = 7
CHURN_DAYS_MAX = 365
# The dashboard's period: every figure over time (revenue, payments, new customers, KPIs,
# devices seen, vouchers redeemed, SMS) covers the same one, chosen on the screen; each
# period is a number of days ending today (today counts as one).
PERIODS = {"today": 1, "7d": 7, "30d": 30, "90d": 90}
PERIOD_DEFAULT = "30d"
# the revenue export's KPI context and older callers: 30 days
KPI_DAYS = PERIODS[PERIOD_DEFAULT]
# payment.transaction.isp_access_state of confirmed payments that gave no access
ACCESS_NOT_GIVEN = ("not_applied", "refunded")


class IspDashboard(models.AbstractModel):
    """The ISP back-office dashboard: sections of cards, each with its value and the action
    opening the records behind it, from grouped queries; other modules add sections through
    ``_dashboard_sections(ctx)``. Revenue is what was sold (``isp.purchase.amount``). See
    docs/architecture.md, "Dashboard and reports"."""

    _name = "isp.dashboard"
    _description = "ISP Dashboard"

    # ------------------------------------------------------------------ entry points

    @api.model
    def get_dashboard_data(self, options=None):
        """Every figure of the landing screen (the operational ones: customers, revenue,
        payments, vouchers, devices, and what other modules add). ``options``:
        ``{"period": "today" | "7d" | "30d" | "90d"}`` (default 30 days): every figure over
        time covers that period, and says so (its card's ``window``)."""
        ctx = self._dashboard_context(options)
        sections = sorted(
            self._dashboard_sections(ctx), key=lambda s: (s.get("sequence", 100), s["key"])
        )
        return {
            "generated_at": fields.Datetime.to_string(ctx["now"]),
            "company_names": ctx["companies"].mapped("name"),
            "period": ctx["period"],
            "window": ctx["window"],
            "periods": [{"key": key, "label": self._period_button_label(key)} for key in PERIODS],
            "sections": sections,
            "lists": self._dashboard_lists(ctx),
        }

    @api.model
    def _period_button_label(self, period):
        return {
            "today": self.env._("Today"),
            "7d": self.env._("7 days"),
            "30d": self.env._("30 days"),
            "90d": self.env._("90 days"),
        }[period]

    @api.model
    def action_open_unmatched_payments(self):
        """Reporting menu: mobile-money payments not matched to an invoice."""
        domain = self._unmatched_payments_domain()
        if domain is None:
            raise UserError(self.env._("You are not allowed to see payments."))
        return self._action(
            self.env._("Mobile-money payments not matched to an invoice"),
            "account.payment",
            domain,
        )

    # ------------------------------------------------------------------ context and helpers

    @api.model
    def _dashboard_context(self, options=None):
        """What every figure is computed from: ``options``: ``{"period": one of PERIODS,
        "churn_days": N}``. ``period_from``: the start of the period (midnight, user's
        timezone, as naive UTC); ``window``: how the cards name it ("last 7 days")."""
        options = options or {}
        churn_days = self._check_churn_days(options.get("churn_days", CHURN_DAYS_DEFAULT))
        period = self._check_period(options.get("period", PERIOD_DEFAULT))
        period_days = PERIODS[period]
        now = fields.Datetime.now()
        tz = self.env.tz
        today = pytz.utc.localize(now).astimezone(tz).date()

        def days_ago(days):
            """Midnight (user's timezone) ``days`` days ago, as naive UTC."""
            start = tz.localize(datetime.combine(today - timedelta(days=days), time.min))
            return start.astimezone(pytz.utc).replace(tzinfo=None)

        period_from = days_ago(period_days - 1)
        return {
            "now": now,
            "companies": self.env.companies,
            # in every domain: the figures are those of the companies selected in the switcher
            "company_domain": [("company_id", "in", self.env.companies.ids)],
            "today": days_ago(0),
            "week": days_ago(6),
            "month": days_ago(KPI_DAYS - 1),
            "local_today": today,
            "period": period,
            "period_days": period_days,
            "period_from": period_from,
            "window": self._window_label(period),
            "churn_days": churn_days,
            # customer KPIs (ARPU, new / returning) over the period
            "kpi_from": period_from,
            "kpi_to": now,
            # lapses in a period as long as the chosen one that ended N days ago (each one
            # had N days to return)
            "churn_from": now - timedelta(days=churn_days + period_days),
            "churn_to": now - timedelta(days=churn_days),
        }

    @api.model
    def _check_period(self, period):
        if not isinstance(period, str) or period not in PERIODS:
            raise UserError(
                self.env._(
                    "Unknown dashboard period %(period)r: choose one of %(periods)s.",
                    period=period,
                    periods=", ".join(PERIODS),
                )
            )
        return period

    @api.model
    def _window_label(self, period):
        """How a card names its period (shown under its label)."""
        return {
            "today": self.env._("today"),
            "7d": self.env._("last 7 days"),
            "30d": self.env._("last 30 days"),
            "90d": self.env._("last 90 days"),
        }[period]

    @api.model
    def _now_label(self):
        """The window of a figure that is a state at this moment (active users, routers)."""
        return self.env._("now")

    @api.model
    def _all_dates_label(self):
        """The window of a figure over all dates (payments waiting for a decision)."""
        return self.env._("all dates")

    @api.model
    def _check_churn_days(self, churn_days):
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
    def _action(self, name, model, domain, views=("list", "form"), context=None):
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": model,
            "domain": [self._json_leaf(leaf) for leaf in domain],
            "views": [[False, view] for view in views],
            "target": "current",
            "context": dict(context or {}, create=False),
        }

    @api.model
    def _json_leaf(self, leaf):
        """A domain leaf the web client can take back: datetimes as UTC strings."""
        if isinstance(leaf, tuple | list) and len(leaf) == 3 and isinstance(leaf[2], datetime):
            return [leaf[0], leaf[1], fields.Datetime.to_string(leaf[2])]
        return list(leaf) if isinstance(leaf, tuple) else leaf

    @api.model
    def _card(
        self, key, label, value, action=None, *, kind="integer", tone=None, hint=None, window=None
    ):
        """One figure. ``value``: a number, or for money a list of ``{currency_id, value}``
        (one per currency of the companies shown); ``action``: what a click opens (a window
        action dict), or the key for ``action_open_figure``; ``tone``: success / warning /
        danger / muted, for the colour; ``window``: the time the figure covers, shown with
        it (``ctx["window"]`` for the dashboard's period, ``_now_label()`` for a state at
        this moment, ``_all_dates_label()``)."""
        card = {
            "key": key,
            "label": label,
            "kind": kind,
            "tone": tone,
            "hint": hint,
            "window": window,
        }
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
    def _amounts_by_currency(self, by_company):
        """``{company: amount}`` → ``[{currency_id, value}]`` summed per currency (always at
        least the main company's currency, so an empty period shows 0)."""
        totals = defaultdict(float)
        totals[self.env.company.currency_id.id] = 0.0
        for company, amount in by_company.items():
            totals[company.currency_id.id] += amount or 0.0
        return [{"currency_id": cid, "value": value} for cid, value in totals.items()]

    # ------------------------------------------------------------------ lists

    @api.model
    def _dashboard_lists(self, ctx):
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
