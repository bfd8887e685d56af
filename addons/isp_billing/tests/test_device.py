from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..models.isp_device import is_randomized_mac, normalize_mac
from .common import IspBillingCase


@tagged("post_install", "-at_install")
class TestDevice(IspBillingCase):
    def setUp(self):
        super().setUp()
        self.customer = self._customer("0712345678", isp_device_limit=2)
        self.Device = self.env["isp.device"]

    def test_mac_normalisation(self):
        for given in (
            "aa:bb:cc:dd:ee:ff",
            "AA-BB-CC-DD-EE-FF",
            "aabb.ccdd.eeff",
            "aabbccddeeff",
            " Aa:Bb:Cc:Dd:Ee:Ff ",
        ):
            with self.subTest(given=given):
                self.assertEqual(normalize_mac(given), "AA:BB:CC:DD:EE:FF")
                self.assertEqual(self.Device._normalize_mac(given), "AA:BB:CC:DD:EE:FF")
        # truncated, too long, not hex, broadcast, multicast, all zeros
        for bad in (
            "",
            "aa:bb:cc:dd:ee",
            "aa:bb:cc:dd:ee:ff:00",
            "zz:bb:cc:dd:ee:ff",
            "ff:ff:ff:ff:ff:ff",
            "01:00:5e:00:00:01",
            "00:00:00:00:00:00",
        ):
            with self.subTest(bad=bad):
                self.assertIsNone(normalize_mac(bad))
                with self.assertRaises(ValidationError):
                    self.Device._normalize_mac(bad)

    def test_randomised_mac_flag(self):
        for mac, randomised in (
            ("02:00:00:00:00:01", True),
            ("A6:11:22:33:44:55", True),
            ("DA:11:22:33:44:55", True),
            ("EE:11:22:33:44:55", True),
            ("00:11:22:33:44:55", False),
            ("F0:11:22:33:44:55", False),
        ):
            with self.subTest(mac=mac):
                self.assertEqual(is_randomized_mac(mac), randomised)
                device = self.Device.create({"partner_id": self.customer.id, "mac": mac})
                self.assertEqual(device.is_randomized_mac, randomised)
                device.unlink()

    def test_type_guess(self):
        cases = [
            ("Mozilla/5.0 (Linux; Android 13; SM-A145F) Mobile Safari/537.36", "phone"),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)", "phone"),
            ("Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X)", "tablet"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "computer"),
            ("Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0)", "tv"),
            ("curl/8.0", "other"),
        ]
        for user_agent, kind in cases:
            with self.subTest(user_agent=user_agent):
                device = self.Device.new({"user_agent": user_agent})
                self.assertEqual(device.device_type, kind)

    def test_registration_within_limit_and_denials_logged(self):
        Log = self.env["isp.access.log"]
        first = self.Device._isp_register(self.customer, "00:11:22:33:44:01", ip="10.5.50.2")
        self.assertTrue(first["granted"])
        self.assertEqual(first["reason"], "new_device")
        self.assertEqual(first["device"].mac, "00:11:22:33:44:01")
        again = self.Device._isp_register(self.customer, "00-11-22-33-44-01", ip="10.5.50.9")
        self.assertTrue(again["granted"])
        self.assertEqual(again["reason"], "known_device")
        self.assertEqual(again["device"], first["device"])
        self.assertEqual(first["device"].ip, "10.5.50.9")
        second = self.Device._isp_register(self.customer, "00:11:22:33:44:02")
        self.assertTrue(second["granted"])
        third = self.Device._isp_register(self.customer, "00:11:22:33:44:03", ip="10.5.50.7")
        self.assertFalse(third["granted"])
        self.assertEqual(third["reason"], "device_limit")
        self.assertIn("2 devices", third["message"])
        self.assertFalse(third["device"])
        self.assertEqual(len(self.customer.isp_device_ids), 2)
        denial = Log.search([("partner_id", "=", self.customer.id), ("result", "=", "denied")])
        self.assertEqual(len(denial), 1)
        self.assertEqual(
            (denial.reason, denial.mac, denial.ip),
            ("device_limit", "00:11:22:33:44:03", "10.5.50.7"),
        )
        self.assertEqual(
            Log.search_count([("partner_id", "=", self.customer.id), ("result", "=", "granted")]),
            3,
        )
        # removing a device frees a slot; the removed device can come back later
        first["device"].action_remove()
        self.assertTrue(self.Device._isp_register(self.customer, "00:11:22:33:44:03")["granted"])
        back = self.Device._isp_register(self.customer, "00:11:22:33:44:01")
        self.assertFalse(back["granted"])

    def test_bundle_device_limit_raises_the_customer_limit(self):
        family = self._bundle("Family week", 15000, 7, "days", isp_device_limit=4)
        self._fulfil(self.customer, family, "TX-FAM")
        for i in range(4):
            self.assertTrue(
                self.Device._isp_register(self.customer, f"00:11:22:33:55:0{i}")["granted"]
            )
        self.assertFalse(self.Device._isp_register(self.customer, "00:11:22:33:55:09")["granted"])

    def test_reactivating_beyond_the_limit_is_refused(self):
        for i in range(2):
            self.Device._isp_register(self.customer, f"00:11:22:33:66:0{i}")
        old = self.Device.create(
            {"partner_id": self.customer.id, "mac": "00:11:22:33:66:09", "active": False}
        )
        with self.assertRaises(ValidationError):
            old.active = True

    def test_invalid_mac_on_registration_logs_nothing(self):
        with self.assertRaises(ValidationError):
            self.Device._isp_register(self.customer, "not-a-mac")
        self.assertFalse(self.env["isp.access.log"].search([("partner_id", "=", self.customer.id)]))
