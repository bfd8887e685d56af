"""Cross-module checks: the five modules and their bridges install together, following the
graph of docs/architecture.md."""

from odoo.tests import TransactionCase, tagged

# isp_hotspot, isp_mpesa, isp_sms and isp_mikrotik build on isp_billing; isp_billing knows none
# of them, and they never depend on each other (hooks and Odoo's payment flow connect them):
# where the captive page needs a sibling, a small auto-install bridge depends on both (as
# Odoo's sale_stock does), and is installed by itself with the last of them.
ALLOWED_SUITE_DEPENDENCIES = {
    "isp_billing": set(),
    "isp_mpesa": {"isp_billing"},
    "isp_sms": {"isp_billing"},
    "isp_mikrotik": {"isp_billing"},
    "isp_hotspot": {"isp_billing"},
    "isp_hotspot_mikrotik": {"isp_hotspot", "isp_mikrotik"},
    "isp_hotspot_sms": {"isp_hotspot", "isp_sms"},
    "isp_radius": {"isp_billing"},
    "isp_radius_mikrotik": {"isp_radius", "isp_mikrotik"},
    # the operator platform sits on top: it provisions an operator's providers, SMS gateways,
    # routers and captive page, so it depends on the modules that own them
    "isp_platform": {"isp_billing", "isp_mpesa", "isp_sms", "isp_hotspot", "isp_mikrotik"},
}
SUITE = set(ALLOWED_SUITE_DEPENDENCIES)
BRIDGES = {"isp_hotspot_mikrotik", "isp_hotspot_sms", "isp_radius_mikrotik"}


@tagged("post_install", "-at_install")
class TestSuiteModules(TransactionCase):
    def test_dependency_graph(self):
        modules = self.env["ir.module.module"].search([("name", "in", list(SUITE))])
        for module in modules:
            with self.subTest(module=module.name):
                depends = set(module.dependencies_id.mapped("name"))
                self.assertEqual(depends & SUITE, ALLOWED_SUITE_DEPENDENCIES[module.name])
        hotspot = modules.filtered(lambda m: m.name == "isp_hotspot")
        self.assertTrue({"website", "payment"} <= set(hotspot.dependencies_id.mapped("name")))
        mpesa = modules.filtered(lambda m: m.name == "isp_mpesa")
        self.assertIn("payment", mpesa.dependencies_id.mapped("name"))
        sms = modules.filtered(lambda m: m.name == "isp_sms")
        self.assertIn("sms", sms.dependencies_id.mapped("name"))

    def test_bridges_install_themselves(self):
        bridges = self.env["ir.module.module"].search([("name", "in", list(BRIDGES))])
        self.assertEqual(len(bridges), len(BRIDGES))
        self.assertTrue(all(bridges.mapped("auto_install")))

    def test_router_module_license_combines_with_librouteros(self):
        # librouteros is GPL-2.0-or-later: the modules importing it must be GPL-compatible
        # (and a module depending on an AGPL module is AGPL, as OCA has it).
        for name in ("isp_mikrotik", "isp_hotspot_mikrotik", "isp_radius_mikrotik", "isp_platform"):
            module = self.env["ir.module.module"].search([("name", "=", name)])
            self.assertIn(module.license, {"AGPL-3", "GPL-3", "GPL-3 or any later version"})
