"""Customers behind one hotspot router reach Odoo from the router's one address (its NAT):
the captive page's payments go through isp_mpesa's push limits, per phone (low) and per
client address (high), with the real ClickPesa provider on its loopback simulator."""

from odoo.tests import tagged

from odoo.addons.isp_hotspot.tests.common import CaptivePageSession
from odoo.addons.isp_mpesa.tests.common import MpesaCase


@tagged("post_install", "-at_install")
class TestHotspotPushLimits(CaptivePageSession, MpesaCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["website"].get_current_website().company_id = cls.tz_company
        cls.clickpesa.write(
            {
                "is_published": True,
                "isp_push_limit": 3,
                "isp_push_ip_limit": 60,
                "isp_push_window": 120,
            }
        )

    def _pay(self, phone):
        return self.api(
            "POST", "/api/initiate-payment/", {"phone": phone, "bundle_id": self.tzs_bundle.id}
        )

    def test_ten_customers_behind_one_router_then_the_limits(self):
        # every request comes from the test server's one address, as behind a router's NAT
        for n in range(10):
            response = self._pay(f"07541234{n:02d}")
            self.assertEqual(response.status_code, 201, response.text)
            self.assertEqual(response.json()["status"], "waiting")
        self.assertEqual(
            self.env["payment.transaction"].search_count(
                [("provider_id", "=", self.clickpesa.id), ("state", "=", "pending")]
            ),
            10,
        )
        # one customer's fourth prompt within two minutes
        for _i in range(2):
            self.assertEqual(self._pay("0754123400").status_code, 201)
        refused = self._pay("0754123400")
        self.assertEqual(refused.status_code, 429)
        self.assertIn("for this phone number", refused.json()["error"]["message"])
        # the address limit reached: told it is the network, not the device
        self.clickpesa.isp_push_ip_limit = 12
        blocked = self._pay("0754123499")
        self.assertEqual(blocked.status_code, 429)
        message = blocked.json()["error"]["message"]
        self.assertIn("from this network", message)
        self.assertNotIn("device", message)
        self.assertFalse(
            self.env["payment.transaction"].search_count([("isp_push_phone", "=", "255754123499")]),
            "nothing was pushed",
        )
