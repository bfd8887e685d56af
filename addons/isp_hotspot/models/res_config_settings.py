from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    isp_hotspot_ip_payment_limit = fields.Integer(
        related="company_id.isp_hotspot_ip_payment_limit", readonly=False
    )
    isp_hotspot_ip_code_limit = fields.Integer(
        related="company_id.isp_hotspot_ip_code_limit", readonly=False
    )
    isp_hotspot_ip_signin_limit = fields.Integer(
        related="company_id.isp_hotspot_ip_signin_limit", readonly=False
    )
    isp_hotspot_ip_voucher_limit = fields.Integer(
        related="company_id.isp_hotspot_ip_voucher_limit", readonly=False
    )
    isp_hotspot_ip_lookup_limit = fields.Integer(
        related="company_id.isp_hotspot_ip_lookup_limit", readonly=False
    )
    isp_hotspot_login_hosts = fields.Text(
        related="company_id.isp_hotspot_login_hosts", readonly=False
    )

    def action_isp_use_operator_texts(self):
        """Settings › ISP › Captive Page › Website Texts: the company's websites show its
        name, address, phone and email instead of Odoo's sample footer and header contact."""
        self.ensure_one()
        websites = self.env["website"].search([("company_id", "=", self.company_id.id)])
        changed = websites._isp_use_operator_texts()
        if changed:
            message = self.env._(
                "The footer and header of %(websites)s now show %(company)s's name, address, "
                "phone and email.",
                websites=", ".join(changed.mapped("name")),
                company=self.company_id.name,
            )
        elif websites:
            message = self.env._(
                "The footer and header of %(websites)s were already written for this website: "
                "they are left as they are (edit them in the website editor).",
                websites=", ".join(websites.mapped("name")),
            )
        else:
            message = self.env._("%(company)s has no website.", company=self.company_id.name)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "message": message,
                "type": "success" if changed else "warning",
                "sticky": False,
            },
        }
