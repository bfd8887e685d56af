from odoo import SUPERUSER_ID, api

# bridge module: the sibling module it also needs
BRIDGES = {"isp_hotspot_mikrotik": "isp_mikrotik", "isp_hotspot_sms": "isp_sms"}


def migrate(cr, version):
    """The daily purge cron of rate-limit rows and sign-in codes became autovacuum methods.

    The captive page's router login (isp_mikrotik) and SMS sign-in codes (isp_sms) moved
    to auto-install bridge modules. Odoo installs an auto-install module with the last of
    its dependencies, not on an update: mark the bridges whose sibling is installed, so
    that the same update installs them and the page keeps both."""
    env = api.Environment(cr, SUPERUSER_ID, {})
    for xmlid in ("ir_cron_isp_hotspot_purge", "ir_cron_isp_hotspot_purge_ir_actions_server"):
        if record := env.ref(f"isp_hotspot.{xmlid}", raise_if_not_found=False):
            record.unlink()
    Module = env["ir.module.module"]
    siblings = Module.search(
        [("name", "in", list(BRIDGES.values())), ("state", "in", ("installed", "to upgrade"))]
    )
    names = [bridge for bridge, sibling in BRIDGES.items() if sibling in siblings.mapped("name")]
    bridges = Module.search([("name", "in", names), ("state", "=", "uninstalled")])
    if bridges:
        bridges.button_install()
