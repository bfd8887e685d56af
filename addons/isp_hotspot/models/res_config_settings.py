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
