"""M-Pesa / ClickPesa providers of companies whose chart of accounts was loaded after them (every
fresh install, companies created later) get their MPESA / CLKP journal, also in place of the
generic bank journal Odoo fell back to when they were enabled without one."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env["payment.provider"].search([("code", "in", ("daraja", "clickpesa"))])._isp_ensure_journal(
        replace_fallback=True
    )
