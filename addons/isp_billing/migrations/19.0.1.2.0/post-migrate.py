"""Since 19.0.1.2.0 the invoices of paid purchases are issued by the payment transactions'
post-processing (Odoo's post-processing cron): isp_billing's own invoicing job goes. It is a
noupdate record, which an update does not delete. (The fields only it used are dropped by
Odoo with their columns, their index with them.)"""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    cron = env.ref("isp_billing.ir_cron_isp_invoice_purchases", raise_if_not_found=False)
    if cron:
        cron.unlink()
