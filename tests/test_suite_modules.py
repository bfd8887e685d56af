"""Cross-module checks: the five modules install together, following design.md's graph."""

from odoo.tests import TransactionCase, tagged

SUITE = {"isp_billing", "isp_mpesa", "isp_sms", "isp_mikrotik", "isp_hotspot"}
# design.md: isp_hotspot, isp_mpesa, isp_sms and isp_mikrotik build on isp_billing; isp_billing
# knows none of them, and the others never depend on each other (hooks and Odoo's payment flow
# connect them).
ALLOWED_SUITE_DEPENDENCIES = {
    "isp_billing": set(),
    "isp_mpesa": {"isp_billing"},
    "isp_sms": {"isp_billing"},
    "isp_mikrotik": {"isp_billing"},
    "isp_hotspot": {"isp_billing"},
}


@tagged("post_install", "-at_install")
class TestSuiteModules(TransactionCase):
    def test_all_installed(self):
        modules = self.env["ir.module.module"].search([("name", "in", list(SUITE))])
        self.assertEqual({m.name: m.state for m in modules}, dict.fromkeys(SUITE, "installed"))

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

    def test_router_module_license_combines_with_librouteros(self):
        # librouteros is GPL-2.0-or-later: the module importing it must be GPL-compatible.
        mikrotik = self.env["ir.module.module"].search([("name", "=", "isp_mikrotik")])
        self.assertIn(mikrotik.license, {"AGPL-3", "GPL-3", "GPL-3 or any later version"})
