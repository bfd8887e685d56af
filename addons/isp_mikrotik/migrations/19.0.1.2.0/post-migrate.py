"""Set-up tokens are no longer stored in clear: the token of each router becomes its SHA-256
(scripts already downloaded keep fetching their login page), and the clear column goes."""

from odoo.tools import SQL
from odoo.tools.sql import column_exists


def migrate(cr, version):
    if not column_exists(cr, "isp_router", "setup_token"):
        return
    cr.execute(
        SQL(
            "UPDATE isp_router SET setup_token_hash = encode(sha256(convert_to(setup_token, "
            "'UTF8')), 'hex') WHERE setup_token IS NOT NULL AND setup_token_hash IS NULL"
        )
    )
    cr.execute(SQL("ALTER TABLE isp_router DROP COLUMN setup_token"))
