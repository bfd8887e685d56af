"""The captive page's purchase end to end, with a real mobile-money provider: isp_mpesa's
ClickPesa on its loopback sandbox simulator, reached only through Odoo's generic payment
flow (isp_hotspot never imports isp_mpesa). The browser test drives Debian's headless
Chromium over CDP and keeps a 320 px screenshot in artifacts/."""

import base64
import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode

from odoo.tests import tagged
from odoo.tests.common import ChromeBrowser

from odoo.addons.isp_hotspot.tests.common import CaptivePageSession
from odoo.addons.isp_mpesa.tests.common import MpesaCase

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


class FakeRouterLogin:
    """The router's link-login-only: records what the page posts."""

    def __init__(self):
        self.posts = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                outer.posts.append(parse_qs(self.rfile.read(length).decode()))
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(b"<html><body id='router'>You are logged in</body></html>")

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/login"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@tagged("post_install", "-at_install")
class TestHotspotPurchase(CaptivePageSession, MpesaCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        website = cls.env["website"].get_current_website()
        website.company_id = cls.tz_company
        cls.clickpesa.is_published = True
        cls.router = FakeRouterLogin()
        cls.addClassCleanup(cls.router.stop)
        # the page posts the hotspot login only to a known router's login address
        cls.tz_company.isp_hotspot_login_hosts = f"127.0.0.1:{cls.router.server.server_port}"

    def setUp(self):
        super().setUp()
        self.router.posts.clear()

    def _pay(self, phone="0754123456", **outcome):
        self.clickpesa_sim.next_result(**outcome)
        response = self.api(
            "POST",
            "/api/initiate-payment/",
            {
                "phone": phone,
                "bundle_id": self.tzs_bundle.id,
                "mac": "02:AA:BB:CC:DD:01",
                "ip": "10.5.50.9",
            },
        )
        self.assertEqual(response.status_code, 201, response.text)
        return response.json()

    def test_api_purchase_once(self):
        started = self._pay()
        self.assertEqual(started["status"], "waiting", started)
        self.assertIn("Check your phone", started["message"])
        tx = self.env["payment.transaction"].search([("reference", "=", started["reference"])])
        self.assertEqual((tx.state, tx.provider_id, tx.amount), ("pending", self.clickpesa, 1000))
        self.assertEqual(tx.isp_phone, "+255754123456")
        # the provider's webhook, twice (a retry): one period, one paid invoice
        for _i in range(2):
            self._clickpesa_webhook(tx)
        url = started["status_url"]
        for _i in range(2):
            status = self.api("GET", url).json()
            self.assertEqual(status["status"], "paid", status)
        self.assertEqual(len(tx.isp_purchase_id), 1)
        self.assertEqual(
            self.env["isp.purchase"].search_count([("reference", "=", tx.reference)]), 1
        )
        self.assertEqual(tx.isp_purchase_id.invoice_id.payment_state, "paid")
        self.assertEqual(tx.isp_subscription_id.state, "active")
        # the payer's session is signed in: its own status, nobody else's
        me = self.api("GET", "/api/user-status/0754123456/")
        self.assertEqual(me.status_code, 200, me.text)
        self.assertTrue(me.json()["active"])
        self.assertEqual(self.api("GET", "/api/user-status/0754999888/").status_code, 403)
        # a wrong token reveals nothing
        self.assertEqual(
            self.api("GET", f"/api/payment-status/{tx.reference}/?access_token=x").status_code,
            400,
        )

    def test_api_insufficient_funds(self):
        started = self._pay(phone="0754123457", code="FAILED")
        tx = self.env["payment.transaction"].search([("reference", "=", started["reference"])])
        self._clickpesa_webhook(tx)
        status = self.api("GET", started["status_url"]).json()
        self.assertEqual(status["status"], "failed", status)
        self.assertIn("Not enough money", status["message"])
        self.assertFalse(tx.isp_purchase_id)
        self.assertFalse(
            self.env["res.partner"].search([("phone", "=", "+255754123457")]).isp_subscription_ids
        )

    def test_api_short_payment_does_not_invite_a_second_one(self):
        """A short payment ends the transaction in error, yet the money was taken: the
        waiting view says so and asks not to pay again, never "Try again"."""
        started = self._pay(phone="0754123458", amount=600)
        tx = self.env["payment.transaction"].search([("reference", "=", started["reference"])])
        self._clickpesa_webhook(tx)
        self.assertEqual((tx.state, tx.isp_access_state), ("error", "not_applied"))
        self.assertFalse(tx.isp_purchase_id)
        status = self.api("GET", started["status_url"]).json()
        self.assertEqual(status["status"], "not_applied", status)
        self.assertIn("Do not pay again", status["message"])
        page = self.url_open(
            "/hotspot/wait",
            params={"reference": tx.reference, "token": started["access_token"]},
        ).text
        self.assertIn("Do not pay again", page)
        self.assertNotIn("Try again", page)
        # the payer is the customer of the payment, not the public user
        self.assertEqual(tx.partner_id.phone, "+255754123458")
        self.assertTrue(tx.partner_id.is_isp_customer)

    def _browser(self):
        """Headless Chromium at 320 px; returns (browser, js, wait_for)."""
        browser = ChromeBrowser(self, headless=True)
        self.addCleanup(browser.stop)

        def js(expression):
            result = browser._websocket_request(
                "Runtime.evaluate",
                params={"expression": expression, "returnByValue": True, "awaitPromise": True},
            )
            return result["result"].get("value")

        def wait_for(expression, timeout=40):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    if js(expression):
                        return True
                except Exception:  # noqa: BLE001 - the page is navigating
                    pass
                time.sleep(0.3)
            raise AssertionError(f"timeout waiting for {expression}: {js('location.href')}")

        browser._websocket_request(
            "Emulation.setDeviceMetricsOverride",
            params={"width": 320, "height": 640, "deviceScaleFactor": 1, "mobile": True},
        )
        return browser, js, wait_for

    def _screenshot(self, browser, name):
        shot = browser._websocket_request("Page.captureScreenshot", params={"format": "png"})
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / name).write_bytes(base64.b64decode(shot["data"]))

    def test_browser_purchase_320px(self):
        """/hotspot → bundle → pay → the phone confirms (webhook) → status → router login."""
        self.clickpesa_sim.webhook_url = f"{self.base_url()}/payment/clickpesa/webhook"
        self.clickpesa_sim.next_result(delay=1.0)
        params = {
            "mac": "02:AA:BB:CC:DD:02",
            "ip": "10.5.50.10",
            "link-login-only": self.router.url,
            "link-orig": "http://example.com/",
            "chap-id": "\\101",
            "chap-challenge": "\\061\\062",
        }
        browser, js, wait_for = self._browser()
        with self.allow_requests(browser=browser, all_requests=True):
            browser.navigate_to(f"{self.base_url()}/hotspot?{urlencode(params)}", wait_stop=True)
            wait_for("document.readyState === 'complete' && !!document.getElementById('hs-pay')")
            self.assertLessEqual(js("document.documentElement.scrollWidth"), 320)
            self._screenshot(browser, "hotspot-320.png")
            js(
                f"document.querySelector('input[name=bundle_id][value=\"{self.tzs_bundle.id}\"]')"
                ".checked = true;"
                "document.getElementById('hs-phone').value = '0754 123 458';"
                "document.querySelector('#hs-pay button').click(); true"
            )
            wait_for("location.pathname === '/hotspot/wait'")
            self.assertIn("Check your phone", js("document.body.innerText"))
            # hotspot.js follows the payment, then the status page logs the device in
            wait_for("location.href.startsWith(%r)" % self.router.url, timeout=60)
        self.assertEqual(len(self.router.posts), 1)
        post = self.router.posts[0]
        partner = self.env["res.partner"].search([("phone", "=", "+255754123458")])
        subscription = partner.isp_subscription_ids
        self.assertEqual(subscription.state, "active")
        self.assertEqual(post["username"], [subscription.login])
        expected = hashlib.md5(  # noqa: S324 - RouterOS CHAP
            b"A" + subscription.sudo().password.encode() + b"12"
        ).hexdigest()
        self.assertEqual(post["password"], [expected])
        self.assertEqual(post["dst"], ["http://example.com/"])
        self.assertEqual(partner.isp_device_ids.mac, "02:AA:BB:CC:DD:02")

    def test_browser_voucher_320px(self):
        """A card's QR link (/hotspot?voucher=...) through the router → the code is filled in
        → a wrong code is explained → the right one → status → router login."""
        batch = self.env["isp.voucher.batch"].create(
            {"name": "HS-BROWSER", "quantity": 1, "bundle_id": self.tzs_bundle.id}
        )
        batch.action_generate()
        voucher = batch.voucher_ids
        params = {
            "mac": "02:AA:BB:CC:DD:03",
            "ip": "10.5.50.11",
            "link-login-only": self.router.url,
            "link-orig": "http://example.com/",
        }
        browser, js, wait_for = self._browser()
        with self.allow_requests(browser=browser, all_requests=True):
            url = f"{self.base_url()}/hotspot?{urlencode({**params, 'voucher': voucher.code})}"
            browser.navigate_to(url, wait_stop=True)
            wait_for("document.readyState === 'complete' && !!document.getElementById('hs-code')")
            self.assertEqual(js("document.getElementById('hs-code').value"), voucher.code)
            self.assertEqual(js("document.activeElement.id"), "hs-vphone")
            self.assertLessEqual(js("document.documentElement.scrollWidth"), 320)
            self._screenshot(browser, "hotspot-voucher-320.png")
            # a typo first: the page says so and keeps what was typed
            typo = voucher.code[:-1] + ("2" if voucher.code[-1] != "2" else "3")
            js(
                f"document.getElementById('hs-code').value = '{typo.lower()}';"
                "document.getElementById('hs-vphone').value = '0754 123 459';"
                "document.querySelector('#hs-voucher button').click(); true"
            )
            wait_for("!!document.querySelector('#hs-vouchers .hs-err')")
            self.assertIn("is not a voucher code", js("document.body.innerText"))
            self.assertEqual(voucher.state, "available")
            js(
                f"document.getElementById('hs-code').value = '{voucher.code}';"
                "document.querySelector('#hs-voucher button').click(); true"
            )
            wait_for("location.href.startsWith(%r)" % self.router.url, timeout=60)
        self.env.invalidate_all()
        partner = self.env["res.partner"].search([("phone", "=", "+255754123459")])
        self.assertEqual((voucher.state, voucher.partner_id), ("redeemed", partner))
        subscription = partner.isp_subscription_ids
        self.assertEqual((subscription.state, subscription.bundle_id), ("active", self.tzs_bundle))
        self.assertEqual(len(self.router.posts), 1)
        post = self.router.posts[0]
        self.assertEqual(post["username"], [subscription.login])
        self.assertEqual(post["password"], [subscription.sudo().password])
        self.assertEqual(partner.isp_device_ids.mac, "02:AA:BB:CC:DD:03")
