from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    isp_default_device_limit = fields.Integer(
        related="company_id.isp_default_device_limit", readonly=False
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
    isp_paybill_number = fields.Char(related="company_id.isp_paybill_number", readonly=False)
    isp_wifi_ssid = fields.Char(related="company_id.isp_wifi_ssid", readonly=False)
    isp_login_address = fields.Char(related="company_id.isp_login_address", readonly=False)
    isp_voucher_card_layout = fields.Selection(
        related="company_id.isp_voucher_card_layout", readonly=False
    )
