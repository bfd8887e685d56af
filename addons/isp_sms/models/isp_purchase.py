from odoo import api, fields, models
from odoo.tools.misc import formatLang

from .isp_subscription import isp_sms_guard

TEMPLATE_PAYMENT = "isp_sms.sms_template_isp_payment_confirmation"
TEMPLATE_VOUCHER = "isp_sms.sms_template_isp_voucher_redemption"
TEMPLATE_RENEWAL = "isp_sms.sms_template_isp_renewal_confirmation"
# a period given without money received (a free grant, a sale not paid yet)
TEMPLATE_GRANT = "isp_sms.sms_template_isp_access_granted"


class IspPurchase(models.Model):
    _inherit = "isp.purchase"

    isp_sms_amount = fields.Char(string="Amount (SMS text)", compute="_compute_isp_sms_texts")
    isp_sms_duration = fields.Char(string="Duration (SMS text)", compute="_compute_isp_sms_texts")
    isp_sms_end = fields.Char(string="Period End (SMS text)", compute="_compute_isp_sms_texts")
    isp_sms_message_id = fields.Many2one(
        "mail.message",
        string="Confirmation SMS",
        readonly=True,
        copy=False,
        ondelete="set null",
        help="The confirmation SMS posted in the subscription's chatter (its notification "
        "tells whether it is queued, sent or failed).",
    )

    @api.depends("amount", "bundle_id", "date_end", "subscription_id.partner_id.tz")
    @api.depends_context("lang")
    def _compute_isp_sms_texts(self):
        for purchase in self:
            purchase.isp_sms_amount = purchase._sms_format_amount()
            purchase.isp_sms_duration = purchase._sms_format_duration()
            purchase.isp_sms_end = purchase.subscription_id._sms_datetime(purchase.date_end)

    def _sms_format_amount(self):
        """ "TSh 1,000": the currency's symbol first, as written in East Africa (and in the
        seed's texts), no decimals for whole amounts."""
        currency = self.currency_id
        amount = self.amount or 0.0
        digits = 0 if float(amount).is_integer() else currency.decimal_places
        number = formatLang(self.env, amount, digits=digits)
        symbol = currency.symbol or currency.name or ""
        return f"{symbol} {number}"

    def _sms_format_duration(self):
        template = self.bundle_id.product_tmpl_id
        value = template.isp_duration_value or 0
        unit = template.isp_duration_unit or "days"
        if unit == "hours":
            return (
                self.env._("%(count)s hour", count=value)
                if value == 1
                else self.env._("%(count)s hours", count=value)
            )
        if unit == "months":
            return (
                self.env._("%(count)s month", count=value)
                if value == 1
                else self.env._("%(count)s months", count=value)
            )
        return (
            self.env._("%(count)s day", count=value)
            if value == 1
            else self.env._("%(count)s days", count=value)
        )

    # ------------------------------------------------------------------ hook

    def _fulfilled(self):
        """Override of isp_billing's fulfilment hook to confirm the purchase by SMS."""
        result = super()._fulfilled()
        isp_sms_guard(self, "confirmation SMS", self._sms_confirm)
        return result

    def _sms_confirm(self):
        """A voucher's redemption, access given without money received (a manual grant, or
        a manual sale whose invoice is not paid: no "received" in the text), a renewal (the
        purchase extended a running period) or a payment (it activated the subscription)
        confirmed in the subscription's chatter; the old period's reminders still queued are
        cancelled."""
        purchases = self.filtered("subscription_id")
        purchases.subscription_id._sms_cancel_reminders()
        vouchers = purchases.filtered(lambda p: p.source == "voucher")
        grants = purchases.filtered(
            lambda p: p.source == "manual" and p.invoice_payment_state not in ("paid", "in_payment")
        )
        renewals = purchases.filtered("renewal") - vouchers - grants
        for template, group in (
            (TEMPLATE_VOUCHER, vouchers),
            (TEMPLATE_GRANT, grants),
            (TEMPLATE_RENEWAL, renewals),
            (TEMPLATE_PAYMENT, purchases - vouchers - grants - renewals),
        ):
            subscriptions = self.env["isp.subscription"].concat(*(p.subscription_id for p in group))
            messages = subscriptions._sms_post(template, render_records=group)
            for purchase in group:
                message = messages.get(purchase.subscription_id.id)
                if message:
                    purchase.sudo().isp_sms_message_id = message
