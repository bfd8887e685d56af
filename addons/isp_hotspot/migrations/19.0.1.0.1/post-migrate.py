from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    """The daily purge cron of rate-limit rows and sign-in codes became autovacuum methods."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    for xmlid in ("ir_cron_isp_hotspot_purge", "ir_cron_isp_hotspot_purge_ir_actions_server"):
        if record := env.ref(f"isp_hotspot.{xmlid}", raise_if_not_found=False):
            record.unlink()
