from odoo import fields, models

from ..tools.sms_api import SmsApiAfricasTalking, SmsApiNextSms


class ResCompany(models.Model):
    _inherit = "res.company"

    isp_sms_gateway_id = fields.Many2one(
        "isp.sms.gateway",
        string="ISP SMS Gateway",
        domain="[('company_id', '=', id)]",
        ondelete="set null",
        help="When set, this company's SMS go through this gateway (NextSMS or Africa's "
        "Talking); when empty, through Odoo's own choice (IAP, or Twilio).",
    )

    def _get_sms_api_class(self):
        self.ensure_one()
        gateway = self.sudo().isp_sms_gateway_id
        if gateway.active:
            return SmsApiNextSms if gateway.provider == "nextsms" else SmsApiAfricasTalking
        return super()._get_sms_api_class()
