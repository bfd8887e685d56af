import logging
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from odoo import fields
from odoo.tests import tagged

from odoo.addons.isp_billing.models import isp_voucher_code
from odoo.addons.isp_billing.tests.common import captured_logs

from .common import HotspotCase
from .test_page import ROUTER, csrf

CODE_RE = re.compile(r"^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$")


def unknown_code():
    """A well-formed code (valid check character) that no batch holds."""
    return isp_voucher_code.random_codes(1)[0]


def malformed(code):
    """``code`` with its last character changed: the check character refuses it."""
    last = "2" if code[-1] != "2" else "3"
    return code[:-1] + last


@tagged("post_install", "-at_install")
class TestHotspotVoucher(HotspotCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.isp_voucher_max_failures = 5
        cls.company.isp_voucher_window_minutes = 15
        cls.batch = cls._voucher_batch("HS-CARDS-1", 8, cls.daily)
        cls.codes = cls.batch.voucher_ids.sorted("id")
        cls.manager_key = cls._api_key("voucher-manager", "isp_billing.group_isp_manager")
        cls.user_key = cls._api_key("voucher-clerk", "isp_billing.group_isp_user")

    @classmethod
    def _voucher_batch(cls, name, quantity, bundle, **vals):
        batch = cls.env["isp.voucher.batch"].create(
            {"name": name, "quantity": quantity, "bundle_id": bundle.id, **vals}
        )
        batch.action_generate()
        return batch

    def redeem(self, code, phone="0655 123 456", **extra):
        return self.api("POST", "/api/vouchers/redeem/", {"code": code, "phone": phone, **extra})

    def customers(self):
        return self.env["res.partner"].search_count([("is_isp_customer", "=", True)])

    def subscriptions(self):
        return self.env["isp.subscription"].search_count([])

    def attempts(self, **domain):
        return self.env["isp.voucher.attempt"].search(
            [("company_id", "=", self.company.id), *((k, "=", v) for k, v in domain.items())]
        )

    # ------------------------------------------------------------------ redeem (API)

    def test_good_code_gives_access_once(self):
        voucher = self.codes[0]
        typed = voucher.code.lower().replace("-", " ")
        response = self.redeem(typed, mac="3a-1f-6c-88-21-d4", ip="10.5.50.30")
        self.assertEqual(response.status_code, 201, response.text)
        status = response.json()
        self.assertTrue(status["redeemed"])
        self.assertTrue(status["signed_in"], "a customer this redemption created")
        self.assertTrue(status["active"])
        self.assertEqual((status["phone"], status["bundle"]), ("+255655123456", "HS Daily"))
        self.assertTrue(status["access_until"])
        partner = self.env["res.partner"].search([("phone", "=", "+255655123456")])
        self.assertEqual(partner.isp_subscription_ids.state, "active")
        self.assertEqual(partner.isp_device_ids.mac, "3A:1F:6C:88:21:D4")
        self.assertEqual(
            (voucher.state, voucher.partner_id, voucher.mac, voucher.ip),
            ("redeemed", partner, "3A:1F:6C:88:21:D4", "10.5.50.30"),
        )
        # the session is signed in as the customer: its own status, nobody else's
        self.assertEqual(self.api("GET", "/api/user-status/0655123456/").status_code, 200)
        self.assertError(self.api("GET", "/api/user-status/0713987654/"), 403, "forbidden")
        # the same code again, by anyone: refused, nothing added
        subscriptions = self.subscriptions()
        self.assertIn(
            "already been used",
            self.assertError(self.redeem(voucher.code, "0655 999 000"), 409, "voucher_used")[
                "message"
            ],
        )
        self.assertEqual(self.subscriptions(), subscriptions)
        self.assertEqual(voucher.partner_id, partner)
        self.assertFalse(self.env["res.partner"].search([("phone", "=", "+255655999000")]))

    def test_another_customers_number_is_credited_not_signed_in(self):
        """The attack: redeem a (cheap, Daily) voucher with someone else's number to be
        signed in as them. The voucher credits Amina, on her Weekly plan; the redeemer's
        session stays its own, and Amina signs in with her SMS code to use the time."""
        subscription = self.amina.isp_subscription_ids
        expiry = subscription.date_expiry
        amina_device = self.env["isp.device"].create(
            {"partner_id": self.amina.id, "mac": "02:AA:00:00:00:01"}
        )
        # the attacker is signed in as their own new customer first
        response = self.redeem(self.codes[0].code, "0655 123 456", mac="3A:1F:6C:88:21:D4")
        self.assertTrue(response.json()["signed_in"])
        voucher = self.codes[1]
        response = self.redeem(voucher.code, "0713 987 654", mac="3a-1f-6c-88-21-d4")
        self.assertEqual(response.status_code, 201, response.text)
        self.assertEqual(
            response.json(),
            {
                "redeemed": True,
                "signed_in": False,
                "phone": "+255713987654",
                "message": "The voucher was added to the account of +255713987654. To use "
                "it on this device, sign in with the code we send by SMS to that number.",
            },
        )
        # Amina is credited: one day more, still on her Weekly plan
        self.assertEqual(subscription.bundle_id, self.weekly)
        self.assertEqual(subscription.date_expiry, expiry + timedelta(days=1))
        self.assertEqual((voucher.state, voucher.partner_id), ("redeemed", self.amina))
        self.assertEqual(voucher.mac, "3A:1F:6C:88:21:D4", "the redeemer's device is recorded")
        # the redeemer's device is not registered on Amina's account
        self.assertFalse(voucher.device_id)
        self.assertEqual(self.amina.with_context(active_test=False).isp_device_ids, amina_device)
        # the session is still the attacker's: nothing of Amina's can be read or changed
        self.assertEqual(self.api("GET", "/api/user-status/0655123456/").status_code, 200)
        self.assertError(self.api("GET", "/api/user-status/0713987654/"), 403, "forbidden")
        self.assertError(self.api("GET", "/api/devices/0713987654/"), 403, "forbidden")
        removal = {"phone": "0713987654", "mac": amina_device.mac}
        self.assertError(self.api("POST", "/api/devices/remove/", removal), 403, "forbidden")
        self.assertTrue(amina_device.active)
        # Amina proves her number: she is signed in and sees the time added
        status = self.sign_in_api("0713987654")
        self.assertEqual(status["bundle"], "HS Weekly")
        self.assertEqual(
            status["access_until"], fields.Datetime.to_string(expiry + timedelta(days=1))
        )

    def test_signed_in_customer_redeems_for_their_own_number(self):
        """A session signed in as the number's customer (SMS code) is signed in still, and
        the device is registered on its account."""
        self.sign_in_api("0713987654")
        response = self.redeem(self.codes[2].code, "0713987654", mac="3A:1F:6C:88:21:D5")
        self.assertEqual(response.status_code, 201, response.text)
        status = response.json()
        self.assertTrue(status["signed_in"])
        self.assertEqual((status["phone"], status["bundle"]), ("+255713987654", "HS Weekly"))
        self.assertEqual(self.amina.isp_device_ids.mac, "3A:1F:6C:88:21:D5")

    def test_refused_codes_change_nothing(self):
        void, used = self.codes[1], self.codes[3]
        void.action_void()
        expired_batch = self._voucher_batch(
            "HS-OLD", 1, self.daily, valid_until=fields.Date.today() - timedelta(days=1)
        )
        self.assertEqual(self.redeem(used.code, "0713987654").status_code, 201)
        customers, subscriptions = self.customers(), self.subscriptions()
        cases = [
            (malformed(self.codes[4].code), 400, "invalid_code", "not a voucher code"),
            ("hello", 400, "invalid_code", "not a voucher code"),
            ("   ", 400, "invalid_code", "Enter the voucher code"),
            (unknown_code(), 404, "voucher_unknown", "does not exist"),
            (void.code, 409, "voucher_void", "cancelled by the seller"),
            (expired_batch.voucher_ids.code, 409, "voucher_expired", "expired on"),
            (used.code, 409, "voucher_used", "already been used"),
        ]
        for code, status, error_code, message in cases:
            with self.subTest(code=code):
                error = self.assertError(
                    self.redeem(code, "0655 222 333", mac="02:00:00:00:00:09"), status, error_code
                )
                self.assertIn(message, error["message"])
        # wrong types and bad phone / MAC: 400, nothing redeemed
        for body, code in (
            ({"code": 123, "phone": "0655222333"}, "wrong_type"),
            ({"code": self.codes[4].code, "phone": ["0655222333"]}, "wrong_type"),
            ({"code": self.codes[4].code}, "missing_field"),
            ({"code": self.codes[4].code, "phone": "12"}, "invalid"),
            ({"code": self.codes[4].code, "phone": "0655222333", "mac": "zz"}, "invalid"),
        ):
            with self.subTest(body=body):
                self.assertError(self.api("POST", "/api/vouchers/redeem/", body), 400, code)
        self.assertEqual((self.customers(), self.subscriptions()), (customers, subscriptions))
        self.assertEqual(self.codes[4].state, "available")
        self.assertEqual((void.state, expired_batch.voucher_ids.state), ("void", "available"))
        self.assertFalse(self.env["res.partner"].search([("phone", "=", "+255655222333")]))
        # the refusals of existing-or-not codes are kept for the brute-force limit
        self.assertEqual(
            sorted(self.attempts(phone="+255655222333").mapped("result")),
            ["expired", "unknown", "used", "void"],
        )

    def test_brute_force_limit_answers_429(self):
        self.company.isp_voucher_max_failures = 3
        for _i in range(3):
            self.assertError(self.redeem(unknown_code(), "0655 444 555"), 404, "voucher_unknown")
        good = self.codes[5]
        error = self.assertError(self.redeem(good.code, "0655 444 555"), 429, "rate_limited")
        self.assertIn("Too many wrong voucher codes", error["message"])
        self.assertEqual(good.state, "available", "even a good code waits out the block")
        self.assertFalse(self.env["res.partner"].search([("phone", "=", "+255655444555")]))
        self.assertEqual(len(self.attempts(phone="+255655444555", result="blocked")), 1)
        # another customer is not blocked
        self.assertEqual(self.redeem(good.code, "0655 444 666").status_code, 201)
        self.assertEqual(good.state, "redeemed")

    def test_one_router_address_serves_many_customers(self):
        """Behind the hotspot router's NAT every customer reaches Odoo from the router's one
        address (here the test client's): a dozen customers' wrong codes do not lock the
        others out; the company's per-address setting still stops the address."""
        self.assertEqual(self.company.isp_hotspot_ip_voucher_limit, 100, "the default")
        for n in range(12):
            self.assertError(self.redeem(unknown_code(), f"0655 500 {n:03d}"), 404)
        good = self.codes[6]
        self.assertEqual(self.redeem(good.code, "0655 500 100").status_code, 201)
        self.company.isp_hotspot_ip_voucher_limit = 13
        error = self.assertError(self.redeem(self.codes[7].code, "0655 500 101"), 429)
        self.assertIn("Too many attempts", error["message"])
        self.assertEqual(self.codes[7].state, "available")
        self.company.isp_hotspot_ip_voucher_limit = 0
        self.assertEqual(self.redeem(self.codes[7].code, "0655 500 101").status_code, 201)

    # ------------------------------------------------------------------ admin API

    def test_generate_and_list_with_an_api_key(self):
        headers = {"Authorization": f"Bearer {self.manager_key}"}
        response = self.api(
            "POST",
            "/api/vouchers/generate/",
            {
                "bundle_id": self.weekly.id,
                "quantity": 5,
                "name": "HS-API-1",
                "price": 5000,
                "valid_until": "2099-12-31",
            },
            headers=headers,
        )
        self.assertEqual(response.status_code, 201, response.text)
        data = response.json()
        batch = self.env["isp.voucher.batch"].browse(data["batch"]["id"])
        self.assertEqual(
            (batch.name, batch.company_id, batch.bundle_id, batch.price, batch.state),
            ("HS-API-1", self.company, self.weekly, 5000, "done"),
        )
        codes = [v["code"] for v in data["vouchers"]]
        self.assertEqual(sorted(codes), sorted(batch.voucher_ids.mapped("code")))
        self.assertEqual(len(set(codes)), 5)
        for code in codes:
            self.assertRegex(code, CODE_RE)
        self.assertEqual(data["vouchers"][0]["valid_until"], "2099-12-31")
        # a generated code works on the captive API at once
        self.assertEqual(self.redeem(codes[0], "0655 777 888").status_code, 201)
        # list: by batch, by state, paged
        listed = self.api(
            "GET", f"/api/vouchers/?batch_id={batch.id}&limit=2&offset=0", headers=headers
        )
        self.assertEqual(listed.status_code, 200, listed.text)
        self.assertEqual(listed.json()["count"], 5)
        self.assertEqual([v["code"] for v in listed.json()["vouchers"]], codes[:2])
        redeemed = self.api(
            "GET", f"/api/vouchers/?batch_id={batch.id}&state=redeemed", headers=headers
        ).json()
        self.assertEqual(
            [(v["code"], v["phone"]) for v in redeemed["vouchers"]], [(codes[0], "+255655777888")]
        )
        everything = self.api("GET", "/api/vouchers/?limit=1000", headers=headers).json()
        self.assertEqual(
            everything["count"],
            self.env["isp.voucher"].search_count([("company_id", "=", self.company.id)]),
        )
        self.assertGreaterEqual(everything["count"], 13)

    def test_seed_api_names(self):
        """Existing captive frontends call the seed API's names: phone_number, voucher_code,
        duration_hours + batch_id (a Batch ID) + notes, ?is_used=&batch_id=<Batch ID>."""
        headers = {"Authorization": f"Bearer {self.manager_key}"}
        response = self.api(
            "POST",
            "/api/vouchers/generate/",
            {"quantity": 3, "duration_hours": 5, "batch_id": "SEED-5H", "notes": "counter"},
            headers=headers,
        )
        self.assertEqual(response.status_code, 201, response.text)
        batch = self.env["isp.voucher.batch"].browse(response.json()["batch"]["id"])
        self.assertEqual(
            (batch.name, batch.duration_hours, batch.price, batch.notes, batch.state),
            ("SEED-5H", 5, 0, "counter", "done"),
        )
        code = batch.voucher_ids.sorted("id")[0].code
        # a field and its seed name that disagree: refused, the code stays available
        self.assertError(
            self.api(
                "POST",
                "/api/vouchers/redeem/",
                {"voucher_code": code, "code": self.codes[0].code, "phone_number": "0655 246 810"},
            ),
            400,
            "conflicting_fields",
        )
        self.assertEqual(batch.voucher_ids.sorted("id")[0].state, "available")
        before = fields.Datetime.now()
        redeemed = self.api(
            "POST", "/api/vouchers/redeem/", {"voucher_code": code, "phone_number": "0655 246 810"}
        )
        self.assertEqual(redeemed.status_code, 201, redeemed.text)
        self.assertTrue(redeemed.json()["signed_in"])
        subscription = self.env["res.partner"].search([("phone", "=", "+255655246810")])
        subscription = subscription.isp_subscription_ids
        self.assertEqual(subscription.state, "active")
        self.assertAlmostEqual(
            (subscription.date_expiry - before).total_seconds(), 5 * 3600, delta=120
        )
        for query, count in (
            ("batch_id=SEED-5H", 3),
            ("batch_id=SEED-5H&is_used=true", 1),
            ("batch_id=SEED-5H&is_used=false", 2),
            ("batch_id=SEED-5H&is_used=0&state=redeemed", 0),
            (f"batch_id={batch.id}&is_used=1", 1),
            ("batch_id=NO-SUCH-BATCH", 0),
        ):
            with self.subTest(query=query):
                listed = self.api("GET", f"/api/vouchers/?{query}", headers=headers)
                self.assertEqual(listed.status_code, 200, listed.text)
                self.assertEqual(listed.json()["count"], count)

    def test_admin_routes_refuse_without_a_valid_key(self):
        batches = self.env["isp.voucher.batch"].search_count([])
        body = {"bundle_id": self.daily.id, "quantity": 1}
        for headers, status in (
            ({}, 401),
            ({"Authorization": "Bearer wrong-key"}, 401),
            ({"Authorization": "Bearer "}, 401),
            ({"Authorization": f"Basic {self.manager_key}"}, 401),
            ({"Authorization": f"Bearer {self.user_key}"}, 403),
        ):
            with self.subTest(headers=headers):
                generate = self.api("POST", "/api/vouchers/generate/", body, headers=headers)
                self.assertError(generate, status)
                listing = self.api("GET", "/api/vouchers/", headers=headers)
                self.assertError(listing, status)
                if status == 401:
                    self.assertEqual(generate.headers["WWW-Authenticate"], "Bearer")
                self.assertNotIn("vouchers", listing.json())
        # a browser session of the manager is no API key
        self.authenticate("voucher-manager", "voucher-manager-pass")
        self.assertError(self.api("GET", "/api/vouchers/"), 401)
        self.assertEqual(self.env["isp.voucher.batch"].search_count([]), batches)

    def test_generate_bad_input_creates_nothing(self):
        headers = {"Authorization": f"Bearer {self.manager_key}"}
        batches = self.env["isp.voucher.batch"].search_count([])
        vouchers = self.env["isp.voucher"].search_count([])
        for body, code in (
            ({"bundle_id": self.daily.id, "quantity": 0}, "invalid"),
            ({"bundle_id": self.daily.id, "quantity": 1001}, "invalid"),
            ({"bundle_id": 999999, "quantity": 1}, "invalid"),
            ({"bundle_id": self.daily.id, "quantity": "5"}, "wrong_type"),
            ({"bundle_id": self.daily.id, "quantity": 1, "price": -1}, "invalid"),
            ({"bundle_id": self.daily.id, "quantity": 1, "price": "free"}, "wrong_type"),
            ({"bundle_id": self.daily.id, "quantity": 1, "name": "HS-CARDS-1"}, "invalid"),
            ({"bundle_id": self.daily.id, "quantity": 1, "valid_until": "2020-01-01"}, "invalid"),
            ({"bundle_id": self.daily.id, "quantity": 1, "valid_until": "soon"}, "invalid"),
            ({"bundle_id": self.daily.id, "quantity": 1, "valid_until": "2030-02-30"}, "invalid"),
            ({"quantity": 1}, "missing_field"),
            ({"bundle_id": self.daily.id, "duration_hours": 5, "quantity": 1}, "invalid"),
            ({"duration_hours": 0, "quantity": 1}, "invalid"),
            ({"duration_hours": "5", "quantity": 1}, "wrong_type"),
            ({"bundle_id": self.daily.id, "quantity": 1, "name": "A", "batch_id": "B"}, None),
        ):
            with self.subTest(body=body):
                response = self.api("POST", "/api/vouchers/generate/", body, headers=headers)
                self.assertError(response, 400, code or "conflicting_fields")
        self.assertError(
            self.api("POST", "/api/vouchers/generate/", raw="{oops", headers=headers),
            400,
            "invalid_json",
        )
        for query, code in (
            ("limit=abc", "wrong_type"),
            ("limit=0", "invalid"),
            ("offset=-1", "wrong_type"),
            ("is_used=maybe", "wrong_type"),
            ("state=bogus", "invalid"),
        ):
            with self.subTest(query=query):
                self.assertError(
                    self.api("GET", f"/api/vouchers/?{query}", headers=headers), 400, code
                )
        self.assertEqual(self.env["isp.voucher.batch"].search_count([]), batches)
        self.assertEqual(self.env["isp.voucher"].search_count([]), vouchers)

    # ------------------------------------------------------------------ the page

    def test_qr_link_fills_the_code_in(self):
        code = self.codes[6].code
        with captured_logs({"werkzeug": logging.INFO}) as request_log:
            html = self.url_open("/hotspot", params={"voucher": code.lower()}).text
            self.assertRegex(html, rf'id="hs-code"[^>]* value="{code}"')
            # shown before the bundles, the phone field focused
            self.assertLess(html.index('id="hs-voucher"'), html.index('id="hs-pay"'))
            self.assertRegex(html, r'id="hs-vphone"[^>]* autofocus')
            # through the router: the QR link is the router's link-orig
            html = self.url_open(
                "/hotspot",
                params={**ROUTER, "link-orig": f"http://wifi.example/hotspot?voucher={code}"},
            ).text
            self.assertRegex(html, rf'id="hs-code"[^>]* value="{code}"')
        # the code (money) is not in the request log, plain or inside link-orig
        log = "\n".join(request_log)
        self.assertIn('"GET /hotspot?voucher=*** HTTP/1.1" 200', log)
        self.assertRegex(log, r"link-orig=http\S*/hotspot(\?|%3F)voucher(=|%3D)\*\*\*[& ]")
        self.assertNotIn(code.lower(), log.lower())
        self.assertNotIn(code.replace("-", "").lower(), log.lower())
        # without a code, vouchers come after the bundles
        html = self.url_open("/hotspot").text
        self.assertLess(html.index('id="hs-pay"'), html.index('id="hs-voucher"'))
        self.assertNotRegex(html, r'id="hs-code"[^>]* value=')

    def test_page_redeems_and_explains_refusals(self):
        voucher = self.codes[7]
        html = self.url_open("/hotspot", params=ROUTER).text
        data = {**ROUTER, "csrf_token": csrf(html), "phone": "0655 321 321"}
        response = self.url_open(
            "/hotspot/voucher", data={**data, "code": voucher.code}, method="POST"
        )
        self.assertEqual(response.status_code, 200, response.text[:300])
        self.assertEqual(urlsplit(response.url).path, "/hotspot/status")
        self.assertEqual(parse_qs(urlsplit(response.url).query)["mac"], ["3A:1F:6C:88:21:D4"])
        # the status view (GET) only reads; its connect form (POST, CSRF) submits itself
        self.assertRegex(response.text, r'id="hs-connect"[^>]*data-auto="1"')
        response = self.url_open(
            "/hotspot/status",
            data={**ROUTER, "csrf_token": csrf(response.text)},
            method="POST",
        )
        # no router API here (no nas): the page posts the login to the router's own URL
        self.assertIn("Connecting this device", response.text)
        self.assertNotIn("You are online", response.text)
        self.assertIn("HS Daily", response.text)
        partner = voucher.partner_id
        self.assertEqual(partner.phone, "+255655321321")
        self.assertEqual(partner.isp_device_ids.mac, "3A:1F:6C:88:21:D4")
        # used again from the page: a readable message, the form filled in again
        subscriptions = self.subscriptions()
        again = self.url_open(
            "/hotspot/voucher",
            data={**data, "phone": "0655 321 000", "code": voucher.code},
            method="POST",
        )
        self.assertEqual(again.status_code, 400)
        self.assertIn("This voucher has already been used.", again.text)
        self.assertRegex(again.text, rf'id="hs-code"[^>]* value="{voucher.code}"')
        self.assertIn('name="mac" value="3A:1F:6C:88:21:D4"', again.text)
        bad = self.url_open("/hotspot/voucher", data={**data, "code": "<b>bad</b>"}, method="POST")
        self.assertEqual(bad.status_code, 400)
        self.assertIn("is not a voucher code", bad.text)
        self.assertNotIn("<b>bad</b>", bad.text)
        self.assertEqual(self.subscriptions(), subscriptions)

    def test_page_credits_another_customers_number_without_signing_in(self):
        """The page's form, same attack: Amina is credited; the redeemer's browser gets no
        status page, devices, router login or password of hers, even with connect=1."""
        subscription = self.amina.isp_subscription_ids
        expiry = subscription.date_expiry
        amina_device = self.env["isp.device"].create(
            {"partner_id": self.amina.id, "mac": "02:AA:00:00:00:01"}
        )
        html = self.url_open("/hotspot", params=ROUTER).text
        data = {**ROUTER, "csrf_token": csrf(html), "phone": "0713 987 654"}
        response = self.url_open(
            "/hotspot/voucher", data={**data, "code": self.codes[5].code}, method="POST"
        )
        self.assertEqual(response.status_code, 200, response.text[:300])
        self.assertEqual(urlsplit(response.url).path, "/hotspot/voucher", "not redirected")
        self.assertIn("The voucher was added to the account of +255713987654.", response.text)
        # the next step is the SMS code: the sign-in form holds the number
        self.assertRegex(response.text, r'id="hs-sphone"[^>]* value="\+255713987654"')
        self.assertNotIn("Signed in as", response.text)
        self.assertEqual(subscription.bundle_id, self.weekly)
        self.assertEqual(subscription.date_expiry, expiry + timedelta(days=1))
        self.assertEqual(self.amina.isp_device_ids, amina_device)
        status = self.url_open("/hotspot/status", params={**ROUTER, "connect": "1"})
        self.assertEqual(urlsplit(status.url).path, "/hotspot")
        for secret in (
            'name="password"',
            subscription.login,
            amina_device.mac,
            "You are online",
        ):
            self.assertNotIn(secret, status.text)
        self.assertEqual(self.amina.isp_device_ids, amina_device)
        removed = self.url_open(
            "/hotspot/device/remove",
            data={**data, "csrf_token": csrf(status.text), "device_mac": amina_device.mac},
            method="POST",
        )
        self.assertEqual(urlsplit(removed.url).path, "/hotspot")
        self.assertTrue(amina_device.active)
