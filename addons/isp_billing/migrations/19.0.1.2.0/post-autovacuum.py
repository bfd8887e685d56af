"""The access log and failed voucher attempts are purged by ir.autovacuum: their crons go
(noupdate records, which an update does not delete)."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    for name in ("ir_cron_isp_purge_access_log", "ir_cron_isp_voucher_purge_attempts"):
        if cron := env.ref(f"isp_billing.{name}", raise_if_not_found=False):
            cron.unlink()
