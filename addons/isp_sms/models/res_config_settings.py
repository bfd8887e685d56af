from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    isp_sms_gateway_id = fields.Many2one(related="company_id.isp_sms_gateway_id", readonly=False)

    def action_isp_sms_gateways(self):
        return self.env["ir.actions.act_window"]._for_xml_id("isp_sms.isp_sms_gateway_action")
