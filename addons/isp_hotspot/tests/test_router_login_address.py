"""The captive page hands a customer's hotspot login (user name and password, or its CHAP
answer) only to the login address of one of the company's routers, and connects a device
(registers it, logs it in) only on a POST carrying the session's CSRF token."""

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..models.isp_hotspot_router_login import login_host_allows, login_origin, parse_login_host
from .common import HotspotCase, csrf
from .test_page import ROUTER


@tagged("post_install", "-at_install")
class TestRouterLoginAddress(HotspotCase):
    def connect(self, params, html):
        return self.url_open(
            "/hotspot/status", data={**params, "csrf_token": csrf(html)}, method="POST"
        )

    def test_login_address_matching(self):
        allowed = "10.5.50.1"
        for url, expected in (
            ("http://10.5.50.1/login", True),
            ("https://10.5.50.1/login", True),
            ("http://10.5.50.1:80/login", True),
            ("HTTP://10.5.50.1./login", True),
            ("http://10.5.50.1:8080/login", False),
            ("http://10.5.50.10/login", False),
            ("http://10.5.50.1.evil.example/login", False),
            ("http://10.5.50.1@evil.example/login", False),
            ("http://evil.example/login?h=10.5.50.1", False),
            ("javascript://10.5.50.1/%0aalert(1)", False),
            ("ftp://10.5.50.1/login", False),
        ):
            with self.subTest(url=url):
                self.assertEqual(login_host_allows(allowed, login_origin(url)), expected)
        origin = "https://login.example.net"
        self.assertTrue(login_host_allows(origin, login_origin("https://login.example.net/l")))
        self.assertFalse(login_host_allows(origin, login_origin("http://login.example.net/l")))
        self.assertTrue(login_host_allows("h.example:8080", login_origin("http://h.example:8080/")))
        for entry in ("", "http://", "a b", "10.5.50.1/login", "x\n.example", "https://x/p"):
            with self.subTest(entry=entry):
                self.assertIsNone(parse_login_host(entry))

    def test_setting_refuses_malformed_addresses(self):
        with self.assertRaises(ValidationError) as caught:
            self.company.isp_hotspot_login_hosts = "10.5.50.1\nhttp://evil.example/login"
        self.assertIn("is not a hotspot login address", str(caught.exception))
        self.company.isp_hotspot_login_hosts = "10.5.50.1, https://login.example.net\n[fd00::1]"
        self.assertEqual(
            self.company._isp_hotspot_login_host_entries(),
            ["10.5.50.1", "https://login.example.net", "[fd00::1]"],
        )

    def test_unknown_login_host_gets_no_login(self):
        """An attacker's link-login-only: the page sends neither the login nor the password
        (nor its CHAP answer) there, and says the router is unknown."""
        params = {**ROUTER, "link-login-only": "http://evil.example:8080/login"}
        status = self.sign_in_page(params)
        response = self.connect(params, status.text)
        self.assertEqual(response.status_code, 200)
        html = response.text
        subscription = self.amina.isp_subscription_ids
        self.assertIn("This device is not connected", html)
        self.assertIn('id="hs-unknown-router"', html)
        self.assertIn("a router we do not know", html)
        self.assertIn("<small>http://evil.example:8080</small>", html)
        self.assertNotIn('id="hs-login"', html)
        self.assertNotIn('name="password"', html)
        self.assertNotIn('name="username"', html)
        self.assertNotIn('action="http://evil.example', html)
        self.assertNotIn(subscription.login, html)
        # in Swahili too
        self.env["res.lang"]._activate_lang("sw")
        self.env["ir.module.module"]._load_module_terms(["isp_hotspot"], ["sw"], overwrite=True)
        sw = self.connect({**params, "lang": "sw"}, html)
        self.assertIn("kupitia ruta tusiyoijua", sw.text)
        html = self.connect({**params, "lang": "en_US"}, sw.text).text
        # a known router's address is served as before
        params = {**ROUTER}
        response = self.connect(params, html)
        self.assertIn('id="hs-login"', response.text)
        self.assertIn('action="http://10.5.50.1/login"', response.text)

    def test_status_get_changes_nothing(self):
        """A link to the status page (connect=1 and an attacker's MAC) registers no device
        and shows no login; the connect form posts with the CSRF token."""
        status = self.sign_in_page(ROUTER)
        attacker = {**ROUTER, "mac": "02:BA:D0:00:00:01", "connect": "1"}
        response = self.url_open("/hotspot/status", params=attacker)
        self.assertEqual(response.status_code, 200)
        self.assertFalse(self.amina.isp_device_ids)
        self.assertFalse(
            self.env["isp.access.log"].search([("mac", "=", "02:BA:D0:00:00:01")]),
        )
        self.assertNotIn('name="password"', response.text)
        self.assertIn('id="hs-connect"', response.text)
        # no CSRF token: refused, nothing registered
        refused = self.url_open("/hotspot/status", data=attacker, method="POST")
        self.assertEqual(refused.status_code, 400)
        self.assertFalse(self.amina.isp_device_ids)
        # the customer's own form: registered and connected
        connected = self.connect(ROUTER, status.text)
        self.assertEqual(connected.status_code, 200)
        self.assertEqual(self.amina.isp_device_ids.mac, "3A:1F:6C:88:21:D4")
        # once connected, the status view no longer submits itself
        again = self.url_open("/hotspot/status", params=ROUTER)
        self.assertNotIn('data-auto="1"', again.text)

    def test_malformed_login_url_is_missing(self):
        """``http://[x`` (urlsplit raises ValueError) is dropped like any malformed router
        parameter: no 500 on the page nor on the connect POST."""
        for bad in ("http://[x", "http://10.5.50.1:99999/login", "http://[::1/login"):
            params = {**ROUTER, "link-login-only": bad, "link-orig": bad}
            with self.subTest(url=bad):
                response = self.url_open("/hotspot", params=params)
                self.assertEqual(response.status_code, 200)
                self.assertNotIn('name="link-login-only"', response.text)
        params = {**ROUTER, "link-login-only": "http://[x"}
        status = self.sign_in_page(params)
        response = self.connect(params, status.text)
        self.assertEqual(response.status_code, 200)
        self.assertNotIn('id="hs-login"', response.text)
        self.assertNotIn('name="password"', response.text)
        # the model too: no crash, nothing sent
        hotspot = self.env["isp.hotspot"].sudo()
        subscription = self.amina.isp_subscription_ids
        login = hotspot._login_form(subscription, params, self.company)
        self.assertEqual(login, {"unknown": True, "host": ""})
