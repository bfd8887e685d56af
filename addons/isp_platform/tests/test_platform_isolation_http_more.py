"""Isolation between operators over HTTP, the captive page and its JSON API: operator A's
side (its website's host name, a session signed in on it, its staff's API key) aims at
operator B's data (B's customer's number, device, payment reference and token, voucher,
M-Pesa receipt, sign-in code) and gets nothing: a refusal or the neutral answer, and B's
records unchanged. Each attack has its control: the same request on B's side works."""

import json
import re
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.http import get_default_session, root
from odoo.tests import get_db_name, tagged

from .isolation_common import IsolationCase

JSON = {"Content-Type": "application/json"}
CODE = "246813"


class IsolationHttpMoreCase(IsolationCase):
    """The two operators, plus what the captive page's attacks aim at: B's hotspot payment,
    an unclaimed Paybill payment of B's bundle price, and M-Pesa providers taking C2B."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        for key, shortcode in (("a", "600100"), ("b", "600200")):
            op = cls.ops[key]
            op["provider"].write({"state": "test", "daraja_c2b_shortcode": shortcode})
            op["transaction"].write(
                {
                    "isp_bundle_id": op["product"].id,
                    "daraja_checkout_request_id": f"ws_CO_ISO_{key.upper()}",
                }
            )
            op["receipt"] = env["isp.mpesa.c2b"].create(
                {
                    "provider_id": op["provider"].id,
                    "company_id": op["company"].id,
                    "trans_id": f"ISO{key.upper()}PAY001",
                    "amount": 1000,
                    "currency_id": op["company"].currency_id.id,
                    "msisdn": op["customer"].phone,
                }
            )

    # ------------------------------------------------------------------ helpers

    def _base(self, op):
        return f"http://{self.ops[op]['host']}:{self.http_port()}"

    def _session(self, **values):
        """A browser session of the test database holding ``values`` (e.g. the captive
        page's signed-in customer): its id, sent as the session cookie to any host."""
        session = root.session_store.new()
        session.update(get_default_session(), db=get_db_name(), _trace_disable=True, **values)
        root.session_store.save(session)
        return session.sid

    def _call(self, op, path, sid=None, body=None, form=None, headers=None, csrf=True):
        """A request to operator ``op``'s website in session ``sid`` (a new one if None);
        ``body`` is sent as JSON, ``form`` as a form (with the session's CSRF token, read
        from the captive page, unless not ``csrf``)."""
        headers = dict(headers or {})
        sid = sid or self._session()
        # this session on every host name (the server's own cookies of it dropped)
        jar = self.opener.cookies
        for cookie in [c for c in jar if c.name == "session_id"]:
            jar.clear(cookie.domain, cookie.path, cookie.name)
        jar.set("session_id", sid)
        kwargs = {"headers": headers, "allow_redirects": False}
        if body is not None:
            kwargs.update(data=json.dumps(body), method="POST")
            headers.update(JSON)
        elif form is not None:
            if csrf:
                page = self._call(op, "/hotspot", sid=sid)
                token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
                form = {**form, "csrf_token": token}
            kwargs.update(data=form, method="POST")
        self.env.flush_all()
        response = self.url_open(f"{self._base(op)}{path}", **kwargs)
        self.env.invalidate_all()
        return response

    def _signed_in(self, partner):
        return self._session(isp_hotspot_partner=partner.id)

    def assertNothingOf(self, response, op, *extra, website=False):
        """None of operator ``op``'s customer data in ``response`` (the number the caller
        typed may come back: it is theirs; on ``op``'s own ``website`` its name too)."""
        b = self.ops[op]
        markers = (b["customer"].name, b["portal_partner"].name, *extra)
        for marker in markers if website else (*markers, b["name"]):
            self.assertNotIn(marker, response.text)

    def assertJsonError(self, response, status):
        self.assertEqual(response.status_code, status, response.text[:300])
        self.assertIn("error", response.json())

    def _device_state(self, op):
        device = self.ops[op]["device"].with_context(active_test=False)
        device.invalidate_recordset()
        return device.read(["name", "active", "partner_id"])

    def _api_key(self, user):
        return (
            self.env["res.users.apikeys"]
            .with_user(user)
            .sudo()
            ._generate(None, "isolation", fields.Datetime.now() + timedelta(days=1))
        )


@tagged("post_install", "-at_install")
class TestPlatformIsolationCaptive(IsolationHttpMoreCase):
    def test_captive_payment_of_b_from_a(self):
        """/hotspot/pay, /hotspot/wait, /api/payment-status/: B's bundle and B's payment
        (even with its token, or in a session that started it) are not A's website's."""
        a, b = self.ops["a"], self.ops["b"]
        tx = b["transaction"]
        Tx = self.env["payment.transaction"].sudo()
        before = Tx.search_count([])
        response = self._call(
            "a", "/hotspot/pay", form={"phone": a["customer"].phone, "bundle_id": b["product"].id}
        )
        self.assertEqual(response.status_code, 400, response.text[:300])
        self.assertEqual(Tx.search_count([]), before, "no payment started")
        # the reference in a session that started it (copied to A's host), and its token
        sid = self._session(isp_hotspot_payments=[tx.reference])
        token = {"X-Access-Token": tx._isp_hotspot_access_token()}
        response = self._call("a", f"/hotspot/wait?reference={tx.reference}", sid=sid)
        self.assertEqual(response.status_code, 404)
        self.assertNothingOf(response, "b", tx.reference)
        for headers, session in ((token, None), ({}, sid)):
            response = self._call(
                "a", f"/api/payment-status/{tx.reference}/", sid=session, headers=headers
            )
            self.assertJsonError(response, 404)
            self.assertNothingOf(response, "b", tx.reference)
        tx.invalidate_recordset()
        self.assertEqual(tx.state, "draft")
        # control: on B's website the same token follows B's payment
        response = self._call("b", f"/api/payment-status/{tx.reference}/", headers=token)
        self.assertEqual(response.status_code, 200, response.text[:300])

    def test_voucher_and_receipt_of_b_from_a(self):
        """/hotspot/voucher, /hotspot/receipt, /api/receipts/claim/: B's voucher code and
        B's Paybill receipt give nothing on A's website, and stay B's to use."""
        a, b = self.ops["a"], self.ops["b"]
        voucher, receipt = b["batch"].voucher_ids[0], b["receipt"]
        purchases = self.env["isp.purchase"].sudo().search_count([])
        phone = a["customer"].phone
        response = self._call("a", "/hotspot/voucher", form={"code": voucher.code, "phone": phone})
        self.assertEqual(response.status_code, 400, response.text[:300])
        self.assertNothingOf(response, "b")
        form = {"receipt": receipt.trans_id, "phone": phone, "bundle_id": a["product"].id}
        response = self._call("a", "/hotspot/receipt", form=form)
        self.assertEqual(response.status_code, 400, response.text[:300])
        self.assertNothingOf(response, "b")
        for bundle in (a["product"], b["product"]):
            response = self._call(
                "a",
                "/api/receipts/claim/",
                body={"receipt": receipt.trans_id, "phone": phone, "bundle_id": bundle.id},
            )
            self.assertJsonError(response, 400)
            self.assertNothingOf(response, "b")
        voucher.invalidate_recordset()
        receipt.invalidate_recordset()
        self.assertEqual(voucher.state, "available")
        self.assertFalse(receipt.purchase_id)
        self.assertEqual(self.env["isp.purchase"].sudo().search_count([]), purchases)
        # control: on B's website, B's customer claims B's receipt
        response = self._call(
            "b",
            "/api/receipts/claim/",
            body={
                "receipt": receipt.trans_id,
                "phone": b["customer"].phone,
                "bundle_id": b["product"].id,
            },
        )
        self.assertEqual(response.status_code, 201, response.text[:300])
        receipt.invalidate_recordset()
        self.assertTrue(receipt.purchase_id)

    def test_sign_in_codes_of_b_from_a(self):
        """/hotspot/signin, /hotspot/signin/verify, /api/login-code/, /api/login/: A's
        website sends no code to B's customer and does not take B's customer's code."""
        b = self.ops["b"]
        partner = b["customer"]
        Code, Sms = self.env["isp.hotspot.login.code"].sudo(), self.env["sms.sms"].sudo()
        codes, sms = Code.search_count([]), Sms.search_count([])
        response = self._call("a", "/hotspot/signin", form={"phone": partner.phone})
        self.assertLess(response.status_code, 500)
        self.assertNothingOf(response, "b", partner.name)
        response = self._call("a", "/api/login-code/", body={"phone": partner.phone})
        self.assertLess(response.status_code, 500, response.text[:300])
        self.assertNothingOf(response, "b", partner.name)
        # the answer of a number nobody has: the same (B's customer is not probed)
        unknown = self._call("a", "/api/login-code/", body={"phone": "+254799123456"})
        self.assertEqual(unknown.status_code, response.status_code)
        self.assertEqual(
            unknown.text.replace("254799123456", "N"),
            response.text.replace(partner.phone.lstrip("+"), "N"),
        )
        self.assertEqual(Code.search_count([]), codes, "no code made for B's customer")
        self.assertEqual(Sms.search_count([]), sms, "no SMS sent")
        # B's customer's current code, typed on A's website
        code = Code.create(
            {
                "partner_id": partner.id,
                "company_id": b["company"].id,
                "code_hash": Code._hash_code(partner, CODE),
                "expires_at": fields.Datetime.now() + timedelta(minutes=5),
            }
        )
        sid = self._session()
        response = self._call(
            "a", "/hotspot/signin/verify", sid=sid, form={"phone": partner.phone, "code": CODE}
        )
        self.assertEqual(response.status_code, 400, response.text[:300])
        response = self._call(
            "a", "/api/login/", sid=sid, body={"phone": partner.phone, "code": CODE}
        )
        self.assertJsonError(response, 400)
        self.assertNothingOf(response, "b")
        self.assertEqual(self._call("a", "/hotspot/status", sid=sid).status_code, 303)
        code.invalidate_recordset()
        self.assertFalse(code.used)
        self.assertEqual(code.tries, 0)
        # control: on B's website the code signs B's customer in
        response = self._call(
            "b", "/api/login/", sid=sid, body={"phone": partner.phone, "code": CODE}
        )
        self.assertEqual(response.status_code, 200, response.text[:300])

    def test_session_of_b_customer_on_a_website(self):
        """A session signed in as B's customer (its cookie replayed on A's host name) is no
        one on A's website: /hotspot/status, the device routes and the customer API."""
        b = self.ops["b"]
        sid = self._signed_in(b["customer"])
        before = self._device_state("b")
        mac = b["device"].mac
        response = self._call("a", "/hotspot/status", sid=sid)
        self.assertEqual(response.status_code, 303)
        self.assertNothingOf(response, "b", mac)
        for path in ("/hotspot/device/remove", "/hotspot/device/rename"):
            form = {"device_mac": mac, "device_name": "stolen"}
            response = self._call("a", path, sid=sid, form=form)
            self.assertEqual(response.status_code, 303, path)
            self.assertIn("/hotspot?", response.headers["Location"])
        phone = b["customer"].phone
        for path, body in (
            (f"/api/user-status/{phone}/", None),
            (f"/api/devices/{phone}/", None),
            ("/api/devices/remove/", {"phone": phone, "mac": mac}),
            ("/api/verify-access/", {"phone": phone, "mac": "02:AA:BB:CC:DD:01"}),
        ):
            response = self._call("a", path, sid=sid, body=body)
            self.assertJsonError(response, 401)
            self.assertNothingOf(response, "b", mac)
        self.assertEqual(self._device_state("b"), before)
        self.assertEqual(len(b["customer"].sudo().isp_device_ids), 1)
        # control: the same session on B's website is B's customer
        response = self._call("b", f"/api/devices/{phone}/", sid=sid)
        self.assertEqual(response.status_code, 200, response.text[:300])
        self.assertIn(mac, response.text)

    def test_customer_of_a_aims_at_devices_of_b(self):
        """A's signed-in customer names B's customer's number and B's device: refused."""
        a, b = self.ops["a"], self.ops["b"]
        sid = self._signed_in(a["customer"])
        before = self._device_state("b")
        mac, phone = b["device"].mac, b["customer"].phone
        for path in ("/hotspot/device/remove", "/hotspot/device/rename"):
            form = {"device_mac": mac, "device_name": "stolen"}
            response = self._call("a", path, sid=sid, form=form)
            self.assertEqual(response.status_code, 400, path)
            self.assertNothingOf(response, "b")
        for path, body in (
            (f"/api/user-status/{phone}/", None),
            (f"/api/devices/{phone}/", None),
            ("/api/devices/remove/", {"phone": phone, "mac": mac}),
            ("/api/verify-access/", {"phone": phone, "mac": "02:AA:BB:CC:DD:02"}),
        ):
            response = self._call("a", path, sid=sid, body=body)
            self.assertJsonError(response, 403)
            self.assertNothingOf(response, "b", mac)
        self.assertEqual(self._device_state("b"), before)
        self.assertEqual(len(b["customer"].sudo().isp_device_ids), 1)

    def test_api_key_of_a_staff_on_customers_of_b(self):
        """An ISP user's API key of A looks customers up on A's website only: B's number is
        unknown there, and on B's website the key is refused."""
        a, b = self.ops["a"], self.ops["b"]
        headers = {"Authorization": f"Bearer {self._api_key(a['staff'])}"}
        before = self._device_state("b")
        mac, phone = b["device"].mac, b["customer"].phone
        calls = (
            (f"/api/user-status/{phone}/", None),
            (f"/api/devices/{phone}/", None),
            ("/api/devices/remove/", {"phone": phone, "mac": mac}),
            ("/api/verify-access/", {"phone": phone, "mac": "02:AA:BB:CC:DD:03"}),
        )
        for op, status in (("a", 404), ("b", 403)):
            for path, body in calls:
                with self.subTest(website=op, path=path):
                    response = self._call(op, path, body=body, headers=headers)
                    self.assertJsonError(response, status)
                    self.assertNothingOf(response, "b", mac, website=op == "b")
        self.assertEqual(self._device_state("b"), before)
        self.assertEqual(len(b["customer"].sudo().isp_device_ids), 1)
        # control: the key reads A's own customer
        response = self._call("a", f"/api/devices/{a['customer'].phone}/", headers=headers)
        self.assertEqual(response.status_code, 200, response.text[:300])
        self.assertIn(a["device"].mac, response.text)

    def test_connect_on_a_page_naming_router_of_b(self):
        """/hotspot/status (connect): A's customer's page naming B's router (its id as the
        router's ``nas`` parameter, its login address as ``link-login-only``) logs nothing
        in on B's router and posts no password to it."""
        if not self.has_model("isp.router"):
            self.skipTest("isp_mikrotik is not installed")
        a, b = self.ops["a"], self.ops["b"]
        router = b["router"]
        router.write({"service_hotspot": True, "hotspot_address": "login.bravo.example"})
        subscription = self.env["isp.subscription"].search(
            [("partner_id", "=", a["customer"].id), ("state", "=", "active")], limit=1
        )
        self.assertTrue(subscription.password, "A's customer has an active bundle")
        logins = []
        Router = type(self.env["isp.router"])
        router_params = {
            "mac": a["device"].mac,
            "ip": "10.5.50.20",
            "nas": str(router.id),
            "link-login-only": "https://login.bravo.example/login",
        }
        with patch.object(
            Router, "_hotspot_login", lambda self, *args: logins.append(self.id) or None
        ):
            sid = self._signed_in(a["customer"])
            response = self._call("a", "/hotspot/status", sid=sid, form=router_params)
        self.assertEqual(response.status_code, 200, response.text[:300])
        self.assertEqual(logins, [], "no login on B's router")
        self.assertNotIn(subscription.password, response.text)
        self.assertNotIn('action="https://login.bravo.example/login"', response.text)
        # control: A's own router is logged in through
        a["router"].write({"service_hotspot": True, "hotspot_address": "login.alpha.example"})
        with patch.object(
            Router, "_hotspot_login", lambda self, *args: logins.append(self.id) or None
        ):
            form = {**router_params, "nas": str(a["router"].id)}
            self._call("a", "/hotspot/status", sid=sid, form=form)
        self.assertEqual(logins, [a["router"].id])
