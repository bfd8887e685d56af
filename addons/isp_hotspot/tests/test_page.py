import hashlib
import logging
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from odoo import fields
from odoo.tests import tagged

from odoo.addons.isp_billing.tests.common import captured_logs

from ..models.isp_hotspot_router_login import chap_bytes, chap_password
from .common import HotspotCase, csrf

ROUTER = {
    "mac": "3a:1f:6c:88:21:d4",
    "ip": "10.5.50.21",
    "link-login-only": "http://10.5.50.1/login",
    "link-orig": "http://example.com/",
    "chap-id": "\\101",
    "chap-challenge": "\\061\\062\\063",
    "server-name": "hotspot1",
}


@tagged("post_install", "-at_install")
class TestHotspotPage(HotspotCase):
    def page(self, path="/hotspot", params=None):
        response = self.url_open(path, params=params or ROUTER)
        self.assertEqual(response.status_code, 200, response.text[:500])
        return response.text

    def post(self, path, data, html):
        return self.url_open(path, data={**ROUTER, **data, "csrf_token": csrf(html)}, method="POST")

    def test_chap(self):
        self.assertEqual(chap_bytes("\\101\\377x"), b"A\xffx")
        self.assertEqual(
            chap_password("secret", "\\101", "\\061\\062\\063"),
            hashlib.md5(b"Asecret123").hexdigest(),  # noqa: S324
        )

    def test_page_lists_bundles_and_keeps_router_params(self):
        html = self.page()
        self.assertIn("TSh 1,000", html)
        self.assertIn("Save TSh 1,000", html)
        self.assertLess(html.index("HS Daily"), html.index("HS Weekly"))
        self.assertIn('name="mac" value="3A:1F:6C:88:21:D4"', html)
        self.assertIn('name="link-login-only" value="http://10.5.50.1/login"', html)
        self.assertIn('name="chap-id" value="\\101"', html)
        # no website frontend bundle, no third-party host
        self.assertNotIn("web.assets", html)
        self.assertNotIn("/web/assets/", html)
        self.assertFalse(re.findall(r'(?:src|href)="(?:https?:)?//', html))
        self.assertLess(len(html.encode()), 20000)

    def test_malformed_router_params_dropped(self):
        html = self.page(
            params={
                "mac": "zz",
                "ip": "999.1.1.1",
                "link-login-only": "javascript:alert(1)",
                "nas": "x",
            }
        )
        self.assertNotIn('name="mac"', html)
        self.assertNotIn('name="ip"', html)
        self.assertNotIn("javascript:", html)

    def test_form_errors_are_readable(self):
        html = self.page()
        response = self.post("/hotspot/pay", {"phone": "12", "bundle_id": str(self.daily.id)}, html)
        self.assertEqual(response.status_code, 400)
        self.assertIn("hs-err", response.text)
        self.assertIn('name="mac" value="3A:1F:6C:88:21:D4"', response.text)
        response = self.post("/hotspot/pay", {"phone": "0712345678", "bundle_id": "abc"}, html)
        self.assertEqual(response.status_code, 400)
        self.assertIn("Choose one of the bundles", response.text)

    def test_post_without_csrf_refused(self):
        count = self.env["isp.hotspot.login.code"].sudo().search_count([])
        response = self.url_open("/hotspot/signin", data={"phone": "0713987654"}, method="POST")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(self.env["isp.hotspot.login.code"].sudo().search_count([]), count)

    def test_sign_in_status_login_and_remove_device(self):
        html = self.page()
        response = self.post("/hotspot/signin", {"phone": "0713 987 654"}, html)
        self.assertEqual(response.status_code, 200)
        self.assertIn("+255713987654", response.text)
        code = self.sent_codes[-1][1]
        bad = self.post(
            "/hotspot/signin/verify",
            {"phone": "+255713987654", "code": "999999" if code != "999999" else "1"},
            response.text,
        )
        self.assertEqual(bad.status_code, 400)
        status = self.post(
            "/hotspot/signin/verify", {"phone": "+255713987654", "code": code}, response.text
        )
        self.assertEqual(status.status_code, 200)
        self.assertEqual(urlsplit(status.url).path, "/hotspot/status")
        self.assertEqual(parse_qs(urlsplit(status.url).query)["mac"], ["3A:1F:6C:88:21:D4"])
        # the status view (GET) only reads: it offers the connect form (POST, CSRF), which
        # submits itself right after the sign-in
        self.assertFalse(self.amina.isp_device_ids)
        self.assertRegex(status.text, r'<form [^>]*action="/hotspot/status"[^>]*data-auto="1"')
        self.assertNotIn('name="password"', status.text)
        status = self.post("/hotspot/status", {}, status.text)
        self.assertEqual(status.status_code, 200)
        text = status.text
        # no router API here (no nas): the page posts the login to the router's own URL and
        # does not claim the device is online
        self.assertIn("Connecting this device", text)
        self.assertNotIn("You are online", text)
        self.assertIn("HS Weekly", text)
        # the device is registered and the router login form is ready (CHAP)
        subscription = self.amina.isp_subscription_ids
        device = self.amina.isp_device_ids
        self.assertEqual(device.mac, "3A:1F:6C:88:21:D4")
        self.assertIn('action="http://10.5.50.1/login"', text)
        self.assertIn(f'name="username" value="{subscription.login}"', text)
        expected = chap_password(subscription.sudo().password, "\\101", "\\061\\062\\063")
        self.assertIn(f'name="password" value="{expected}"', text)
        self.assertIn('data-auto="1"', text)
        # remove the device from the status page
        removed = self.post("/hotspot/device/remove", {"device_mac": device.mac}, text)
        self.assertEqual(removed.status_code, 200)
        self.assertFalse(device.active)
        # sign out: the status page sends back to the shop
        signout = self.post("/hotspot/signout", {}, removed.text)
        self.assertEqual(urlsplit(signout.url).path, "/hotspot")
        again = self.url_open("/hotspot/status")
        self.assertEqual(urlsplit(again.url).path, "/hotspot")

    def test_waiting_view_token_not_in_the_request_log(self):
        # the waiting view's token signs the paying device in once paid: a log reader must
        # not be able to use it
        secret = "kV3qX9-waiting-view-token"
        with captured_logs({"werkzeug": logging.INFO}) as request_log:
            response = self.url_open(
                "/hotspot/wait", params={**ROUTER, "reference": "HS-NOPE", "token": secret}
            )
        self.assertEqual(response.status_code, 404)
        self.assertIn("This payment was not found", response.text)
        log = "\n".join(request_log)
        self.assertRegex(log, r'"GET /hotspot/wait\?\S*token=\*\*\*\S* HTTP/1.1" 404')
        self.assertIn("reference=HS-NOPE", log, "the rest of the line is kept")
        self.assertNotIn(secret, log)

    def test_rate_limit_rows_deleted_after_two_days(self):
        Attempt = self.env["isp.hotspot.attempt"]
        Attempt._hit("payment", ["10.9.9.1", "10.9.9.2", "10.9.9.3"], 10, 120)
        rows = Attempt.search([("key", "like", "10.9.9.")], order="key")
        rows[0].date = fields.Datetime.now() - timedelta(days=3)
        rows[1].date = fields.Datetime.now() - timedelta(days=1)
        done, _remaining = Attempt._gc_attempts()
        self.assertTrue(done)
        self.assertEqual(rows.exists().mapped("key"), ["10.9.9.2", "10.9.9.3"])

    def test_status_requires_sign_in(self):
        response = self.url_open("/hotspot/status", params=ROUTER)
        self.assertEqual(urlsplit(response.url).path, "/hotspot")
        self.assertFalse(self.amina.isp_device_ids.filtered(lambda d: d.ip == "10.5.50.21"))

    def test_swahili(self):
        self.env["res.lang"]._activate_lang("sw")
        self.env["ir.module.module"]._load_module_terms(["isp_hotspot"], ["sw"], overwrite=True)
        html = self.page(params={**ROUTER, "lang": "sw"})
        self.assertIn('lang="sw"', html)
        self.assertIn("Nunua intaneti", html)
        self.assertIn("siku 7", html)
        self.assertIn("Una vocha?", html)
        self.assertIn("Umeshalipa?", html)
        # the links and forms keep the language; the choice is remembered (cookie)
        self.assertIn('name="lang" value="sw"', html)
        self.assertIn("Nunua intaneti", self.page(params=ROUTER))
        # a new visitor: the browser's language, else the website's default
        self.opener.cookies.clear()
        self.assertIn(
            "Nunua intaneti",
            self.url_open("/hotspot", headers={"Accept-Language": "fr-FR, sw-KE;q=0.8"}).text,
        )
        self.opener.cookies.clear()
        self.assertIn(
            "Buy internet", self.url_open("/hotspot", headers={"Accept-Language": "fr"}).text
        )
        # API messages too
        self.opener.cookies.clear()
        response = self.url_open(
            "/api/vouchers/redeem/",
            data='{"code": "x", "phone": "0713987654"}',
            headers={"Content-Type": "application/json", "Accept-Language": "sw"},
        )
        self.assertIn("si namba ya vocha", response.json()["error"]["message"])

    def test_catalogue_follows_bundle_and_company_changes(self):
        """The page's bundles and providers come from a cache: every change shows at once."""
        html = self.page()
        self.assertIn("TSh 1,000", html)
        self.daily.product_tmpl_id.list_price = 1500
        self.assertIn("TSh 1,500", self.page())
        self.daily.product_tmpl_id.name = "HS Day Pass"
        self.assertIn("HS Day Pass", self.page())
        monthly = self._bundle("HS Monthly", 20000, 30, "days", 3)
        html = self.page()
        self.assertIn("HS Monthly", html)
        self.assertIn("TSh 20,000", html)
        monthly.active = False
        self.assertNotIn("HS Monthly", self.page())
        self.weekly.product_tmpl_id.sale_ok = False
        self.assertNotIn("HS Weekly", self.page())
        bundles = self.url_open("/api/bundles/").json()
        self.assertEqual([b["name"] for b in bundles["bundles"]][:1], ["HS Day Pass"])
        self.company.name = "Kitonga Wi-Fi Test"
        self.assertIn("<title>Kitonga Wi-Fi Test</title>", self.page())
        self.assertEqual(self.url_open("/api/bundles/").json()["company"], "Kitonga Wi-Fi Test")
