"""The approved operator's captive page on its own domain sells its own bundles."""

from odoo import Command
from odoo.tests import HttpCase, tagged

from odoo.addons.isp_hotspot.tests.common import CaptivePageSession

from .test_platform_approval_common import PlatformApprovalMixin


@tagged("post_install", "-at_install")
class TestPlatformOperatorHotspot(PlatformApprovalMixin, CaptivePageSession, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._platform_setup()
        cls.env["product.template"].create(
            {
                "name": "Platform Own Daily",
                "is_isp_bundle": True,
                "list_price": 1500,
                "isp_duration_value": 1,
                "isp_duration_unit": "days",
                "company_id": cls.platform.id,
                "taxes_id": [Command.clear()],
            }
        )
        cls.app = cls._application(
            "Thika Hotspots", "admin@thika.example", domain="wifi.thika.example"
        )
        cls.company = cls._approve(cls.app)

    def _page(self, host):
        self.env.flush_all()
        return self.url_open("/hotspot", headers={"Host": host})

    def test_operator_domain_shows_its_bundles(self):
        response = self._page("wifi.thika.example")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Thika Hotspots", response.text)
        for name in ("1 Hour", "1 Day", "1 Week", "1 Month"):
            self.assertIn(name, response.text)
        self.assertIn("KSh 20", response.text, "priced in the operator's currency")
        self.assertNotIn("Platform Own Daily", response.text)

    def test_platform_host_keeps_platform_bundles(self):
        """The same request without the operator's host: the platform's page (the check
        above can fail)."""
        response = self._page("127.0.0.1")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Platform Own Daily", response.text)
        self.assertNotIn("Thika Hotspots", response.text)
