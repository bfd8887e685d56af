"""The NextSMS reports cron (noupdate) calls the gateway's renamed method; SMS waiting for a
retry wait in state 'process', out of sms's queue, instead of 'outgoing'."""

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    cron = env.ref("isp_sms.ir_cron_isp_sms_poll_reports", raise_if_not_found=False)
    if cron:
        cron.code = "model._cron_poll_reports()"
    cr.execute(
        SQL(
            "UPDATE sms_sms SET state = 'process' WHERE state = 'outgoing' AND isp_retry_at > %s",
            env.cr.now(),
        )
    )
