"""A PPPoE customer on a 360 px phone: /my, the subscriptions list, the subscription with an
open invoice and the invoice page, in headless Chromium. "Pay now" must be on screen without
scrolling sideways; screenshots are kept in artifacts/ (ISP_ARTIFACTS overrides)."""

import base64
import contextlib
import os
import time
from pathlib import Path

from odoo.tests import tagged
from odoo.tests.common import ChromeBrowser

from .test_portal import IspPortalCase

ARTIFACTS = Path(
    os.environ.get("ISP_ARTIFACTS") or Path(__file__).resolve().parents[3] / "artifacts"
)
WIDTH = 360

# the bounding box of the first visible element matching the selector whose text contains
# the words, and the page's width: what a customer sees without scrolling sideways
BOX = """(() => {
    const wanted = %(text)r.toLowerCase();
    const element = [...document.querySelectorAll(%(selector)r)].find(
        (e) => e.offsetParent !== null && e.textContent.toLowerCase().includes(wanted));
    const box = element ? element.getBoundingClientRect() : null;
    return {
        found: !!element,
        left: box && box.left, right: box && box.right,
        width: box && box.width, height: box && box.height,
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
    };
})()"""


@tagged("post_install", "-at_install")
class TestPortalMobile(IspPortalCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param(
            "account_payment.enable_portal_payment", True
        )
        # the screenshots show the operator's website as its customers see it (isp_hotspot's
        # footer with the operator's details, when installed: isp_billing does not need it)
        if "website" in cls.env:
            website = cls.env["website"].get_current_website()
            if hasattr(website, "_isp_use_operator_texts"):
                website.company_id = cls.company
                cls.company.write({"phone": "+255 754 000 111", "email": "care@isp.example.com"})
                website._isp_use_operator_texts()

    def _browser(self):
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
            params={"width": WIDTH, "height": 760, "deviceScaleFactor": 1, "mobile": True},
        )
        return browser, js

    def _open(self, browser, js, path):
        browser.navigate_to(f"{self.base_url()}{path}", wait_stop=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready = False
            with contextlib.suppress(Exception):  # the page is navigating
                ready = js("document.readyState === 'complete' && !!document.querySelector('main')")
            if ready:
                time.sleep(0.5)  # the frontend's JS lays out the page
                return
            time.sleep(0.3)
        self.fail(f"{path} did not load: {js('location.href')}")

    def _screenshot(self, browser, name):
        shot = browser._websocket_request(
            "Page.captureScreenshot", params={"format": "png", "captureBeyondViewport": True}
        )
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / name).write_bytes(base64.b64decode(shot["data"]))

    def assertOnScreen(self, js, selector, text, page):
        box = js(BOX % {"selector": selector, "text": text})
        self.assertTrue(box["found"], f"{text!r} ({selector}) on {page}")
        self.assertGreater(box["width"], 0, page)
        self.assertGreater(box["height"], 0, page)
        self.assertGreaterEqual(box["left"], 0, f"{text!r} on {page}: {box}")
        self.assertLessEqual(box["right"], WIDTH, f"{text!r} on {page}: {box}")
        self.assertLessEqual(box["scrollWidth"], WIDTH, f"{page} scrolls sideways: {box}")

    def test_pay_now_visible_at_360px(self):
        invoice = self.invoice_a
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertEqual(self.sub_a.service_type, "pppoe")
        browser, js = self._browser()
        with self.allow_requests(browser=browser, all_requests=True):
            self.authenticate("portal_a", "portal_a-pass-1234", browser=browser)
            self.env.flush_all()

            self._open(browser, js, "/my/subscriptions")
            self.assertIn(self.sub_a.name, js("document.body.innerText"))
            self.assertOnScreen(js, "a, .btn", "Pay now", "/my/subscriptions")
            self._screenshot(browser, "portal_pppoe_subscriptions_360.png")

            self._open(browser, js, f"/my/subscriptions/{self.sub_a.id}")
            self.assertIn(invoice.name, js("document.body.innerText"))
            self.assertOnScreen(js, "a.btn", "Pay now", "the subscription")
            self._screenshot(browser, "portal_pppoe_pay_now_360.png")

            self._open(browser, js, invoice.get_portal_url())
            self.assertOnScreen(js, "a.btn", "Pay now", "the invoice")
            self._screenshot(browser, "portal_pppoe_invoice_360.png")
        for name in (
            "portal_pppoe_subscriptions_360.png",
            "portal_pppoe_pay_now_360.png",
            "portal_pppoe_invoice_360.png",
        ):
            self.assertGreater((ARTIFACTS / name).stat().st_size, 5_000, name)
