from odoo import api, fields, models
from odoo.tools import formatLang
from odoo.tools.misc import format_date


class IspDunningStep(models.Model):
    """The texts of the payment reminder SMS (isp_billing's isp.dunning.step), in the
    customer's language (``sms_template_isp_dunning``)."""

    _inherit = "isp.dunning.step"

    isp_sms_amount = fields.Char(string="Amount Due (SMS text)", compute="_compute_isp_sms_texts")
    isp_sms_due = fields.Char(string="Due Date (SMS text)", compute="_compute_isp_sms_texts")
    isp_sms_pay_text = fields.Char(string="How to Pay (SMS text)", compute="_compute_isp_sms_texts")

    @api.depends(
        "amount",
        "push_state",
        "move_id.invoice_date_due",
        "move_id.partner_id.isp_sms_pay_hint",
    )
    @api.depends_context("lang")
    def _compute_isp_sms_texts(self):
        for step in self:
            step.isp_sms_amount = step._sms_format_amount()
            # a date: the company's day, as the billing cron set it (no time zone shift)
            due = step.move_id.invoice_date_due
            step.isp_sms_due = format_date(self.env, due, date_format="dd/MM/yyyy") if due else ""
            step.isp_sms_pay_text = step._sms_pay_text()

    def _sms_format_amount(self):
        """ "KSh 1,500": the currency's symbol first, no decimals for whole amounts (as the
        payment confirmation SMS write it)."""
        currency = self.currency_id
        amount = self.amount or 0.0
        digits = 0 if float(amount).is_integer() else currency.decimal_places
        number = formatLang(self.env, amount, digits=digits)
        return f"{currency.symbol or currency.name or ''} {number}"

    def _sms_pay_text(self):
        """How to pay, after the SMS's first sentence (each part starting with a space): the
        M-Pesa prompt sent to the phone, when one was, then the company's Paybill / Till
        and the customer's account number, when it has one (``isp_sms_pay_hint``, as the
        other SMS asking to pay write it)."""
        text = ""
        if self.push_state == "sent":
            text += " " + self.env._(
                "We sent an M-Pesa payment prompt to your phone: enter your PIN to pay."
            )
        return text + (self.move_id.partner_id.isp_sms_pay_hint or "")
