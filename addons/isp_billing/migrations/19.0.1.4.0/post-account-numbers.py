"""Every ISP customer has an account number (res.partner.isp_account_number): give one to the
customers made before, in one batch (res.partner._isp_fill_account_numbers)."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["res.partner"]._isp_fill_account_numbers()
