from odoo import api, fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    isp_sms_gateway_id = fields.Many2one(related="company_id.isp_sms_gateway_id", readonly=False)
    isp_reminder_hotspot_hours = fields.Integer(
        related="company_id.isp_reminder_hotspot_hours", readonly=False
    )
    isp_reminder_pppoe_days = fields.Char(
        related="company_id.isp_reminder_pppoe_days", readonly=False
    )
    isp_usage_alert_percent = fields.Integer(
        related="company_id.isp_usage_alert_percent", readonly=False
    )

    @api.constrains("isp_reminder_pppoe_days")
    def _check_isp_reminder_pppoe_days(self):
        for settings in self:
            if settings.isp_reminder_pppoe_days:
                settings.company_id._isp_parse_day_offsets(settings.isp_reminder_pppoe_days)
