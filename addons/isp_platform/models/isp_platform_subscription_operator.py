"""What an operator sees of its own platform subscription (the Subscription screen): plan,
state, period, invoices, usage against the plan's limits, and the invoice to pay."""

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain
from odoo.tools.misc import format_date

# the models counted as an operator's routers, when their module is installed
ROUTER_MODELS = ("isp.router", "isp.radius.nas")
OPERATOR_GROUPS = (
    "isp_platform.group_isp_operator_admin",
    "isp_platform.group_isp_platform_manager",
)


class IspPlatformSubscription(models.Model):
    _inherit = "isp.platform.subscription"  # pylint: disable=consider-merging-classes-inherited

    # ------------------------------------------------------------------ usage

    @api.model
    def _usage(self, companies, today=None):
        """{company id: {"routers", "active_customers", "sms_month"}} for ``companies``, one
        grouped query per figure (no loop per company): routers (isp_mikrotik's routers and
        isp_radius's NAS, where installed), customers with an active ISP subscription, and SMS
        of the company's records this month (Odoo's SMS notifications, which outlive the
        purged sms.sms rows)."""
        env = self.env(su=True)
        ids = companies.ids
        usage = {cid: {"routers": 0, "active_customers": 0, "sms_month": 0} for cid in ids}
        for model in ROUTER_MODELS:
            if model not in env or "company_id" not in env[model]._fields:
                continue
            for company, count in env[model]._read_group(
                [("company_id", "in", ids)], ["company_id"], ["__count"]
            ):
                usage[company.id]["routers"] += count
        for company, count in env["isp.subscription"]._read_group(
            [("company_id", "in", ids), ("state", "=", "active")],
            ["company_id"],
            ["partner_id:count_distinct"],
        ):
            usage[company.id]["active_customers"] = count
        today = today or fields.Date.context_today(self)
        month_start = fields.Datetime.to_datetime(today.replace(day=1))
        for company, count in env["mail.notification"]._read_group(
            [
                ("notification_type", "=", "sms"),
                ("notification_status", "!=", "canceled"),
                ("mail_message_id.date", ">=", month_start),
                ("mail_message_id.record_company_id", "in", ids),
            ],
            ["mail_message_id.record_company_id"],
            ["__count"],
        ):
            usage[company.id]["sms_month"] = count
        return usage

    # ------------------------------------------------------------------ operator screen

    @api.model
    def _operator_subscription(self):
        """The current company's own platform subscription (sudo), for its operator admins
        (and the platform owner). Odoo has already checked that the user may work in the
        current company; nothing here takes an id from the caller."""
        user = self.env.user
        if not any(user.has_group(group) for group in OPERATOR_GROUPS):
            raise AccessError(self.env._("Only the operator's administrators see this."))
        company = self.env.company
        if company not in user.company_ids:
            raise AccessError(self.env._("Not allowed."))
        return self.sudo().search([("operator_company_id", "=", company.id)], limit=1)

    @api.model
    def _operator_screen_values(self):
        """Everything the Subscription screen shows, of the current company's subscription
        only: a dict of plain values (no record of the platform company leaves)."""
        subscription = self._operator_subscription()
        company = self.env.company
        usage = self._usage(company, today=subscription._today() if subscription else None)[
            company.id
        ]
        values = {
            "company_id": company.id,
            "has_subscription": bool(subscription),
            "routers": usage["routers"],
            "active_customers": usage["active_customers"],
            "sms_month": usage["sms_month"],
            "invoices": [],
        }
        if not subscription:
            return values
        plan = subscription.plan_id
        values.update(
            plan_name=plan.name,
            billing_period=plan.billing_period,
            price=plan.price,
            currency_id=subscription.currency_id.id,
            state=subscription.state,
            period_start=subscription.period_start,
            period_end=subscription.period_end,
            next_invoice_date=subscription.next_invoice_date,
            pay_by_date=subscription.pay_by_date,
            amount_due=subscription.amount_due,
            max_routers=plan.max_routers,
            max_active_customers=plan.max_active_customers,
            max_sms_month=plan.max_sms_month,
            invoices=[
                {
                    "move_id": move.id,
                    "name": move.name,
                    "invoice_date": move.invoice_date,
                    "date_due": move.invoice_date_due,
                    "period": self.env._(
                        "%(start)s to %(end)s",
                        start=format_date(self.env, move.isp_platform_period_start),
                        end=format_date(self.env, move.isp_platform_period_end),
                    ),
                    "amount_total": move.amount_total,
                    "amount_residual": move.amount_residual,
                    "payment_state": move.payment_state,
                }
                for move in subscription.invoice_ids.filtered(lambda m: m.state == "posted").sorted(
                    "invoice_date", reverse=True
                )
            ],
        )
        return values

    @api.model
    def _operator_pay_url(self, move_id=None):
        """The portal address (with its access token) of an unpaid invoice of the current
        company's subscription: ``move_id`` when it is one of them, else the oldest unpaid.
        The portal's invoice page offers the platform company's payment providers."""
        subscription = self._operator_subscription()
        unpaid = subscription._unpaid_invoices().sorted("invoice_date_due")
        if move_id:
            unpaid = unpaid.filtered(lambda m: m.id == move_id)
        if not unpaid:
            raise UserError(self.env._("There is no unpaid platform invoice to pay."))
        return unpaid[0].get_portal_url()

    # ------------------------------------------------------------------ dashboard figures

    @api.model
    def _churn(self, days=30):
        """(lost, at start): operators whose subscription was cancelled or suspended in the
        last ``days`` days, and operators subscribed at the window's start (churn = lost /
        at start)."""
        start = fields.Datetime.now() - relativedelta(days=days)
        Sub = self.sudo()
        lost = Sub.search_count(
            Domain("state", "in", ("cancelled", "suspended")) & Domain("state_date", ">=", start)
        )
        at_start = Sub.search_count(
            Domain("create_date", "<", start)
            & (Domain("state", "not in", ("cancelled",)) | Domain("state_date", ">=", start))
        )
        return lost, at_start
