"""The operator's Subscription screen (ISP › Configuration › Platform Subscription): a
transient snapshot of the current company's own platform subscription, filled with sudo by
``isp.platform.subscription._operator_screen_values`` (operators cannot read the platform
company's records), read by its creator only (record rule)."""

from odoo import api, fields, models

from .isp_platform_subscription import STATES


def usage_text(env, used, limit):
    if not limit:
        return env._("%(used)s (no limit)", used=used)
    return env._("%(used)s of %(limit)s", used=used, limit=limit)


class IspPlatformSubscriptionScreen(models.TransientModel):
    _name = "isp.platform.subscription.screen"
    _description = "Platform Subscription (operator's screen)"

    company_id = fields.Many2one("res.company", readonly=True)
    has_subscription = fields.Boolean(readonly=True)
    plan_name = fields.Char(string="Plan", readonly=True)
    billing_period = fields.Selection(
        [("month", "Monthly"), ("year", "Yearly")], string="Billed", readonly=True
    )
    currency_id = fields.Many2one("res.currency", readonly=True)
    price = fields.Monetary(readonly=True)
    state = fields.Selection(STATES, readonly=True)
    period_start = fields.Date(string="Current Period From", readonly=True)
    period_end = fields.Date(string="Current Period To", readonly=True)
    next_invoice_date = fields.Date(readonly=True)
    pay_by_date = fields.Date(string="Pay By", readonly=True)
    amount_due = fields.Monetary(readonly=True)
    routers = fields.Integer(string="Routers Used", readonly=True)
    max_routers = fields.Integer(readonly=True)
    active_customers = fields.Integer(string="Active Customers Now", readonly=True)
    max_active_customers = fields.Integer(readonly=True)
    sms_month = fields.Integer(string="SMS Sent This Month", readonly=True)
    max_sms_month = fields.Integer(readonly=True)
    routers_text = fields.Char(string="Routers", compute="_compute_usage_text")
    customers_text = fields.Char(string="Active Customers", compute="_compute_usage_text")
    sms_text = fields.Char(string="SMS This Month", compute="_compute_usage_text")
    over_limit = fields.Boolean(compute="_compute_usage_text")
    line_ids = fields.One2many(
        "isp.platform.subscription.screen.line", "screen_id", string="Invoices", readonly=True
    )

    def _compute_display_name(self):
        for screen in self:
            screen.display_name = self.env._("Platform Subscription")

    @api.depends(
        "routers",
        "max_routers",
        "active_customers",
        "max_active_customers",
        "sms_month",
        "max_sms_month",
    )
    def _compute_usage_text(self):
        for screen in self:
            screen.routers_text = usage_text(self.env, screen.routers, screen.max_routers)
            screen.customers_text = usage_text(
                self.env, screen.active_customers, screen.max_active_customers
            )
            screen.sms_text = usage_text(self.env, screen.sms_month, screen.max_sms_month)
            screen.over_limit = any(
                limit and used > limit
                for used, limit in (
                    (screen.routers, screen.max_routers),
                    (screen.active_customers, screen.max_active_customers),
                    (screen.sms_month, screen.max_sms_month),
                )
            )

    @api.model
    def action_open(self):
        """Menu entry: a fresh snapshot of the current company's subscription."""
        values = self.env["isp.platform.subscription"]._operator_screen_values()
        invoices = values.pop("invoices")
        screen = self.create(
            {
                **values,
                "line_ids": [fields.Command.create(line) for line in invoices],
            }
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Platform Subscription"),
            "res_model": self._name,
            "res_id": screen.id,
            "view_mode": "form",
            "target": "current",
            "context": {"create": False, "edit": False},
        }

    def action_pay_now(self):
        """Open the oldest unpaid platform invoice's portal page (pay with the platform's
        providers, e.g. Pesapal)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": self.env["isp.platform.subscription"]._operator_pay_url(),
            "target": "new",
        }


class IspPlatformSubscriptionScreenLine(models.TransientModel):
    _name = "isp.platform.subscription.screen.line"
    _description = "Platform Subscription Invoice (operator's screen)"
    _order = "invoice_date desc, id desc"

    screen_id = fields.Many2one(
        "isp.platform.subscription.screen", required=True, ondelete="cascade"
    )
    move_id = fields.Integer(readonly=True)
    name = fields.Char(string="Invoice", readonly=True)
    invoice_date = fields.Date(readonly=True)
    date_due = fields.Date(string="Due", readonly=True)
    period = fields.Char(readonly=True)
    currency_id = fields.Many2one(related="screen_id.currency_id")
    amount_total = fields.Monetary(string="Amount", readonly=True)
    amount_residual = fields.Monetary(string="Amount Due", readonly=True)
    payment_state = fields.Selection(
        [
            ("not_paid", "Not Paid"),
            ("in_payment", "In Payment"),
            ("paid", "Paid"),
            ("partial", "Partially Paid"),
            ("reversed", "Reversed"),
            ("blocked", "Blocked"),
            ("invoicing_legacy", "Invoicing App Legacy"),
        ],
        readonly=True,
    )

    def action_pay(self):
        """Pay this invoice: its portal page, when it is an unpaid invoice of the current
        company's own subscription (the id is checked against it, never trusted)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": self.env["isp.platform.subscription"]._operator_pay_url(self.move_id),
            "target": "new",
        }
