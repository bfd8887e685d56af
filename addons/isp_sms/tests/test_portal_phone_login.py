"""Sign-in to /my with the phone number, over real HTTP: the number, the code the SMS
gateway (loopback simulator) received, then a real Odoo session as the customer's portal
user. Unknown numbers get the same answer and no SMS; codes are single-use, expire, die
after five wrong tries; numbers and addresses are rate-limited; the code and the session
never appear in a URL nor in the log."""

import base64
import logging
import re
import time
from datetime import timedelta
from pathlib import Path
from unittest.mock import patch

from odoo import Command, fields
from odoo.tests import HttpCase, get_db_name, tagged
from odoo.tests.common import ChromeBrowser
from odoo.tools import config

from odoo.addons.isp_billing.tests.common import captured_logs

from ..models.isp_portal_login_code import RATE_LIMITS
from .common import IspSmsCase

ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts"
CODE_RE = re.compile(r"\b(\d{6})\b")
# Odoo's CSRF tokens (HMAC "o" expiry): a new one for each page
CSRF_RE = re.compile(r"[0-9a-f]{40}o\d+")


def csrf(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


class PortalPhoneCase(HttpCase, IspSmsCase):
    """The website's company (Tanzania, NextSMS simulator) with a phone-only customer who
    was granted portal access (login: their number)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # one database for the test server, chosen without a header: the sign-in keeps the
        # number in the session
        cls.startClassPatcher(patch.dict(config.options, {"dbfilter": f"^{get_db_name()}$"}))
        cls.env["website"].get_current_website().company_id = cls.company
        cls.customer = cls._customer("+255712400001", name="Neema Mushi")
        cls.user = cls._grant(cls.customer)
        # the grant's SMS is tested in test_portal_wizard_phone: out of these tests' way
        cls.env["sms.sms"].sudo().search([]).unlink()

    @classmethod
    def _grant(cls, partner):
        wizard = (
            cls.env["portal.wizard"]
            .with_company(partner.company_id)
            .with_context(active_ids=partner.ids, active_model="res.partner")
            .create({})
        )
        wizard.user_ids.filtered(lambda line: line.partner_id == partner).action_grant_access()
        return partner.with_context(active_test=False).user_ids

    def setUp(self):
        super().setUp()
        failures = getattr(self.registry, "_login_failures", None)
        if failures is not None:
            failures.clear()

    # ------------------------------------------------------------------ helpers

    def _ask_code(self, phone):
        page = self.url_open("/web/login/phone")
        self.assertEqual(page.status_code, 200)
        return self.url_open(
            "/web/login/phone", data={"phone": phone, "csrf_token": csrf(page.text)}
        )

    def _enter_code(self, code):
        page = self.url_open("/web/login/phone/code")
        self.assertEqual(page.status_code, 200, "the code form follows the number")
        return self.url_open(
            "/web/login/phone/code", data={"code": code, "csrf_token": csrf(page.text)}
        )

    def _received(self, number):
        """The SMS texts the gateway accepted for ``number`` (the queue sent)."""
        self.env.invalidate_all()
        self._run_sms_queue()
        digits = number.lstrip("+")
        with self.nextsms.lock:
            return [m["text"] for m in self.nextsms.accepted if str(m["to"]).lstrip("+") == digits]

    def _code_received(self, number):
        texts = self._received(number)
        self.assertEqual(len(texts), 1, texts)
        return CODE_RE.search(texts[0]).group(1)

    def _session_user(self):
        """The user the opener's session is signed in as (None when anonymous)."""
        response = self.url_open(
            "/web/session/get_session_info", json={"jsonrpc": "2.0", "params": {}}
        )
        return response.json().get("result", {}).get("uid")


@tagged("post_install", "-at_install")
class TestPortalPhoneLogin(PortalPhoneCase):
    def test_login_page_links_to_phone_sign_in(self):
        page = self.url_open("/web/login")
        self.assertEqual(page.status_code, 200)
        self.assertIn('href="/web/login/phone"', page.text)
        self.assertIn("Sign in with your phone number", page.text)

    def test_known_phone_signs_in_to_my(self):
        with captured_logs({"werkzeug": logging.INFO, "odoo": logging.INFO}) as logs:
            response = self._ask_code("0712 400 001")
            self.assertEqual(response.status_code, 200)
            self.assertTrue(response.url.endswith("/web/login/phone/code"), response.url)
            self.assertIn("+255712400001", response.text)
            texts = self._received("+255712400001")
            self.assertEqual(len(texts), 1)
            self.assertIn("Your code to sign in to your account is", texts[0])
            code = CODE_RE.search(texts[0]).group(1)
            response = self._enter_code(code)
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.url.endswith("/my"), response.url)
        for hop in response.history:
            self.assertNotIn(code, hop.url)
            self.assertNotIn(code, hop.headers.get("Location", ""))
        self.assertEqual(self._session_user(), self.user.id)
        my = self.url_open("/my")
        self.assertEqual(my.status_code, 200)
        self.assertIn("Neema Mushi", my.text)
        # the code: in no URL, in no log line; the session cookie in no URL
        session_id = self.opener.cookies.get("session_id")
        self.assertTrue(session_id)
        for line in logs:
            self.assertNotIn(code, line)
            self.assertNotIn(session_id, line)
        # the code is in no chatter either
        self.assertFalse(
            self.env["mail.message"].search(
                [("body", "ilike", code), ("model", "=", "res.partner")]
            )
        )

    def test_code_is_single_use(self):
        self._ask_code("+255712400001")
        code = self._code_received("+255712400001")
        self.assertTrue(self._enter_code(code).url.endswith("/my"))
        self.url_open("/web/session/logout")
        self.assertFalse(self._session_user())
        self._ask_code("+255712400001")  # a new session asks again, reuses the old code
        self.nextsms.accepted.clear()
        response = self._enter_code(code)
        self.assertEqual(response.status_code, 400)
        self.assertIn("This code is wrong or has expired", response.text)
        self.assertFalse(self._session_user())

    def test_unknown_phone_same_answer_no_sms(self):
        known = self._ask_code("+255712400001")
        self.url_open("/web/session/logout")
        unknown = self._ask_code("+255712400009")
        self.assertEqual(unknown.status_code, known.status_code)
        self.assertEqual(unknown.url, known.url)
        self.assertEqual(
            CSRF_RE.sub("T", unknown.text.replace("+255712400009", "N")),
            CSRF_RE.sub("T", known.text.replace("+255712400001", "N")),
        )
        self.assertEqual(len(self._received("+255712400001")), 1)
        self.assertEqual(self._received("+255712400009"), [])
        response = self._enter_code("123456")
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self._session_user())

    def test_bad_number_is_explained(self):
        response = self._ask_code("12ab")
        self.assertEqual(response.status_code, 400)
        self.assertIn("is not a phone number", response.text)
        self.assertEqual(self.env["sms.sms"].sudo().search_count([]), 0)

    def test_five_wrong_codes_burn_it(self):
        self._ask_code("+255712400001")
        code = self._code_received("+255712400001")
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        for _i in range(5):
            response = self._enter_code(wrong)
            self.assertEqual(response.status_code, 400)
            self.assertIn("This code is wrong or has expired", response.text)
            # Odoo's own login cooldown (5 failures from one address) is not what is tested
            self.registry._login_failures.clear()
        codes = self.env["isp.portal.login.code"].sudo().search([("user_id", "=", self.user.id)])
        self.assertEqual(codes.tries, 5)
        self.assertTrue(codes.used)
        response = self._enter_code(code)
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self._session_user())

    def test_expired_code_refused(self):
        self._ask_code("+255712400001")
        code = self._code_received("+255712400001")
        self.env["isp.portal.login.code"].sudo().search(
            [("user_id", "=", self.user.id)]
        ).expires_at = fields.Datetime.now() - timedelta(seconds=1)
        response = self._enter_code(code)
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self._session_user())

    def test_new_code_replaces_the_previous(self):
        self._ask_code("+255712400001")
        first = self._code_received("+255712400001")
        self.nextsms.accepted.clear()
        self._ask_code("+255712400001")
        second = self._code_received("+255712400001")
        if first != second:
            self.assertEqual(self._enter_code(first).status_code, 400)
        self.assertTrue(self._enter_code(second).url.endswith("/my"))

    def test_rate_limit_per_phone_known_and_unknown_alike(self):
        for phone in ("+255712400001", "+255712400009"):
            for _i in range(3):
                self.assertEqual(self._ask_code(phone).status_code, 200)
            response = self._ask_code(phone)
            self.assertEqual(response.status_code, 429, phone)
            self.assertIn("Too many attempts", response.text)
        self.assertEqual(len(self._received("+255712400001")), 3)

    def test_rate_limit_per_address(self):
        with patch.dict(RATE_LIMITS, {"code_ip": (2, 900), "signin_ip": (2, 900)}):
            self.assertEqual(self._ask_code("+255712400001").status_code, 200)
            self.assertEqual(self._ask_code("+255712400002").status_code, 200)
            response = self._ask_code("+255712400003")
            self.assertEqual(response.status_code, 429)
            self.assertEqual(self._enter_code("000000").status_code, 400)
            self.registry._login_failures.clear()
            self.assertEqual(self._enter_code("000001").status_code, 400)
            self.registry._login_failures.clear()
            response = self._enter_code("000002")
            self.assertEqual(response.status_code, 429)
            self.assertIn("Too many attempts", response.text)

    def test_another_companys_customer_gets_no_code_here(self):
        other = self.env["res.company"].create(
            {"name": "Other ISP", "country_id": self.env.ref("base.tz").id}
        )
        self.env.user.company_ids = [Command.link(other.id)]
        partner = self._customer("+255712400005", company=other, name="Juma")
        user = self._grant(partner)
        self.assertEqual(user.login, "+255712400005")
        response = self._ask_code("+255712400005")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self._received("+255712400005"), [])
        self.assertFalse(
            self.env["isp.portal.login.code"].sudo().search([("user_id", "=", user.id)])
        )

    def test_internal_and_archived_users_get_no_code(self):
        self.customer.user_ids.active = False  # access revoked
        self._ask_code("+255712400001")
        self.assertEqual(self._received("+255712400001"), [])
        # staff never sign in with a code, even with a number for login
        self.env["res.users"].create(
            {
                "name": "Staff",
                "login": "+255712400007",
                "group_ids": [Command.set([self.env.ref("base.group_user").id])],
            }
        )
        self._ask_code("+255712400007")
        self.assertEqual(self._received("+255712400007"), [])

    def test_phone_code_credential_cannot_go_through_web_login(self):
        """/web/login takes a credential type but not the code: no way around the page."""
        self._ask_code("+255712400001")
        self._code_received("+255712400001")
        self.url_open("/web/session/logout")
        page = self.url_open("/web/login")
        response = self.url_open(
            "/web/login",
            data={
                "login": "+255712400001",
                "type": "isp_phone_code",
                "csrf_token": csrf(page.text),
            },
        )
        self.assertFalse(self._session_user())
        self.assertIn("Wrong login/password", response.text)

    def test_swahili_code_sms(self):
        self.customer.lang = "sw"
        self._ask_code("+255712400001")
        (text,) = self._received("+255712400001")
        self.assertIn("Nambari yako ya kuingia kwenye akaunti yako ni", text)


@tagged("post_install", "-at_install")
class TestPortalPhoneLoginBrowser(PortalPhoneCase):
    def test_phone_sign_in_360px(self):
        """/web/login → "Sign in with your phone number" → number → code from the SMS →
        /my, in headless Chromium at 360 px; screenshots in artifacts/."""
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
                    ready = js(expression)
                except Exception:  # noqa: BLE001 - the page is navigating
                    ready = False
                if ready:
                    return True
                time.sleep(0.3)
            raise AssertionError(f"timeout waiting for {expression}: {js('location.href')}")

        def screenshot(name):
            shot = browser._websocket_request("Page.captureScreenshot", params={"format": "png"})
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / name).write_bytes(base64.b64decode(shot["data"]))

        browser._websocket_request(
            "Emulation.setDeviceMetricsOverride",
            params={"width": 360, "height": 720, "deviceScaleFactor": 1, "mobile": True},
        )
        with self.allow_requests(browser=browser, all_requests=True):
            browser.navigate_to(f"{self.base_url()}/web/login", wait_stop=True)
            wait_for("!!document.querySelector('.o_isp_phone_login_link a')")
            js("document.querySelector('.o_isp_phone_login_link a').click(); true")
            wait_for("!!document.getElementById('isp_login_phone')")
            self.assertLessEqual(js("document.documentElement.scrollWidth"), 360)
            screenshot("portal-phone-login-360.png")
            js(
                "document.getElementById('isp_login_phone').value = '0712 400 001';"
                "document.querySelector('.o_isp_phone_login button[type=submit]').click(); true"
            )
            wait_for("!!document.getElementById('isp_login_code')")
            self.assertIn("+255712400001", js("document.body.innerText"))
            self.assertLessEqual(js("document.documentElement.scrollWidth"), 360)
            screenshot("portal-phone-code-360.png")
            sms = self.env["sms.sms"].sudo().search([("partner_id", "=", self.customer.id)])
            code = CODE_RE.search(sms.body).group(1)
            js(
                f"document.getElementById('isp_login_code').value = '{code}';"
                "document.querySelector('.o_isp_phone_login_code button[type=submit]')"
                ".click(); true"
            )
            wait_for("location.pathname === '/my' && document.readyState === 'complete'")
            self.assertIn("Neema Mushi", js("document.body.innerHTML"))
            uid = js(
                "fetch('/web/session/get_session_info', {method: 'POST', headers: "
                "{'Content-Type': 'application/json'}, body: '{\"jsonrpc\": \"2.0\", "
                '"params": {}}\'}).then(r => r.json()).then(j => j.result.uid)'
            )
            self.assertEqual(uid, self.user.id)
            screenshot("portal-phone-my-360.png")
        self.assertGreater((ARTIFACTS / "portal-phone-login-360.png").stat().st_size, 5_000)
