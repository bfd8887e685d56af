from odoo import api, models


class IspHotspotLoginCode(models.Model):
    _inherit = "isp.hotspot.login.code"

    @api.model
    def _can_deliver(self):
        """Override of isp_hotspot: codes go by SMS."""
        return True

    @api.model
    def _deliver(self, partner, code):
        """Override of isp_hotspot: send the sign-in ``code`` by SMS (isp_sms's template
        *ISP: Sign-in code*), in the customer's language. The code is a secret: it goes to
        the SMS queue directly, never to the chatter (a new SMS triggers sms's queue cron)."""
        if super()._deliver(partner, code):
            return True
        partner = partner.sudo()
        partner.ensure_one()
        template = self.env.ref("isp_sms.sms_template_isp_login_code", raise_if_not_found=False)
        if not template or not partner.phone:
            return False
        body = (
            template.sudo()
            .with_context(isp_login_code=code)
            ._render_field("body", partner.ids, compute_lang=True)[partner.id]
        )
        self.env["sms.sms"].sudo().create(
            {
                "number": partner.phone_sanitized or partner.phone,
                "partner_id": partner.id,
                "body": body,
                "isp_company_id": partner.company_id.id,
            }
        )
        return True
