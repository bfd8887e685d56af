from odoo import fields, models

# reminder kinds: the email each sends once per invoice
REMINDER_KINDS = ("invoice", "reminder", "overdue", "suspended")


class AccountMove(models.Model):
    _inherit = "account.move"

    isp_platform_subscription_id = fields.Many2one(
        "isp.platform.subscription",
        string="Platform Subscription",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The operator's platform subscription this invoice bills a period of.",
    )
    isp_platform_period_start = fields.Date(
        string="Platform Period From", readonly=True, copy=False
    )
    isp_platform_period_end = fields.Date(string="Platform Period To", readonly=True, copy=False)
    isp_platform_sent = fields.Char(
        string="Platform Emails Sent",
        readonly=True,
        copy=False,
        help="The platform emails already sent for this invoice (invoice, reminder, overdue, "
        "suspended): each goes once.",
    )

    # One invoice per platform subscription and period: the renewal cron run twice (or two
    # runs at once) cannot invoice a period twice.
    _isp_platform_period_unique = models.UniqueIndex(
        "(isp_platform_subscription_id, isp_platform_period_start) "
        "WHERE isp_platform_subscription_id IS NOT NULL",
        "This platform subscription period is already invoiced.",
    )

    def _invoice_paid_hook(self):
        """Override of account: paying a platform invoice (online through the portal or
        registered by staff) makes its subscription active again in the same transaction,
        so the operator's sales resume at once."""
        result = super()._invoice_paid_hook()
        subscriptions = self.sudo().isp_platform_subscription_id
        if subscriptions:
            subscriptions._update_state()
        return result

    def _isp_platform_send(self, kind):
        """Email the platform's ``kind`` message about this invoice to the operator's partner
        (with the invoice's portal link to pay it), once per invoice and kind."""
        template = self.env.ref(
            "isp_platform.mail_template_platform_invoice", raise_if_not_found=False
        )
        for move in self.sudo():
            sent = set((move.isp_platform_sent or "").split(","))
            if kind in sent or not template:
                continue
            move.isp_platform_sent = ",".join(sorted((sent | {kind}) - {""}))
            partner = move.isp_platform_subscription_id.partner_id or move.partner_id
            move.with_context(isp_platform_kind=kind).message_post_with_source(
                template,
                subtype_xmlid="mail.mt_comment",
                partner_ids=partner.ids,
            )
