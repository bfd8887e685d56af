"""Isolation between operators over HTTP, the customer portal and the providers' callbacks:
A's portal customer and reseller, A's website's phone sign-in, and A's provider's and SMS
gateway's secret URLs aim at B's devices, receipts, customers, sign-in codes, payments and
SMS, and change nothing of B's. Each attack has its control on B's side."""

from datetime import timedelta
from unittest.mock import patch
from urllib.parse import parse_qs, urlencode, urlsplit

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.isp_mpesa.models.payment_provider_clickpesa import clickpesa_checksum
from odoo.addons.payment import utils as payment_utils

from .isolation_common import PASSWORD
from .test_platform_isolation_http_more import CODE, IsolationHttpMoreCase


@tagged("post_install", "-at_install")
class TestPlatformIsolationPortalCallbacks(IsolationHttpMoreCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for op in cls.ops.values():
            op["portal_device"] = cls.env["isp.device"].create(
                {
                    "partner_id": op["portal_partner"].id,
                    "company_id": op["company"].id,
                    "mac": f"00:11:22:33:55:{ord(op['key']):02X}",
                }
            )
        # B's reseller sold a code to B's customer
        b = cls.ops["b"]
        b["reseller_batch"].voucher_ids[0].sudo().write(
            {
                "state": "redeemed",
                "partner_id": b["customer"].id,
                "date_redeemed": fields.Datetime.now(),
            }
        )

    def _login_sid(self, op, role):
        user = self.ops[op][role]
        self.authenticate(user.login, user.login + PASSWORD)
        return self.session.sid

    # ------------------------------------------------------------------ portal

    def test_portal_devices_and_receipt_of_b(self):
        """/my/subscriptions/<id>/device/<id>/rename and /my/subscriptions/receipt: A's
        portal customer renames no device of B's and claims no receipt of B's."""
        a, b = self.ops["a"], self.ops["b"]
        devices = b["device"] | b["portal_device"]
        names = devices.sudo().mapped("name")
        sid = self._login_sid("a", "portal")
        for sub, device in (
            (a["subscription"], b["device"]),
            (a["subscription"], b["portal_device"]),
            (b["subscription"], b["portal_device"]),
        ):
            path = f"/my/subscriptions/{sub.id}/device/{device.id}/rename"
            response = self._call("a", path, sid=sid, form={"name": "stolen"})
            self.assertEqual(response.status_code, 404, path)
        devices.invalidate_recordset()
        self.assertEqual(devices.sudo().mapped("name"), names)
        # control: A's customer renames its own device
        path = f"/my/subscriptions/{a['subscription'].id}/device/{a['portal_device'].id}/rename"
        response = self._call("a", path, sid=sid, form={"name": "My phone"})
        self.assertIn("device=renamed", response.headers.get("Location", ""))
        receipt = b["receipt"]
        for bundle in (a["product"], b["product"]):
            response = self._call(
                "a",
                "/my/subscriptions/receipt",
                sid=sid,
                form={"receipt": receipt.trans_id, "bundle_id": bundle.id},
            )
            result = parse_qs(urlsplit(response.headers.get("Location", "")).query)["receipt"]
            self.assertIn(result, (["refused"], ["invalid"]))
        receipt.invalidate_recordset()
        self.assertFalse(receipt.purchase_id)

    def test_reseller_of_a_topup_customers_sales(self):
        """/my/reseller/topup pays A's company only; /my/reseller/customers and /sales show
        nothing of B's reseller's customers."""
        a, b = self.ops["a"], self.ops["b"]
        sid = self._login_sid("a", "reseller")
        response = self._call(
            "a",
            f"/my/reseller/topup?amount=5000&company_id={b['company'].id}"
            f"&partner_id={b['reseller_partner'].id}",
            sid=sid,
        )
        query = parse_qs(urlsplit(response.headers["Location"]).query)
        self.assertEqual(query["company_id"], [str(a["company"].id)])
        self.assertEqual(query["partner_id"], [str(a["reseller_partner"].id)])
        self.assertEqual(query["currency_id"], [str(a["company"].currency_id.id)])
        for path in ("/my/reseller/customers", "/my/reseller/sales"):
            response = self._call("a", path, sid=sid)
            self.assertEqual(response.status_code, 200, path)
            self.assertNothingOf(response, "b", b["reseller_partner"].name)
        # control: B's reseller sees its customer
        sid = self._login_sid("b", "reseller")
        response = self._call("b", "/my/reseller/customers", sid=sid)
        self.assertIn(b["customer"].name, response.text)

    def test_phone_sign_in_of_b_on_a_website(self):
        """/web/login/phone and /web/login/phone/code: A's website sends no code to B's
        portal customer and does not take B's portal customer's code."""
        b = self.ops["b"]
        Code, Sms = self.env["isp.portal.login.code"].sudo(), self.env["sms.sms"].sudo()
        codes, sms = Code.search_count([]), Sms.search_count([])
        phone = b["portal_partner"].phone
        response = self._call("a", "/web/login/phone", form={"phone": phone})
        self.assertLess(response.status_code, 500)
        self.assertNothingOf(response, "b")
        self.assertEqual(Code.search_count([]), codes)
        self.assertEqual(Sms.search_count([]), sms)
        user = b["portal"]
        code = Code.create(
            {
                "user_id": user.id,
                "company_id": b["company"].id,
                "code_hash": Code._hash_code(user, CODE),
                "expires_at": fields.Datetime.now() + timedelta(minutes=5),
            }
        )
        sid = self._session(isp_phone_login=phone)
        response = self._call("a", "/web/login/phone/code", sid=sid, form={"code": CODE})
        self.assertEqual(response.status_code, 400, response.text[:300])
        code.invalidate_recordset()
        self.assertFalse(code.used)
        self.assertEqual(self._call("a", "/my", sid=sid).status_code, 303, "not signed in")
        # control: on B's website the code signs B's portal customer in
        response = self._call("b", "/web/login/phone/code", sid=sid, form={"code": CODE})
        self.assertEqual(response.status_code, 303, response.text[:300])
        self.assertTrue(response.headers["Location"].endswith("/my"))

    # ------------------------------------------------------------------ callbacks

    def test_daraja_callback_and_push_of_b_with_a_secrets(self):
        """A transaction's callback token of A does not reach B's transaction; nor does a
        push access token of A's payment start a push for B's."""
        a, b = self.ops["a"], self.ops["b"]
        tx = b["transaction"]
        callbacks = self.env["isp.mpesa.callback"].sudo().search_count([])
        paid = {
            "Body": {
                "stkCallback": {
                    "MerchantRequestID": "m-1",
                    "CheckoutRequestID": tx.daraja_checkout_request_id,
                    "ResultCode": 0,
                    "ResultDesc": "ok",
                    "CallbackMetadata": {
                        "Item": [
                            {"Name": "Amount", "Value": 1000},
                            {"Name": "MpesaReceiptNumber", "Value": "ISOSTOLEN1"},
                        ]
                    },
                }
            }
        }
        path = f"/payment/daraja/callback/{a['transaction']._daraja_callback_token()}"
        self.assertEqual(self._call("a", path, body=paid).status_code, 404)
        tx.invalidate_recordset()
        self.assertEqual(tx.state, "draft")
        self.assertEqual(self.env["isp.mpesa.callback"].sudo().search_count([]), callbacks)
        # control: B's own token gets past the token check (refused later: no ResultCode)
        del paid["Body"]["stkCallback"]["ResultCode"]
        path = f"/payment/daraja/callback/{tx._daraja_callback_token()}"
        self.assertEqual(self._call("b", path, body=paid).status_code, 400)
        # the push: A's access token, B's reference
        pushed = []
        token = payment_utils.generate_access_token(
            "isp-push", a["transaction"].reference, a["transaction"].amount, env=self.env
        )
        with patch.object(
            type(self.env["payment.transaction"]),
            "_isp_send_push",
            lambda self, *args, **kw: pushed.append(self.reference),
        ):
            rpc = {"reference": tx.reference, "access_token": token, "phone": "+254712000999"}
            response = self._call(
                "a", "/payment/isp_mpesa/push", body={"jsonrpc": "2.0", "params": rpc}
            )
            self.assertIn("error", response.json())
            self.assertFalse(pushed)
            # control: A's token pushes A's payment
            rpc["reference"] = a["transaction"].reference
            response = self._call(
                "a", "/payment/isp_mpesa/push", body={"jsonrpc": "2.0", "params": rpc}
            )
            self.assertEqual(pushed, [a["transaction"].reference], response.text[:300])
        tx.invalidate_recordset()
        self.assertEqual(tx.state, "draft")

    def test_c2b_confirmation_on_a_url_books_in_a_only(self):
        """A's Paybill confirmation URL records payments in A's company only: a receipt code
        that is also B's leaves B's payment as it was; A's URL validates A's number only."""
        a, b = self.ops["a"], self.ops["b"]
        receipt = b["receipt"]
        before = receipt.read(["amount", "msisdn", "company_id", "purchase_id"])
        base = f"/payment/daraja/c2b/{a['provider']._daraja_c2b_token()}"
        payment = {
            "TransactionType": "Pay Bill",
            "TransID": receipt.trans_id,
            "TransTime": "20261205080000",
            "TransAmount": "5.00",
            "BusinessShortCode": "600100",
            "BillRefNumber": "x",
            "MSISDN": "254700000001",
        }
        response = self._call("a", f"{base}/confirmation", body=payment)
        self.assertEqual(response.status_code, 200, response.text[:300])
        rows = self.env["isp.mpesa.c2b"].sudo().search([("trans_id", "=", receipt.trans_id)])
        self.assertEqual(rows.company_id, a["company"] | b["company"])
        self.assertEqual(
            rows.filtered(lambda r: r.company_id == a["company"]).provider_id, a["provider"]
        )
        receipt.invalidate_recordset()
        self.assertEqual(receipt.read(["amount", "msisdn", "company_id", "purchase_id"]), before)
        # A's validation URL for B's number: refused
        response = self._call(
            "a", f"{base}/validation", body={**payment, "BusinessShortCode": "600200"}
        )
        self.assertNotEqual(response.json()["ResultCode"], "0")
        # a made-up token: no provider
        response = self._call("a", "/payment/daraja/c2b/forged/confirmation", body=payment)
        self.assertEqual(response.status_code, 404)

    def test_sms_delivery_report_of_b_with_a_token(self):
        """Africa's Talking delivery reports: A's gateway's token opens neither B's
        gateway's URL nor B's messages (a report naming B's message id on A's URL)."""
        a, b = self.ops["a"], self.ops["b"]
        Tracker = self.env["sms.tracker"].sudo()
        trackers = {
            op["key"]: Tracker.create(
                {
                    "sms_uuid": f"iso-uuid-{op['key']}",
                    "isp_gateway_id": op["gateway"].id,
                    "isp_message_id": f"ATXid_{op['key']}",
                }
            )
            for op in (a, b)
        }
        token = a["gateway"]._dlr_token()
        applied = []
        with patch.object(
            type(Tracker),
            "_isp_apply_status",
            lambda self, *args: applied.extend(self.mapped("sms_uuid")),
        ):
            report = {"id": "ATXid_b", "status": "Failed", "failureReason": "x"}
            for gateway in (b["gateway"], a["gateway"]):
                url = f"/isp_sms/africastalking/{gateway.id}/{token}"
                response = self._call("a", url, form=report, csrf=False)
                self.assertLess(response.status_code, 500)
            self.assertFalse(applied, "B's message untouched")
            # control: A's own message is updated through A's URL
            url = f"/isp_sms/africastalking/{a['gateway'].id}/{token}"
            response = self._call("a", url, form={**report, "id": "ATXid_a"}, csrf=False)
            self.assertEqual(response.status_code, 200)
            self.assertEqual(applied, [trackers["a"].sms_uuid])
        url = f"/isp_sms/africastalking/{b['gateway'].id}/{token}"
        self.assertEqual(self._call("a", url, form=report, csrf=False).status_code, 404)

    def _provider(self, op, code, **secrets):
        provider = self.env["payment.provider"].create(
            {"name": f"{code} {op['name']}", "code": code, "company_id": op["company"].id}
        )
        provider.write(secrets)
        provider.state = "test"
        tx = self.env["payment.transaction"].create(
            {
                "provider_id": provider.id,
                "payment_method_id": self.env.ref("payment.payment_method_unknown").id,
                "reference": f"ISO-{op['key'].upper()}-{code.upper()}",
                "amount": 1000,
                "currency_id": op["company"].currency_id.id,
                "partner_id": op["customer"].id,
                "provider_reference": f"track-{op['key']}-{code}",
            }
        )
        return provider, tx

    def test_clickpesa_and_pesapal_notifications_of_b_with_a_secrets(self):
        """ClickPesa's webhook signed with A's checksum key, Pesapal's IPN on A's URL and
        Pesapal's return on A's website, all naming B's order: B's payment is not settled
        through A's secrets, nor shown on A's side."""
        a, b = self.ops["a"], self.ops["b"]
        Tx = type(self.env["payment.transaction"])
        cp = {
            op["key"]: self._provider(
                op,
                "clickpesa",
                clickpesa_client_id="id",
                clickpesa_api_key="key",
                clickpesa_checksum_key=f"ck-{op['key']}",
            )
            for op in (a, b)
        }
        pp = {
            op["key"]: self._provider(
                op, "pesapal", pesapal_consumer_key="key", pesapal_consumer_secret="secret"
            )
            for op in (a, b)
        }
        callbacks = self.env["isp.mpesa.callback"].sudo().search_count([])
        queried, settled = [], []

        def query(tx):
            queried.append(tx.reference)
            raise UserError(tx.env._("ClickPesa cannot be reached."))

        with (
            patch.object(Tx, "_clickpesa_query", query),
            patch.object(Tx, "_pesapal_settle", lambda tx: settled.append(tx.reference)),
        ):
            tx_b = cp["b"][1]
            data = {"orderReference": tx_b.reference, "status": "SUCCESS", "collectedAmount": 1000}
            for key, status in (("a", 403), ("b", 200)):  # A's key; control: B's own key
                body = {"event": "PAYMENT RECEIVED", "data": data}
                body["checksum"] = clickpesa_checksum(f"ck-{key}", data)
                response = self._call("a", "/api/clickpesa-webhook/", body=body)
                self.assertEqual(response.status_code, status, response.text[:300])
                self.assertEqual(queried, [] if key == "a" else [tx_b.reference])
            self.assertEqual(
                self.env["isp.mpesa.callback"].sudo().search_count([]), callbacks + 1
            )  # B's own webhook only
            tx_b = pp["b"][1]
            order = {
                "OrderTrackingId": tx_b.provider_reference,
                "OrderMerchantReference": tx_b.reference,
                "OrderNotificationType": "IPNCHANGE",
            }
            token_a = pp["a"][0]._pesapal_ipn_token()
            for provider in (pp["a"][0], pp["b"][0]):
                url = f"/payment/pesapal/ipn/{provider.id}/{token_a}"
                self.assertEqual(self._call("a", url, body=order).status_code, 404)
            self.assertFalse(settled)
            # control: B's own IPN URL settles B's order
            url = f"/payment/pesapal/ipn/{pp['b'][0].id}/{pp['b'][0]._pesapal_ipn_token()}"
            self.assertEqual(self._call("b", url, body=order).status_code, 200)
            self.assertEqual(settled, [tx_b.reference])
            # the payer's return names the order; the page it leads to is the session's own
            sid = self._session()
            response = self._call("a", f"/payment/pesapal/return?{urlencode(order)}", sid=sid)
            self.assertEqual(urlsplit(response.headers["Location"]).path, "/payment/status")
            page = self._call("a", "/payment/status", sid=sid)
            self.assertNothingOf(page, "b", tx_b.reference)
        for _provider, tx in (*cp.values(), *pp.values()):
            tx.invalidate_recordset()
            self.assertEqual(tx.state, "draft")
