from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    isp_subscription_id = fields.Many2one(
        "isp.subscription",
        string="ISP Subscription",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The monthly-billed subscription this invoice bills a period of.",
    )
    isp_period_start = fields.Date(string="Billed From", readonly=True, copy=False)
    isp_period_end = fields.Date(string="Billed To", readonly=True, copy=False)

    # One invoice per subscription and period: the billing cron and a staff "invoice now"
    # cannot bill a period twice.
    _isp_period_unique = models.UniqueIndex(
        "(isp_subscription_id, isp_period_start) WHERE isp_subscription_id IS NOT NULL",
        "This subscription period is already invoiced.",
    )

    def _invoice_paid_hook(self):
        result = super()._invoice_paid_hook()
        # Paying a period invoice (online through a provider or registered by staff)
        # reconnects its suspended subscription at once when nothing else is overdue.
        subscriptions = self.sudo().isp_subscription_id
        if subscriptions:
            subscriptions._reconnect_paid()
        return result
