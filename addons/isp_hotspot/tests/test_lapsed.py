import base64
import os
import time
from pathlib import Path
from urllib.parse import urlencode

from odoo.tests import tagged
from odoo.tests.common import ChromeBrowser

from .common import HotspotCase

ARTIFACTS = Path(
    os.environ.get("ISP_ARTIFACTS") or Path(__file__).resolve().parents[3] / "artifacts"
)

ROUTER = {
    "mac": "3a:1f:6c:88:21:d4",
    "ip": "10.5.50.21",
    "link-login-only": "http://10.5.50.1/login",
    "link-orig": "http://example.com/",
    "chap-id": "\\101",
    "chap-challenge": "\\061\\062\\063",
    "server-name": "hotspot1",
}
EXPIRED = "Your bundle has expired — buy a new one to reconnect."


@tagged("post_install", "-at_install")
class TestLapsedBundle(HotspotCase):
    """An expired hotspot customer, sent by the router's login page to the captive page, is
    told the bundle expired, above the bundles on sale; a fair-use customer over the cap is
    told they are slowed down, and still connected."""

    def _expire(self, partner):
        subscription = partner.isp_subscription_ids
        subscription.write({"state": "expired"})  # as the expiry sweep does
        return subscription

    def test_router_hand_off_of_a_limit_says_expired(self):
        html = self.url_open(
            "/hotspot",
            params={
                **ROUTER,
                "mac": "02:00:00:00:00:01",
                "error": "user 0713 has reached uptime limit",
            },
        ).text
        self.assertIn(EXPIRED, html)
        self.assertIn("HS Daily", html, "with the bundles on sale")
        # an unrelated router error is shown as it is, with no claim of expiry
        html = self.url_open(
            "/hotspot", params={**ROUTER, "mac": "02:00:00:00:00:01", "error": "invalid password"}
        ).text
        self.assertNotIn(EXPIRED, html)

    def test_device_of_an_expired_customer_and_sign_in(self):
        # Amina's device is registered; her bundle is active: no notice
        self.env["isp.device"]._isp_register(self.amina, "3A:1F:6C:88:21:D4")
        html = self.url_open("/hotspot", params=ROUTER).text
        self.assertNotIn(EXPIRED, html)
        self._expire(self.amina)
        # the router's login page hands the device over: the notice, nothing personal
        html = self.url_open("/hotspot", params=ROUTER).text
        self.assertIn(EXPIRED, html)
        self.assertNotIn(self.amina.phone, html)
        self.assertNotIn("Amina", html)
        # another device: nothing
        html = self.url_open("/hotspot", params={**ROUTER, "mac": "02:00:00:00:00:09"}).text
        self.assertNotIn(EXPIRED, html)
        # signed in by phone: the status page says it, and offers a new bundle
        status = self.sign_in_page({**ROUTER, "mac": "02:00:00:00:00:09"})
        self.assertIn("Your bundle has expired", status.text)
        self.assertIn("Buy a new bundle", status.text)
        html = self.url_open("/hotspot", params={**ROUTER, "mac": "02:00:00:00:00:09"}).text
        self.assertIn(EXPIRED, html)

    def test_fair_use_over_the_cap_is_slowed_not_refused(self):
        self.weekly.product_tmpl_id.write(
            {"isp_data_cap_mb": 1024, "isp_fair_use_download_kbps": 256}
        )
        subscription = self.amina.isp_subscription_ids
        subscription.write({"data_cap_mb": 1024, "data_used_mb": 1500})
        self.assertTrue(subscription.fair_use_active)
        access = self.env["isp.hotspot"]._verify_access(self.amina, "3A:1F:6C:88:21:D4")
        self.assertTrue(access["granted"], access)
        status = self.sign_in_page(ROUTER)
        self.assertIn("Slowed down after the data cap", status.text)
        # without fair use, the cap refuses
        self.weekly.product_tmpl_id.isp_fair_use_download_kbps = 0
        access = self.env["isp.hotspot"]._verify_access(self.amina, "3A:1F:6C:88:21:D4")
        self.assertEqual(access["reason"], "data_cap")

    def test_expired_notice_at_360px(self):
        """On a small phone, the notice is the first thing above the bundles, within the
        screen."""
        self.env["isp.device"]._isp_register(self.amina, "3A:1F:6C:88:21:D4")
        self._expire(self.amina)
        self.env.flush_all()
        browser = ChromeBrowser(self, headless=True)
        self.addCleanup(browser.stop)

        def js(expression):
            result = browser._websocket_request(
                "Runtime.evaluate",
                params={"expression": expression, "returnByValue": True, "awaitPromise": True},
            )
            return result["result"].get("value")

        browser._websocket_request(
            "Emulation.setDeviceMetricsOverride",
            params={"width": 360, "height": 640, "deviceScaleFactor": 1, "mobile": True},
        )
        with self.allow_requests(browser=browser, all_requests=True):
            browser.navigate_to(f"{self.base_url()}/hotspot?{urlencode(ROUTER)}", wait_stop=True)
            deadline = time.monotonic() + 30
            while not js("document.readyState === 'complete' && !!document.querySelector('h1')"):
                self.assertLess(time.monotonic(), deadline, js("location.href"))
                time.sleep(0.3)
            self.assertEqual(js("document.querySelector('#hs-lapsed').textContent"), EXPIRED)
            box = js(
                "(() => { const n = document.querySelector('#hs-lapsed').getBoundingClientRect();"
                " const h = document.querySelector('h1').getBoundingClientRect();"
                " return [n.left, n.right, n.bottom, h.top]; })()"
            )
            self.assertGreaterEqual(box[0], 0)
            self.assertLessEqual(box[1], 360)
            self.assertLessEqual(box[2], box[3], "above the bundles' heading")
            self.assertLessEqual(js("document.documentElement.scrollWidth"), 360)
            shot = browser._websocket_request(
                "Page.captureScreenshot", params={"format": "png", "captureBeyondViewport": True}
            )
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            (ARTIFACTS / "hotspot_expired_360.png").write_bytes(base64.b64decode(shot["data"]))
