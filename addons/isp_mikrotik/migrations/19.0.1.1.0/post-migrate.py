"""Router profiles are named with the reserved prefix isp-billing-b<bundle id> (RouterOS
profiles have no comment to tag them with): bundles named the old way get their new name."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    bundles = (
        env["product.template"]
        .with_context(active_test=False)
        .search([("is_isp_bundle", "=", True)])
    )
    bundles._isp_mikrotik_default_profile()
