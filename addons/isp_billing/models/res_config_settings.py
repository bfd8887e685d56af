from odoo import api, fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    isp_default_device_limit = fields.Integer(
        related="company_id.isp_default_device_limit", readonly=False
    )
    isp_reminder_hotspot_hours = fields.Integer(
        related="company_id.isp_reminder_hotspot_hours", readonly=False
    )
    isp_reminder_pppoe_days = fields.Char(
        related="company_id.isp_reminder_pppoe_days", readonly=False
    )
    isp_access_log_retention_days = fields.Integer(
        related="company_id.isp_access_log_retention_days", readonly=False
    )
    isp_recurring_prorate = fields.Boolean(
        related="company_id.isp_recurring_prorate", readonly=False
    )
    isp_recurring_due_days = fields.Integer(
        related="company_id.isp_recurring_due_days", readonly=False
    )
    isp_recurring_grace_days = fields.Integer(
        related="company_id.isp_recurring_grace_days", readonly=False
    )
    isp_voucher_max_failures = fields.Integer(
        related="company_id.isp_voucher_max_failures", readonly=False
    )
    isp_voucher_max_failures_ip = fields.Integer(
        related="company_id.isp_voucher_max_failures_ip", readonly=False
    )
    isp_voucher_window_minutes = fields.Integer(
        related="company_id.isp_voucher_window_minutes", readonly=False
    )
    isp_voucher_attempt_retention_days = fields.Integer(
        related="company_id.isp_voucher_attempt_retention_days", readonly=False
    )
    isp_reseller_commission_percent = fields.Float(
        related="company_id.isp_reseller_commission_percent", readonly=False
    )

    @api.constrains("isp_reminder_pppoe_days")
    def _check_isp_reminder_pppoe_days(self):
        for settings in self:
            if settings.isp_reminder_pppoe_days:
                settings.company_id._isp_parse_day_offsets(settings.isp_reminder_pppoe_days)
