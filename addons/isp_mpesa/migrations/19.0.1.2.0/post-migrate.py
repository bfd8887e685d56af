"""Old mobile money notifications are deleted by Odoo's autovacuum now
(``isp.mpesa.callback._gc_expired``): the former daily cron (a noupdate record, which an
update keeps) goes, with its server action."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    if cron := env.ref("isp_mpesa.ir_cron_isp_mpesa_purge_callbacks", raise_if_not_found=False):
        action = cron.ir_actions_server_id
        cron.unlink()
        action.unlink()
