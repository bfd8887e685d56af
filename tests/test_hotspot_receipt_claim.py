"""Claim by receipt ("I paid by M-Pesa Paybill/Till") end to end: M-Pesa's C2B confirmation
posted to isp_mpesa's real confirmation URL (the provider's secret path token), then the
receipt code claimed on the captive page, in the JSON API and in the portal. Access is given
once; every refusal answers the one message and changes nothing; rate limits answer 429; a
stranger typing someone else's number is not signed in as them; two concurrent claims of one
receipt (a separate Odoo server with 2 workers, committed data) make one purchase. The
browser test drives headless Chromium at 360 px and keeps a screenshot in artifacts/."""

import base64
import re
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from unittest.mock import patch
from urllib.parse import parse_qs, urlencode

import requests

from odoo import SUPERUSER_ID, Command, api
from odoo.tests import new_test_user, tagged
from odoo.tests.common import ChromeBrowser, get_db_name
from odoo.tools import config

from odoo.addons.isp_billing.tests.common import IspCommittedCase
from odoo.addons.isp_hotspot.tests.common import CaptivePageSession, csrf
from odoo.addons.isp_mpesa.tests.common import CREDENTIAL_KEY, SECRETS, MpesaCase
from odoo.addons.isp_mpesa.tests.server import OdooServer

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PAYBILL = "600100"
REFUSED = "No unclaimed M-Pesa payment of %s matches this receipt code."
KSH_50 = "50.00\xa0KSh"


def confirmation(trans_id, amount, bill_ref="HOTSPOT", msisdn="2547 ***  678", short_code=PAYBILL):
    """M-Pesa's C2B confirmation body (Daraja v2), as Safaricom posts it."""
    return {
        "TransactionType": "Pay Bill",
        "TransID": trans_id,
        "TransTime": "20250301101500",
        "TransAmount": f"{amount:.2f}",
        "BusinessShortCode": short_code,
        "BillRefNumber": bill_ref,
        "InvoiceNumber": "",
        "OrgAccountBalance": "",
        "ThirdPartyTransID": "",
        "MSISDN": msisdn,
        "FirstName": "JOHN",
    }


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
class TestHotspotReceiptClaim(CaptivePageSession, MpesaCase):
    """The Kenyan operator's website: M-Pesa Paybill (C2B) on its Daraja provider."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        website = cls.env["website"].get_current_website()
        website.company_id = cls.ke_company
        cls.daraja.write({"daraja_c2b_shortcode": PAYBILL, "is_published": True})
        cls.ke_company.isp_paybill_number = PAYBILL
        cls.router = FakeRouterLogin()
        cls.addClassCleanup(cls.router.stop)
        cls.ke_company.isp_hotspot_login_hosts = f"127.0.0.1:{cls.router.server.server_port}"
        cls.weekly = cls._bundle("Weekly KE", 300, cls.ke_company)
        cls.wanjiru = cls.env["res.partner"].create(
            {
                "name": "Wanjiru",
                "phone": "+254722000111",
                "is_isp_customer": True,
                "company_id": cls.ke_company.id,
            }
        )
        cls.params = {
            "mac": "02:AA:BB:CC:EE:01",
            "ip": "10.5.50.30",
            "link-login-only": cls.router.url,
            "link-orig": "http://example.com/",
        }

    def setUp(self):
        super().setUp()
        self.router.posts.clear()

    _seq = 0

    def _receipt(self, amount=50, bill_ref="HOTSPOT", provider=None):
        """A new receipt code, confirmed by M-Pesa through the provider's confirmation URL:
        its isp.mpesa.c2b row."""
        TestHotspotReceiptClaim._seq += 1
        code = f"SHJ{TestHotspotReceiptClaim._seq:03d}VBWRG"[:10]
        provider = provider or self.daraja
        _validation, url = provider._daraja_c2b_urls()
        self.env.flush_all()
        response = self.url_open(
            url.replace(provider._isp_callback_base(), ""),
            json=confirmation(code, amount, bill_ref, short_code=provider.daraja_c2b_shortcode),
            method="POST",
        )
        self.env.invalidate_all()
        self.assertEqual(response.status_code, 200, response.text)
        # booked by the cron the confirmation wakes (not in the request)
        self._book_c2b()
        row = self.env["isp.mpesa.c2b"].search([("trans_id", "=", code)])
        self.assertEqual((row.state, row.company_id), ("unmatched", provider.company_id), row.error)
        return row

    def _page_claim(self, receipt, phone, bundle=None, params=None, address=None):
        """Claim on the captive page as its form does (CSRF token of the page)."""
        params = self.params if params is None else params
        html = self.url_open(f"/hotspot?{urlencode(params)}").text
        self.assertIn('id="hs-receipt"', html)
        self.env.flush_all()
        response = self.url_open(
            "/hotspot/receipt",
            data={
                **params,
                "csrf_token": csrf(html),
                "receipt": receipt,
                "phone": phone,
                "bundle_id": str((bundle or self.kes_bundle).id),
            },
            allow_redirects=False,
            headers={"X-Forwarded-For": address} if address else None,
        )
        self.env.invalidate_all()
        return response

    def _claims_state(self):
        """What a refused claim must leave unchanged."""
        return (
            self.env["isp.purchase"].search_count([]),
            self.env["res.partner"].search_count([("is_isp_customer", "=", True)]),
            self.env["isp.device"].search_count([]),
            sorted(self.env["isp.mpesa.c2b"].search([]).mapped(lambda r: (r.id, r.state))),
        )

    # ------------------------------------------------------------------ captive page

    def test_page_shows_paybill_and_claims_once_with_router_handoff(self):
        html = self.url_open(f"/hotspot?{urlencode(self.params)}").text
        self.assertIn(f'id="hs-paybill-number">{PAYBILL}<', html)
        self.assertIn("your phone number", html)
        row = self._receipt()
        response = self._page_claim(row.trans_id.lower(), "0712 345 601")
        self.assertEqual(response.status_code, 303, response.text)
        self.assertIn("/hotspot/status", response.headers["Location"])
        partner = self.env["res.partner"].search([("phone", "=", "+254712345601")])
        self.assertEqual((row.state, row.partner_id), ("claimed", partner))
        self.assertEqual(row.purchase_id.partner_id, partner)
        subscription = partner.isp_subscription_ids
        self.assertEqual((subscription.state, subscription.bundle_id), ("active", self.kes_bundle))
        self.assertEqual(partner.isp_device_ids.mac, self.params["mac"])
        # the status view posts the router login as after a voucher: the hotspot login
        status = self.url_open(f"/hotspot/status?{urlencode(self.params)}").text
        self.assertIn('data-auto="1"', status)
        login = self.url_open(
            "/hotspot/status", data={**self.params, "csrf_token": csrf(status)}
        ).text
        self.assertIn(f'action="{self.router.url}"', login)
        self.assertIn(f'name="username" value="{subscription.login}"', login)
        # the same receipt again: the one message, nothing more
        before = self._claims_state()
        again = self._page_claim(row.trans_id, "0712 345 601")
        self.assertEqual(again.status_code, 400)
        self.assertIn(REFUSED % KSH_50, again.text)
        self.assertEqual(self._claims_state(), before)
        self.assertEqual(len(partner.isp_subscription_ids), 1)

    def test_refusals_say_the_same_and_change_nothing(self):
        claimed = self._receipt()
        self.assertEqual(self._page_claim(claimed.trans_id, "0712345602").status_code, 303)
        short = self._receipt(amount=40)
        # the same amount paid to another operator's Paybill (another company of this Odoo)
        other_operator = self._provider(
            "isp_mpesa.payment_provider_daraja",
            self.tz_company,
            {
                "daraja_consumer_key": SECRETS["consumer_key"],
                "daraja_consumer_secret": SECRETS["consumer_secret"],
                "daraja_passkey": SECRETS["passkey"],
                "daraja_shortcode": "174380",
                "daraja_c2b_shortcode": "600200",
            },
        )
        other_company_row = self._receipt(provider=other_operator)
        priced = self._receipt(amount=300)  # the weekly bundle's price, claimed as daily
        cases = {
            "unknown": "SHJ9ZZZZZZ",
            "claimed": claimed.trans_id,
            "wrong amount": short.trans_id,
            "other company": other_company_row.trans_id,
            "other bundle's price": priced.trans_id,
        }
        before = self._claims_state()
        answers = {}
        for name, code in cases.items():
            # a new number each time: a refused claim creates no customer
            response = self._page_claim(code, f"07123457{len(answers):02d}")
            answers[name] = (response.status_code, self._message(response.text))
        self.assertEqual(set(answers.values()), {(400, REFUSED % KSH_50)}, answers)
        self.assertEqual(self._claims_state(), before)
        # text that is no receipt code is refused before any lookup, with its own message
        malformed = self._page_claim("<b>x</b>", "0712345799")
        self.assertEqual(malformed.status_code, 400)
        self.assertIn("Enter the receipt code", malformed.text)
        self.assertNotIn("<b>x</b>", malformed.text)
        self.assertEqual(self._claims_state(), before)

    def _message(self, html):
        match = re.search(r'<p class="hs-msg hs-err" role="alert">([^<]*)</p>', html)
        return match and match.group(1).replace("&nbsp;", "\xa0")

    def test_rate_limit_per_phone_and_per_address(self):
        row = self._receipt()
        for n in range(5):
            response = self._page_claim(f"SHJ8ZZZZZ{n}", "0712345610")
            self.assertEqual(response.status_code, 400, n)
        # the sixth from this number: 429 even with the right receipt, nothing changed
        blocked = self._page_claim(row.trans_id, "0712345610")
        self.assertEqual(blocked.status_code, 429)
        self.assertIn("Too many attempts", blocked.text)
        self.assertEqual(row.state, "unmatched")
        # another number from the same address goes on
        self.assertEqual(self._page_claim(row.trans_id, "0712345611").status_code, 303)
        # per address: the company's per-address voucher setting, counted apart
        made = self.env["isp.hotspot.attempt"].search_count(
            [("kind", "=", "receipt_ip"), ("key", "=", "127.0.0.1")]
        )
        self.assertEqual(made, 7, "every claim from this address counted")
        self.ke_company.isp_hotspot_ip_voucher_limit = made + 2
        other = self._receipt()
        for n in range(2):
            self.assertEqual(
                self._page_claim(f"SHJ7ZZZZZ{n}", f"07123456{20 + n}").status_code, 400
            )
        limited = self._page_claim(other.trans_id, "0712345622")
        self.assertEqual(limited.status_code, 429)
        self.assertEqual(other.state, "unmatched")

    def test_stranger_with_someone_elses_number_is_not_signed_in(self):
        row = self._receipt()
        response = self._page_claim(row.trans_id, "0722 000 111")
        # the access is the number's owner's; this browser is not signed in as them
        self.assertEqual(response.status_code, 200, response.text)
        self.assertIn("gave access to the account of +254722000111", response.text)
        self.assertEqual(row.state, "claimed")
        self.assertEqual(self.wanjiru.isp_subscription_ids.state, "active")
        self.assertFalse(self.wanjiru.isp_device_ids, "the stranger's device is not hers")
        self.assertEqual(self.api("GET", "/api/user-status/0722000111/").status_code, 401)
        status = self.url_open("/hotspot/status", allow_redirects=False)
        self.assertEqual(status.status_code, 303)
        self.assertNotIn("/hotspot/status", status.headers["Location"])

    def test_disabled_without_c2b(self):
        self.daraja.daraja_c2b_shortcode = False
        html = self.url_open(f"/hotspot?{urlencode(self.params)}").text
        self.assertNotIn('id="hs-receipt"', html)
        response = self.api(
            "POST",
            "/api/receipts/claim/",
            {"receipt": "SHJ0VBWRGL", "phone": "0712345630", "bundle_id": self.kes_bundle.id},
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json()["error"]["code"], "receipt_unavailable")

    # ------------------------------------------------------------------ JSON API

    def test_api_claim(self):
        row = self._receipt()
        body = {"receipt": row.trans_id, "phone": "0712345640", "bundle_id": self.kes_bundle.id}
        response = self.api("POST", "/api/receipts/claim/", body)
        self.assertEqual(response.status_code, 201, response.text)
        data = response.json()
        self.assertEqual((data["claimed"], data["signed_in"], data["active"]), (True, True, True))
        self.assertEqual(row.state, "claimed")
        # signed in: this session reads its own status
        self.assertEqual(self.api("GET", "/api/user-status/0712345640/").status_code, 200)
        again = self.api("POST", "/api/receipts/claim/", body)
        self.assertEqual(again.status_code, 400)
        self.assertEqual(
            again.json()["error"], {"code": "receipt_refused", "message": REFUSED % KSH_50}
        )
        self.assertEqual(
            self.env["isp.purchase"].search_count([("partner_id", "=", row.partner_id.id)]), 1
        )
        # the seed's names, and a rate limit answered 429 in JSON
        for n in range(5):
            self.api(
                "POST",
                "/api/receipts/claim/",
                {
                    "receipt_code": f"SHJ6ZZZZZ{n}",
                    "phone_number": "0712345641",
                    "bundle_id": self.kes_bundle.id,
                },
            )
        limited = self.api(
            "POST",
            "/api/receipts/claim/",
            {"receipt": "SHJ6ZZZZZZ", "phone": "0712345641", "bundle_id": self.kes_bundle.id},
        )
        self.assertEqual(limited.status_code, 429)
        self.assertEqual(limited.json()["error"]["code"], "rate_limited")
        # documented
        document = self.api("GET", "/api/openapi.json").json()
        operation = document["paths"]["/api/receipts/claim/"]["post"]
        self.assertEqual(set(operation["responses"]), {"201", "400", "413", "415", "429"})
        self.assertIn(
            "receipt",
            operation["requestBody"]["content"]["application/json"]["schema"]["properties"],
        )

    # ------------------------------------------------------------------ portal

    def test_portal_claim(self):
        user = new_test_user(
            self.env,
            login="wanjiru-portal",
            groups="base.group_portal",
            company_id=self.ke_company.id,
            company_ids=[Command.set(self.ke_company.ids)],
        )
        partner = user.partner_id
        partner.write(
            {"phone": "+254722000222", "is_isp_customer": True, "company_id": self.ke_company.id}
        )
        row = self._receipt(amount=300)
        self.authenticate("wanjiru-portal", "wanjiru-portal")
        page = self.url_open("/my/subscriptions").text
        self.assertIn('action="/my/subscriptions/receipt"', page)
        self.assertIn("Weekly KE", page)
        # without the CSRF token: refused, nothing claimed
        no_csrf = self.url_open(
            "/my/subscriptions/receipt",
            data={"receipt": row.trans_id, "bundle_id": self.weekly.id},
            allow_redirects=False,
        )
        self.assertEqual(no_csrf.status_code, 400)
        self.assertEqual(row.state, "unmatched")

        def claim(receipt, bundle):
            self.env.flush_all()
            response = self.url_open(
                "/my/subscriptions/receipt",
                data={"receipt": receipt, "bundle_id": bundle.id, "csrf_token": csrf(page)},
                allow_redirects=False,
            )
            self.env.invalidate_all()
            self.assertEqual(response.status_code, 303, response.text)
            return response.headers["Location"].split("receipt=")[1].split("#")[0]

        self.assertEqual(claim(row.trans_id, self.kes_bundle), "refused")  # 300 paid, 50 asked
        self.assertEqual(row.state, "unmatched")
        self.assertEqual(claim(row.trans_id, self.weekly), "claimed")
        self.assertEqual((row.state, row.partner_id), ("claimed", partner))
        self.assertEqual(partner.isp_subscription_ids.bundle_id, self.weekly)
        done = self.url_open("/my/subscriptions?receipt=claimed").text
        self.assertIn("Payment found: your bundle is active.", done)
        # an outcome is a code: a link cannot put words on the page
        forged = self.url_open("/my/subscriptions?receipt=<b>pay+to+0799</b>").text
        self.assertNotIn("pay to 0799", forged)
        self.assertEqual(claim(row.trans_id, self.weekly), "refused")  # once
        self.assertEqual(len(partner.isp_subscription_ids.purchase_ids), 1)
        # per user: 5 failures in 15 minutes (counting the two above), then blocked
        for n in range(3):
            self.assertEqual(claim(f"SHJ5ZZZZZ{n}", self.kes_bundle), "refused")
        other = self._receipt()
        self.assertEqual(claim(other.trans_id, self.kes_bundle), "blocked")
        self.assertEqual(other.state, "unmatched")

    # ------------------------------------------------------------------ browser

    def _browser(self, width=360):
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
            params={"width": width, "height": 720, "deviceScaleFactor": 1, "mobile": True},
        )
        return browser, js, wait_for

    def test_browser_claim_360px(self):
        """/hotspot → the bundle chosen above → receipt code and phone → status → router
        login, at 360 px."""
        row = self._receipt()
        browser, js, wait_for = self._browser()
        with self.allow_requests(browser=browser, all_requests=True):
            browser.navigate_to(
                f"{self.base_url()}/hotspot?{urlencode(self.params)}", wait_stop=True
            )
            wait_for("document.readyState === 'complete' && !!document.getElementById('hs-rcode')")
            self.assertLessEqual(js("document.documentElement.scrollWidth"), 360)
            js("document.getElementById('hs-receipts').scrollIntoView(); true")
            shot = browser._websocket_request("Page.captureScreenshot", params={"format": "png"})
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / "hotspot-receipt-360.png").write_bytes(base64.b64decode(shot["data"]))
            # the bundle picked in the list above is the one claimed (hotspot.js)
            js(
                f"document.querySelector('input[name=bundle_id][value=\"{self.kes_bundle.id}\"]')"
                ".click(); true"
            )
            self.assertEqual(
                js("document.getElementById('hs-rbundle').value"), str(self.kes_bundle.id)
            )
            js(
                f"document.getElementById('hs-rcode').value = '{row.trans_id.lower()}';"
                "document.getElementById('hs-rphone').value = '0712 345 650';"
                "document.querySelector('#hs-receipt button').click(); true"
            )
            wait_for("location.href.startsWith(%r)" % self.router.url, timeout=60)
        self.env.invalidate_all()
        partner = self.env["res.partner"].search([("phone", "=", "+254712345650")])
        subscription = partner.isp_subscription_ids
        self.assertEqual((row.state, subscription.state), ("claimed", "active"))
        self.assertEqual(len(self.router.posts), 1)
        self.assertEqual(self.router.posts[0]["username"], [subscription.login])
        self.assertEqual(partner.isp_device_ids.mac, self.params["mac"])


@tagged("post_install", "-at_install")
class TestHotspotReceiptClaimRace(IspCommittedCase):
    """One receipt claimed by two phones at the same moment through POST
    /api/receipts/claim/, on a separate Odoo server with 2 workers (committed data, a
    website of its own): one purchase, the other answer is the one message."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the provider's credentials are encrypted with a key of the test's own (CI sets none)
        cls.startClassPatcher(patch.dict(config.options, {"isp_credential_key": CREDENTIAL_KEY}))
        cls.host = f"receipt-race-{cls.tag}.test"
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            kes = env.ref("base.KES")
            kes.active = True
            company, env = cls._create_company(
                env, "Receipt Race ISP", country_id=env.ref("base.ke").id
            )
            company.currency_id = kes
            website = env["website"].create(
                {"name": f"Receipt race {cls.tag}", "domain": cls.host, "company_id": company.id}
            )
            bundle = cls._create_bundle(
                env, company, "Race Daily", isp_service_type="hotspot", list_price=50
            )
            template = env.ref("isp_mpesa.payment_provider_daraja")
            provider = env["payment.provider"].search(
                [("code", "=", template.code), ("company_id", "=", company.id)], limit=1
            ) or template.copy({"company_id": company.id})
            provider.write(
                {
                    "state": "test",
                    "daraja_consumer_key": SECRETS["consumer_key"],
                    "daraja_consumer_secret": SECRETS["consumer_secret"],
                    "daraja_passkey": SECRETS["passkey"],
                    "daraja_shortcode": "174379",
                    "daraja_c2b_shortcode": PAYBILL,
                }
            )
            provider._isp_ensure_journal()
            row, _new = env["isp.mpesa.c2b"]._c2b_confirm(
                provider, confirmation(f"RCE{cls.tag[:7].upper()}", 50)
            )
            row._c2b_book()
            assert row.state == "unmatched", row.error
            cls.company_id, cls.website_id, cls.bundle_id = company.id, website.id, bundle.id
            cls.receipt = row.trans_id
        cls.addClassCleanup(cls._remove_website)
        conf = Path(tempfile.mkdtemp(prefix="receipt_race_")) / "odoo.conf"
        text = Path(config.rcfile or "odoo.conf").read_text()
        conf.write_text(text.replace("proxy_mode = False", "proxy_mode = True"))
        if "proxy_mode = True" not in conf.read_text():
            conf.write_text(conf.read_text().replace("[options]", "[options]\nproxy_mode = True"))
        cls.server = OdooServer(get_db_name(), conf, workers=2, credential_key=CREDENTIAL_KEY)
        cls.server.start()
        cls.addClassCleanup(cls.server.stop)

    @classmethod
    def _remove_website(cls):
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["website"].browse(cls.website_id).unlink()

    def test_two_claims_one_purchase(self):
        phones = ["+254712400001", "+254712400002"]

        def fire(barrier, phone, address):
            barrier.wait(timeout=30)
            response = requests.post(
                f"{self.server.url}/api/receipts/claim/",
                json={"receipt": self.receipt, "phone": phone, "bundle_id": self.bundle_id},
                headers={"Host": self.host, "X-Forwarded-For": address},
                timeout=120,
            )
            return response.status_code, response.json().get("error", {}).get("code")

        results = self._at_once(
            fire, [(phone, f"10.88.{n}.{int(self.tag[:2], 16)}") for n, phone in enumerate(phones)]
        )
        self.assertEqual(
            sorted(results),
            [(201, None), (400, "receipt_refused")],
            f"{results}\n{self.server.tail()}",
        )
        winner = phones[results.index((201, None))]
        with self.registry.cursor() as cr:
            env = self._env(cr)
            row = env["isp.mpesa.c2b"].search(
                [("company_id", "=", self.company_id), ("trans_id", "=", self.receipt)]
            )
            self.assertEqual((row.state, row.partner_id.phone), ("claimed", winner))
            purchases = env["isp.purchase"].search([("company_id", "=", self.company_id)])
            self.assertEqual(len(purchases), 1)
            self.assertEqual(purchases, row.purchase_id)
            customers = env["res.partner"].search(
                [("phone", "in", phones), ("company_id", "=", self.company_id)]
            )
            self.assertEqual(customers.mapped("phone"), [winner], "the loser gets no account")
