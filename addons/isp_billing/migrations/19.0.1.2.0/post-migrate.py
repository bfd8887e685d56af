"""Crons that went (noupdate records, which an update does not delete): the invoices of paid
purchases are issued by the payment transactions' post-processing (Odoo's cron), the access
log and failed voucher attempts are purged by ir.autovacuum. (The fields only the invoicing
job used are dropped by Odoo with their columns, their index with them.)"""

from odoo import SUPERUSER_ID, api

CRONS = (
    "ir_cron_isp_invoice_purchases",
    "ir_cron_isp_purge_access_log",
    "ir_cron_isp_voucher_purge_attempts",
)


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    for name in CRONS:
        if cron := env.ref(f"isp_billing.{name}", raise_if_not_found=False):
            cron.unlink()
