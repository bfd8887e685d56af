"""The captive page's payment as the public sees it: the status is followed from the paying
session or with an expiring token in a header (never in a URL), a payment request creates no
partner, the provider's error texts stay with staff, the push limits answer 429."""

import json
import time

from odoo.tests import tagged

from odoo.addons.isp_hotspot.models.payment_transaction import ACCESS_TOKEN_LIFETIME
from odoo.addons.isp_hotspot.tests.common import CaptivePageSession
from odoo.addons.isp_mpesa.tests.common import MpesaCase


@tagged("post_install", "-at_install")
class TestHotspotPaymentExposure(CaptivePageSession, MpesaCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["website"].get_current_website().company_id = cls.tz_company
        cls.clickpesa.write({"is_published": True, "isp_push_limit": 2})

    def _pay(self, phone="0754123456", **outcome):
        if outcome:
            self.clickpesa_sim.next_result(**outcome)
        return self.api(
            "POST", "/api/initiate-payment/", {"phone": phone, "bundle_id": self.tzs_bundle.id}
        )

    def _tx(self, reference):
        return self.env["payment.transaction"].search([("reference", "=", reference)])

    def test_status_from_the_session_or_a_header_token_never_the_url(self):
        started = self._pay()
        self.assertEqual(started.status_code, 201, started.text)
        data = started.json()
        self.assertNotIn("access_token", data["status_url"])
        self.assertNotIn(data["access_token"], data["status_url"])
        # the paying session follows it without any token
        self.assertEqual(self.api("GET", data["status_url"]).json()["status"], "waiting")
        # another client: only with the token in the header
        self.opener.cookies.clear()
        self.assertEqual(self.api("GET", data["status_url"]).status_code, 404)
        with_header = self.api(
            "GET", data["status_url"], headers={"X-Access-Token": data["access_token"]}
        )
        self.assertEqual(with_header.status_code, 200, with_header.text)
        in_url = self.api("GET", f"{data['status_url']}?access_token={data['access_token']}")
        self.assertEqual(in_url.status_code, 400)
        self.assertEqual(in_url.json()["error"]["code"], "token_in_url")

    def test_token_expires(self):
        data = self._pay().json()
        tx = self._tx(data["reference"])
        self.assertTrue(tx._isp_hotspot_check_token(data["access_token"]))
        later = time.time() + ACCESS_TOKEN_LIFETIME.total_seconds() + 60
        self.assertFalse(tx._isp_hotspot_check_token(data["access_token"], now=later))
        old = tx._isp_hotspot_access_token(now=time.time() - ACCESS_TOKEN_LIFETIME.total_seconds())
        self.opener.cookies.clear()
        response = self.api("GET", data["status_url"], headers={"X-Access-Token": old + "0"})
        self.assertEqual(response.status_code, 404, "a forged token")
        expired = tx._isp_hotspot_access_token(
            now=time.time() - ACCESS_TOKEN_LIFETIME.total_seconds() - 60
        )
        response = self.api("GET", data["status_url"], headers={"X-Access-Token": expired})
        self.assertEqual(response.status_code, 404, "an expired token")

    def test_waiting_view_url_has_no_token(self):
        self.env.flush_all()
        page = self.url_open("/hotspot")
        self.assertEqual(page.status_code, 200)
        import re  # noqa: PLC0415

        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        response = self.url_open(
            "/hotspot/pay",
            data={"phone": "0754123458", "bundle_id": self.tzs_bundle.id, "csrf_token": csrf},
            method="POST",
        )
        self.assertEqual(response.status_code, 200, response.text[:300])
        self.assertIn("/hotspot/wait?", response.url)
        self.assertNotIn("token", response.url)
        self.assertNotIn("access_token", response.text)
        self.assertIn("Check your phone", response.text)

    def test_payment_request_creates_no_partner(self):
        partners = self.env["res.partner"].with_context(active_test=False).search_count([])
        data = self._pay(phone="0754123459").json()
        tx = self._tx(data["reference"])
        self.assertEqual(tx.state, "pending")
        self.assertEqual(tx.isp_phone, "+255754123459")
        self.assertEqual(
            self.env["res.partner"].with_context(active_test=False).search_count([]), partners
        )
        self._clickpesa_webhook(tx)
        self.assertEqual(self.api("GET", data["status_url"]).json()["status"], "paid")
        self.assertEqual(tx.partner_id.phone, "+255754123459")
        self.assertTrue(tx.partner_id.is_isp_customer)
        me = self.api("GET", "/api/user-status/0754123459/")
        self.assertEqual(me.status_code, 200, me.text)

    def test_provider_error_text_not_shown_to_the_public(self):
        self.clickpesa_sim.fail_next("500")
        data = self._pay(phone="0754123460").json()
        self.assertEqual(data["status"], "failed", data)
        self.assertNotIn("Internal Server Error", json.dumps(data))
        self.assertNotIn("HTTP", data["message"])
        tx = self._tx(data["reference"])
        self.assertIn("Internal Server Error", tx.state_message, "staff see it")

    def test_push_limit_answers_429(self):
        for _i in range(2):
            self.assertEqual(self._pay(phone="0754123461").status_code, 201)
        refused = self._pay(phone="0754123461")
        self.assertEqual(refused.status_code, 429, refused.text)
        self.assertEqual(refused.json()["error"]["code"], "rate_limited")
        self.assertIn("for this phone number", refused.json()["error"]["message"])
