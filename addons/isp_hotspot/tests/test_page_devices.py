"""The captive page lists the customer's devices by name ("Android phone (Samsung)"), the MAC
address under it, and lets the customer rename their own devices (POST, CSRF token), never
another customer's."""

import base64
import os
import time
from pathlib import Path
from urllib.parse import urlencode

from odoo.tests import tagged
from odoo.tests.common import HOST, ChromeBrowser
from odoo.tools import mute_logger

from .common import HotspotCase, csrf

SAMSUNG = (
    "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36"
)
ARTIFACTS = Path(
    os.environ.get("ISP_ARTIFACTS") or Path(__file__).resolve().parents[3] / "artifacts"
)
ROUTER = {
    "mac": "3a:1f:6c:88:21:d4",
    "ip": "10.5.50.21",
    "link-login-only": "http://10.5.50.1/login",
}


@tagged("post_install", "-at_install")
class TestPageDevices(HotspotCase):
    def post(self, path, data, html, **kw):
        return self.url_open(
            path, data={**ROUTER, **data, "csrf_token": csrf(html)}, method="POST", **kw
        )

    def test_devices_named_by_type_and_renamed(self):
        status = self.sign_in_page(ROUTER)
        # connecting registers this device, named after the browser
        status = self.post("/hotspot/status", {}, status.text, headers={"User-Agent": SAMSUNG})
        self.assertEqual(status.status_code, 200)
        device = self.amina.isp_device_ids
        self.assertEqual(device.mac, "3A:1F:6C:88:21:D4")
        self.assertEqual(device.name, "Android phone (Samsung)")
        html = status.text
        self.assertIn("Android phone (Samsung)", html)
        self.assertLess(html.index("Android phone (Samsung)"), html.index("3A:1F:6C:88:21:D4"))
        # Baraka's device, which Amina must not rename
        theirs = self.env["isp.device"]._isp_register(self.baraka, "02:BB:00:00:00:09")["device"]
        self.assertEqual(theirs.name, "Device (00:09)")

        renamed = self.post(
            "/hotspot/device/rename",
            {"device_mac": "3a-1f-6c-88-21-d4", "device_name": "  Simu ya Mama "},
            html,
        )
        self.assertEqual(renamed.status_code, 200)
        self.assertEqual(device.name, "Simu ya Mama")
        self.assertIn("Simu ya Mama", renamed.text)

        refused = self.post(
            "/hotspot/device/rename",
            {"device_mac": theirs.mac, "device_name": "Mine now"},
            renamed.text,
        )
        self.assertEqual(refused.status_code, 400)
        self.assertIn("This device is not registered on your account.", refused.text)
        self.assertEqual(theirs.name, "Device (00:09)")
        empty = self.post(
            "/hotspot/device/rename", {"device_mac": device.mac, "device_name": " "}, renamed.text
        )
        self.assertEqual(empty.status_code, 400)
        self.assertIn("Give the device a name.", empty.text)
        self.assertEqual(device.name, "Simu ya Mama")
        with mute_logger("odoo.http"):
            no_token = self.url_open(
                "/hotspot/device/rename",
                data={**ROUTER, "device_mac": device.mac, "device_name": "No token"},
                method="POST",
            )
        self.assertEqual(no_token.status_code, 400)
        self.assertEqual(device.name, "Simu ya Mama")

    def test_rename_needs_a_signed_in_customer(self):
        theirs = self.env["isp.device"]._isp_register(self.baraka, "02:BB:00:00:00:08")["device"]
        html = self.url_open("/hotspot", params=ROUTER).text
        response = self.post(
            "/hotspot/device/rename", {"device_mac": theirs.mac, "device_name": "X"}, html
        )
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.url.split("?")[0].endswith("/hotspot"))
        self.assertEqual(theirs.name, "Device (00:08)")

    def test_devices_at_320px(self):
        """The status view on a small phone: the devices by name, the MAC under it, the
        rename form opens, nothing wider than the screen."""
        status = self.sign_in_page(ROUTER)
        self.post("/hotspot/status", {}, status.text, headers={"User-Agent": SAMSUNG})
        self.env["isp.device"]._isp_register(self.amina, "02:11:22:33:44:55")
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
            params={"width": 320, "height": 640, "deviceScaleFactor": 1, "mobile": True},
        )
        with self.allow_requests(browser=browser, all_requests=True):
            browser.set_cookie("session_id", self.opener.cookies["session_id"], "/", HOST)
            url = f"{self.base_url()}/hotspot/status?{urlencode(ROUTER)}"
            browser.navigate_to(url, wait_stop=True)
            deadline = time.monotonic() + 30
            while not js(
                "document.readyState === 'complete' && !!document.querySelector('.hs-devices')"
            ):
                self.assertLess(time.monotonic(), deadline, js("location.href"))
                time.sleep(0.3)
            names = js("[...document.querySelectorAll('.hs-dname')].map(e => e.textContent)")
            self.assertEqual(sorted(names), ["Android phone (Samsung)", "Device (44:55)"])
            js("document.querySelector('.hs-rename summary').click(); true")
            box = js(
                "(() => { const b = document.querySelector('.hs-rename input[name=device_name]')"
                ".getBoundingClientRect(); return [b.left, b.right, b.height]; })()"
            )
            self.assertGreaterEqual(box[0], 0)
            self.assertLessEqual(box[1], 320)
            self.assertGreater(box[2], 0, "the rename form opened")
            self.assertLessEqual(js("document.documentElement.scrollWidth"), 320)
            shot = browser._websocket_request(
                "Page.captureScreenshot", params={"format": "png", "captureBeyondViewport": True}
            )
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            (ARTIFACTS / "hotspot_devices_320.png").write_bytes(base64.b64decode(shot["data"]))
