"""What an operator pays the platform for: a price per month or year and usage limits."""

from odoo import api, fields, models
from odoo.exceptions import ValidationError


class IspPlatformPlan(models.Model):
    _name = "isp.platform.plan"
    _description = "Platform Plan"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        string="Platform Company",
        required=True,
        default=lambda self: self.env.company,
        help="The platform company that invoices operators for this plan.",
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    billing_period = fields.Selection(
        [("month", "Monthly"), ("year", "Yearly")], required=True, default="month"
    )
    price = fields.Monetary(required=True)
    monthly_price = fields.Monetary(
        compute="_compute_monthly_price",
        help="The price brought to a month (a yearly plan's price / 12): what the plan adds "
        "to the platform's MRR.",
    )
    product_id = fields.Many2one(
        "product.product",
        string="Invoiced Product",
        required=True,
        default=lambda self: self.env.ref(
            "isp_platform.product_platform_subscription", raise_if_not_found=False
        ),
        domain="[('type', '=', 'service'), ('company_id', 'in', [company_id, False])]",
        help="The service product the platform's invoices carry (its taxes and income account).",
    )
    max_routers = fields.Integer(string="Routers", help="0 means no limit.")
    max_active_customers = fields.Integer(string="Active Customers", help="0 means no limit.")
    max_sms_month = fields.Integer(string="SMS per Month", help="0 means no limit.")
    invoice_days_before = fields.Integer(
        string="Invoice Ahead (days)",
        default=7,
        help="The next period's invoice is issued and emailed this many days before the "
        "period starts; it is due on the period's first day.",
    )
    reminder_days_before = fields.Integer(
        string="Reminder Before Renewal (days)",
        default=3,
        help="An email reminder goes to the operator when the renewal invoice is still unpaid "
        "this many days before it is due (0: no reminder before the due date).",
    )
    grace_days = fields.Integer(
        string="Grace (days)",
        default=7,
        help="Days after an invoice's due date during which the operator keeps selling "
        "(with a banner in its back office); then its new online sales are paused until "
        "payment.",
    )
    subscription_count = fields.Integer(compute="_compute_subscription_count")
    description = fields.Text(translate=True)

    _price_not_negative = models.Constraint(
        "CHECK(price >= 0)", "A plan's price cannot be negative."
    )
    _limits_not_negative = models.Constraint(
        "CHECK(max_routers >= 0 AND max_active_customers >= 0 AND max_sms_month >= 0)",
        "Limits cannot be negative (0 means no limit).",
    )
    _days_valid = models.Constraint(
        "CHECK(invoice_days_before >= 0 AND reminder_days_before >= 0 AND grace_days >= 0)",
        "Invoice, reminder and grace days cannot be negative.",
    )

    @api.depends("price", "billing_period")
    def _compute_monthly_price(self):
        for plan in self:
            plan.monthly_price = plan.price / 12 if plan.billing_period == "year" else plan.price

    def _compute_subscription_count(self):
        counts = dict(
            self.env["isp.platform.subscription"]._read_group(
                [("plan_id", "in", self.ids)], ["plan_id"], ["__count"]
            )
        )
        for plan in self:
            plan.subscription_count = counts.get(plan, 0)

    @api.constrains("product_id", "company_id")
    def _check_product_company(self):
        for plan in self:
            product_company = plan.product_id.company_id
            if product_company and product_company != plan.company_id:
                raise ValidationError(
                    self.env._(
                        "The invoiced product of plan %(plan)s must belong to its platform "
                        "company %(company)s (or be shared).",
                        plan=plan.name,
                        company=plan.company_id.name,
                    )
                )

    @api.constrains("invoice_days_before", "billing_period")
    def _check_invoice_days_before(self):
        for plan in self:
            if plan.invoice_days_before > 27:
                raise ValidationError(
                    self.env._("A renewal invoice is issued at most 27 days before the period.")
                )

    def _period_end(self, start):
        """The last day of the period of this plan starting on ``start`` (a date)."""
        from dateutil.relativedelta import relativedelta  # noqa: PLC0415

        self.ensure_one()
        step = relativedelta(years=1) if self.billing_period == "year" else relativedelta(months=1)
        return start + step - relativedelta(days=1)

    def action_open_subscriptions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "isp_platform.isp_platform_subscription_action"
        )
        action["domain"] = [("plan_id", "=", self.id)]
        return action
