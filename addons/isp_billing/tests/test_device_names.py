"""Devices are named by type ("Android phone (Samsung)", "iPhone"), not shown by MAC address:
the user-agent parser, the names given at registration (numbered per customer), the names
filled in for devices registered before, and renaming (own devices only)."""

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models.isp_device import parse_user_agent
from .common import IspBillingCase
from .test_portal import IspPortalCase

ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Mobile Safari/537.36"
)
SAMSUNG_INTERNET = (
    "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36"
)
SAMSUNG_A14 = (
    "Mozilla/5.0 (Linux; Android 13; SM-A145F) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.144 Mobile Safari/537.36"
)
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
WINDOWS_EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0"
)

# (user agent, name, type): real agents of the browsers customers come with
USER_AGENTS = [
    (ANDROID_CHROME, "Android phone", "phone"),
    (SAMSUNG_INTERNET, "Android phone (Samsung)", "phone"),
    (SAMSUNG_A14, "Android phone (Samsung)", "phone"),
    (
        "Mozilla/5.0 (Linux; Android 13; TECNO KI7) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/116.0.0.0 Mobile Safari/537.36",
        "Android phone (Tecno)",
        "phone",
    ),
    # Android's captive-portal sign-in (a WebView)
    (
        "Mozilla/5.0 (Linux; Android 12; Infinix X6816 Build/SP1A.210812.016; wv) "
        "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.163 Mobile "
        "Safari/537.36",
        "Android phone (Infinix)",
        "phone",
    ),
    (
        "Mozilla/5.0 (Linux; Android 11; itel A571W) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/110.0.0.0 Mobile Safari/537.36",
        "Android phone (itel)",
        "phone",
    ),
    (
        "Mozilla/5.0 (Linux; U; Android 12; en-us; Redmi Note 11 Build/SKQ1.211103.001) "
        "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/112.0.5615.136 Mobile "
        "Safari/537.36 XiaoMi/MiuiBrowser/14.5.0-gn",
        "Android phone (Xiaomi)",
        "phone",
    ),
    (
        "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0",
        "Android phone",
        "phone",
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36",
        "Android tablet (Samsung)",
        "tablet",
    ),
    (IPHONE_SAFARI, "iPhone", "phone"),
    # iOS's captive network assistant and Chrome on iOS
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148",
        "iPhone",
        "phone",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1",
        "iPhone",
        "phone",
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/16.6 Mobile/15E148 Safari/604.1",
        "iPad",
        "tablet",
    ),
    (WINDOWS_EDGE, "Windows PC", "computer"),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.5 Safari/605.1.15",
        "Mac",
        "computer",
    ),
    (
        "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
        "Linux PC",
        "computer",
    ),
    (
        "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
        "Linux PC",
        "computer",
    ),
    (
        "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36",
        "Chromebook",
        "computer",
    ),
    # KaiOS feature phones name Android or Firefox too
    (
        "Mozilla/5.0 (Mobile; Nokia_8110_4G; rv:48.0) Gecko/48.0 Firefox/48.0 KAIOS/2.5.4",
        "Feature phone (Nokia)",
        "phone",
    ),
    (
        "Mozilla/5.0 (Mobile; LYF/F300B/LYF-F300B-001-01-15-130718-i;Android; rv:48.0) "
        "Gecko/48.0 Firefox/48.0 KAIOS/2.5",
        "Feature phone",
        "phone",
    ),
    (
        "Opera/9.80 (J2ME/MIDP; Opera Mini/4.2.14912/870; U; id) Presto/2.4.15",
        "Feature phone",
        "phone",
    ),
    (
        "Mozilla/5.0 (SMART-TV; LINUX; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) "
        "76.0.3809.146/6.0 TV Safari/537.36",
        "Smart TV",
        "tv",
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox One) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19041",
        "Game console",
        "tv",
    ),
    (
        "Mozilla/5.0 (Linux; Android 9; KFMAWI) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Silk/120.3.1 like Chrome/120.0.6099.230 Safari/537.36",
        "Kindle",
        "tablet",
    ),
    # Android's own HTTP client (no browser)
    (
        "Dalvik/2.1.0 (Linux; U; Android 11; SM-A115F Build/RP1A.200720.012)",
        "Android phone (Samsung)",
        "phone",
    ),
    # empty and garbage: a device of unknown kind
    ("", "Device", "other"),
    (None, "Device", "other"),
    ("curl/8.5.0", "Device", "other"),
    ("Mozilla/5.0", "Device", "other"),
    ("\x00\xff<script>alert(1)</script>", "Device", "other"),
    ("x" * 20000, "Device", "other"),
]


@tagged("post_install", "-at_install")
class TestDeviceNames(IspBillingCase):
    def setUp(self):
        super().setUp()
        self.customer = self._customer("0712345678", isp_device_limit=8)
        self.Device = self.env["isp.device"]

    def test_user_agent_table(self):
        for user_agent, name, device_type in USER_AGENTS:
            with self.subTest(user_agent=(user_agent or "")[:80]):
                self.assertEqual(self.Device._isp_name_from_user_agent(user_agent), name)
                self.assertEqual(parse_user_agent(user_agent)[1], device_type)
                device = self.Device.new({"user_agent": user_agent})
                self.assertEqual(device.device_type, device_type)

    def test_registration_names_the_device_and_numbers_the_same_kind(self):
        first = self.Device._isp_register(
            self.customer, "02:11:22:33:44:01", user_agent=SAMSUNG_INTERNET
        )["device"]
        second = self.Device._isp_register(
            self.customer, "02:11:22:33:44:02", user_agent=SAMSUNG_A14
        )["device"]
        third = self.Device._isp_register(
            self.customer, "02:11:22:33:44:03", user_agent=IPHONE_SAFARI
        )["device"]
        unknown = self.Device._isp_register(self.customer, "02:11:22:33:44:0F")["device"]
        self.assertEqual(first.name, "Android phone (Samsung)")
        self.assertEqual(second.name, "Android phone 2 (Samsung)")
        self.assertEqual(third.name, "iPhone")
        # no user agent (a device the router saw): "Device" and the end of its MAC
        self.assertEqual(unknown.name, "Device (44:0F)")
        self.assertEqual(unknown.display_name, "Device (44:0F)")
        self.assertEqual(first.mac, "02:11:22:33:44:01", "the MAC is kept")
        self.assertEqual(first.display_name, "Android phone (Samsung)")
        # another customer's devices do not count
        other = self._customer("0712345679")
        theirs = self.Device._isp_register(other, "02:11:22:33:44:09", user_agent=IPHONE_SAFARI)
        self.assertEqual(theirs["device"].name, "iPhone")
        # a removed device that comes back keeps its name; its number stays taken meanwhile
        first.action_remove()
        fourth = self.Device._isp_register(
            self.customer, "02:11:22:33:44:04", user_agent=SAMSUNG_INTERNET
        )["device"]
        self.assertEqual(fourth.name, "Android phone 3 (Samsung)")
        back = self.Device._isp_register(
            self.customer, "02:11:22:33:44:01", user_agent=SAMSUNG_INTERNET
        )["device"]
        self.assertEqual(back, first)
        self.assertEqual(back.name, "Android phone (Samsung)")
        # found by name or by MAC address
        self.assertEqual(
            self.Device.search(
                [("partner_id", "=", self.customer.id), ("name", "ilike", "iphone")]
            ),
            third,
        )
        self.assertEqual(self.Device.name_search("33:44:03")[0][0], third.id)

    def test_router_seen_device_named_when_its_browser_comes(self):
        seen = self.Device._isp_register(self.customer, "02:11:22:33:44:05")["device"]
        self.assertEqual(seen.name, "Device (44:05)")
        self.assertEqual(seen.device_type, "other")
        self.Device._isp_register(self.customer, "02:11:22:33:44:05", user_agent=WINDOWS_EDGE)
        self.assertEqual(seen.name, "Windows PC")
        self.assertEqual(seen.device_type, "computer")
        self.assertEqual(seen.user_agent, WINDOWS_EDGE)
        # a name the customer chose is never replaced
        named = self.Device._isp_register(self.customer, "02:11:22:33:44:06")["device"]
        named._isp_rename("Baba's laptop")
        self.Device._isp_register(self.customer, "02:11:22:33:44:06", user_agent=WINDOWS_EDGE)
        self.assertEqual(named.name, "Baba's laptop")
        self.assertFalse(named.name_auto)
        # nor one staff gave
        staff = self.Device.create(
            {"partner_id": self.customer.id, "mac": "02:11:22:33:44:07", "name": "Shop TV"}
        )
        self.Device._isp_register(self.customer, "02:11:22:33:44:07", user_agent=IPHONE_SAFARI)
        self.assertEqual(staff.name, "Shop TV")

    def test_devices_registered_before_get_names(self):
        """What the 19.0.1.3.0 migration does: devices without a name are named from the
        user agent stored with them, else "Device" and the end of their MAC address."""
        partner_id = self.customer.id
        with_agent = self.Device.create(
            {"partner_id": partner_id, "mac": "00:1B:63:4C:9A:10", "user_agent": IPHONE_SAFARI}
        )
        iphone = self.Device.create(
            {"partner_id": partner_id, "mac": "00:1B:63:4C:9A:11", "user_agent": IPHONE_SAFARI}
        )
        without = self.Device.create({"partner_id": self.customer.id, "mac": "00:1B:63:4C:9A:12"})
        named = self.Device.create(
            {"partner_id": self.customer.id, "mac": "00:1B:63:4C:9A:13", "name": "Amina's phone"}
        )
        legacy = with_agent | iphone | without
        legacy.flush_recordset()
        self.env.cr.execute(
            "UPDATE isp_device SET name = NULL, name_auto = FALSE WHERE id IN %s",
            [tuple(legacy.ids)],
        )
        legacy.invalidate_recordset()
        self.assertEqual(with_agent.display_name, with_agent.mac, "a device without a name")
        (legacy | named)._isp_fill_names()
        self.assertEqual(with_agent.name, "iPhone")
        self.assertEqual(iphone.name, "iPhone 2")
        self.assertEqual(without.name, "Device (9A:12)")
        self.assertTrue(all(legacy.mapped("name_auto")))
        self.assertEqual(named.name, "Amina's phone")
        self.assertFalse(named.name_auto)

    def test_names_in_the_customers_language(self):
        self.env["res.lang"]._activate_lang("sw")
        self.env["ir.module.module"]._load_module_terms(["isp_billing"], ["sw"], overwrite=True)
        sw = self.Device.with_context(lang="sw")
        phone = sw._isp_register(self.customer, "02:11:22:33:44:0A", user_agent=SAMSUNG_INTERNET)
        self.assertEqual(phone["device"].name, "Simu ya Android (Samsung)")
        unknown = sw._isp_register(self.customer, "02:11:22:33:44:0B")["device"]
        self.assertEqual(unknown.name, "Kifaa (44:0B)")
        # devices registered before names came: in their customer's language
        self.customer.lang = "sw"
        legacy = self.Device.create(
            {"partner_id": self.customer.id, "mac": "02:11:22:33:44:0C", "user_agent": WINDOWS_EDGE}
        )
        legacy.name = False
        legacy._isp_fill_names()
        self.assertEqual(legacy.name, "Kompyuta ya Windows")

    def test_rename(self):
        device = self.Device._isp_register(
            self.customer, "02:11:22:33:44:08", user_agent=IPHONE_SAFARI
        )["device"]
        device._isp_rename("  My   iPhone\n ")
        self.assertEqual(device.name, "My iPhone")
        device._isp_rename("x" * 100)
        self.assertEqual(device.name, "x" * 40)
        for empty in ("", "   ", None):
            with self.subTest(name=empty), self.assertRaises(UserError):
                device._isp_rename(empty)
        self.assertEqual(device.name, "x" * 40, "a refused name changes nothing")


@tagged("post_install", "-at_install")
class TestPortalDevices(IspPortalCase):
    """A hotspot customer's devices on /my: the name first, the MAC under it; renamed by
    a POST with the CSRF token, own devices only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.hotspot_a = cls.env["isp.subscription"].create(
            {"partner_id": cls.sub_a.partner_id.id, "bundle_id": cls.weekly.id}
        )
        cls.hotspot_a.action_activate()
        Device = cls.env["isp.device"]
        cls.phone_a = Device._isp_register(
            cls.sub_a.partner_id, "02:AA:00:00:00:01", user_agent=SAMSUNG_INTERNET
        )["device"]
        cls.phone_b = Device._isp_register(
            cls.sub_b.partner_id, "02:BB:00:00:00:01", user_agent=IPHONE_SAFARI
        )["device"]

    def _rename(self, subscription, device, name, csrf=True):
        data = {"name": name}
        if csrf:
            page = self.url_open(f"/my/subscriptions/{self.hotspot_a.id}").text
            data["csrf_token"] = self._csrf(page)
        return self.url_open(
            f"/my/subscriptions/{subscription.id}/device/{device.id}/rename", data=data
        )

    @staticmethod
    def _csrf(html):
        import re  # noqa: PLC0415

        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    def test_devices_listed_by_name_and_renamed(self):
        self._login("portal_a")
        page = self.url_open(f"/my/subscriptions/{self.hotspot_a.id}").text
        self.assertIn("Android phone (Samsung)", page)
        self.assertIn("02:AA:00:00:00:01", page)
        self.assertLess(
            page.index("Android phone (Samsung)"), page.index("02:AA:00:00:00:01"), "name first"
        )
        self.assertNotIn("02:BB:00:00:00:01", page)
        response = self._rename(self.hotspot_a, self.phone_a, "Mama's phone")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.phone_a.name, "Mama's phone")
        self.assertIn("Mama&#39;s phone", response.text)
        # an empty name is refused and says why
        response = self._rename(self.hotspot_a, self.phone_a, "   ")
        self.assertIn("Give the device a name.", response.text)
        self.assertEqual(self.phone_a.name, "Mama's phone")
        # the page says what the rename did from a code: a link cannot add words of its own
        page = self.url_open(f"/my/subscriptions/{self.hotspot_a.id}?device=Call+0700+000+000")
        self.assertNotIn("Call 0700", page.text)

    def test_cannot_rename_another_customers_device(self):
        self._login("portal_a")
        # B's device through A's own subscription, and through B's subscription
        for subscription in (self.hotspot_a, self.sub_b):
            with self.subTest(subscription=subscription.name), mute_logger("odoo.http"):
                response = self._rename(subscription, self.phone_b, "Mine now")
                self.assertEqual(response.status_code, 404)
        self.assertEqual(self.phone_b.name, "iPhone")
        # without the CSRF token nothing happens either
        with mute_logger("odoo.http"):
            response = self._rename(self.hotspot_a, self.phone_a, "No token", csrf=False)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.phone_a.name, "Android phone (Samsung)")
