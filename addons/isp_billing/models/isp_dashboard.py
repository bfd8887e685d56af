"""The ISP dashboard's entry points, shared helpers and the last payments and customers."""

from collections import defaultdict
from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError

# Churn: customers whose access lapsed and who did not buy again within N days (default 7).
CHURN_DAYS_DEFAULT = 7
CHURN_DAYS_MAX = 365
# KPIs (revenue per customer, new / returning, churn window) look at the last 30 days.
KPI_DAYS = 30
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
        payments, vouchers, devices, and what other modules add)."""
        ctx = self._dashboard_context(options)
        sections = sorted(
            self._dashboard_sections(ctx), key=lambda s: (s.get("sequence", 100), s["key"])
        )
        return {
            "generated_at": fields.Datetime.to_string(ctx["now"]),
            "company_names": ctx["companies"].mapped("name"),
            "sections": sections,
            "lists": self._dashboard_lists(ctx),
        }

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
        options = options or {}
        churn_days = self._check_churn_days(options.get("churn_days", CHURN_DAYS_DEFAULT))
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
    def _card(self, key, label, value, action=None, *, kind="integer", tone=None, hint=None):
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
