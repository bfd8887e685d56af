from odoo import models

from .isp_subscription import isp_sms_guard

TEMPLATE_DUNNING = "isp_sms.sms_template_isp_dunning"


class AccountMove(models.Model):
    _inherit = "account.move"

    def _isp_dunning_notify(self, step):
        """Override of isp_billing to queue the payment reminder SMS of ``step`` to the
        invoice's customer, posted in the invoice's chatter (its notification shows whether
        it was sent, delivered or failed). Returns that message, or False."""
        result = super()._isp_dunning_notify(step)
        partner = self.partner_id
        if not (partner.phone_sanitized or partner.phone):
            return result
        return isp_sms_guard(self, "payment reminder SMS", self._isp_sms_dunning, step) or result

    def _isp_sms_dunning(self, step):
        self.ensure_one()
        template = self.env["isp.subscription"]._sms_template(TEMPLATE_DUNNING)
        if not template:
            return False
        body = template._render_field("body", step.sudo().ids, compute_lang=True)[step.id]
        return self.sudo()._message_sms(body, partner_ids=self.partner_id.ids, put_in_queue=True)
