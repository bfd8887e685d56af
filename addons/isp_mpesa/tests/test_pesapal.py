"""Pesapal (API 3.0, redirect flow) against the strict loopback simulator: an invoice paid
through the portal, IPN GET and POST, duplicates, lost IPNs, status codes 0/1/2/3, amounts and
currencies checked, token expiry, error bodies with HTTP 200, timeouts."""

import re
from contextlib import contextmanager
from datetime import timedelta
from unittest.mock import patch
from urllib.parse import urlsplit

import requests
from lxml import html

from odoo import Command, fields
from odoo.tests import new_test_user, tagged
from odoo.tests.common import get_db_name

from odoo.addons.payment import utils as payment_utils

from .common import MpesaCase
from .pesapal_simulator import PesapalSimulator

PESAPAL_SECRETS = {"consumer_key": "pk-Tq7Yh3Lm9", "consumer_secret": "ps-Wn5Bv8Cx2"}


class PesapalCase(MpesaCase):
    """The Kenyan operator's Pesapal provider (test mode, on the simulator, published), a
    customer with email and phone who logs in to the portal, and invoices to pay."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pesapal_sim = PesapalSimulator(**PESAPAL_SECRETS).start()
        cls.addClassCleanup(cls.pesapal_sim.stop)
        cls.pesapal = cls._provider(
            "isp_mpesa.payment_provider_pesapal",
            cls.ke_company,
            {
                "pesapal_consumer_key": PESAPAL_SECRETS["consumer_key"],
                "pesapal_consumer_secret": PESAPAL_SECRETS["consumer_secret"],
                "pesapal_base_url": cls.pesapal_sim.url,
                "is_published": True,
            },
        )
        cls.pm_card = cls.env.ref("payment.payment_method_card")
        cls.pm_card.active = True
        cls.portal_user = new_test_user(
            cls.env,
            login="pesapal-payer",
            groups="base.group_portal",
            company_id=cls.ke_company.id,
            company_ids=[Command.set(cls.ke_company.ids)],
            context={"no_reset_password": True},
        )
        cls.customer = cls.portal_user.partner_id
        cls.customer.write(
            {
                "name": "Amina Wanjiru Otieno",
                "email": "amina@example.com",
                "phone": "0712 345 678",
                "country_id": cls.env.ref("base.ke").id,
                "company_id": cls.ke_company.id,
            }
        )

    def setUp(self):
        super().setUp()
        self.pesapal_sim.reset()

    def _invoice(self, amount=1500.0, partner=None, company=None):
        company = company or self.ke_company
        invoice = (
            self.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": (partner or self.customer).id,
                    "company_id": company.id,
                    "currency_id": company.currency_id.id,
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "PPPoE 10 Mbps", "price_unit": amount, "tax_ids": []}
                        )
                    ],
                }
            )
        )
        invoice.action_post()
        return invoice

    def _tx(self, invoice=None, provider=None, **values):
        """A draft transaction for ``invoice`` as the portal makes it, its order submitted
        (the processing values of the redirect flow). Returns (tx, processing values)."""
        invoice = invoice or self._invoice()
        provider = provider or self.pesapal
        Tx = self.env["payment.transaction"].sudo()
        tx = Tx.create(
            {
                "provider_id": provider.id,
                "payment_method_id": self.pm_card.id,
                "reference": Tx._compute_reference(
                    "pesapal", invoice_ids=[Command.set(invoice.ids)]
                ),
                "amount": invoice.amount_residual,
                "currency_id": invoice.currency_id.id,
                "partner_id": invoice.partner_id.id,
                "operation": "online_redirect",
                "invoice_ids": [Command.set(invoice.ids)],
                **values,
            }
        )
        return tx, tx._get_processing_values()

    def _portal_transaction(self, invoice, provider=None):
        """The portal's Pay button on ``invoice`` with Pesapal (the signed-in session's
        JSON-RPC call): returns (the processing values, the transaction)."""
        provider = provider or self.pesapal
        self.env.flush_all()
        values = self.make_jsonrpc_request(
            f"/invoice/transaction/{invoice.id}",
            {
                "access_token": invoice._portal_ensure_token(),
                "provider_id": provider.id,
                "payment_method_id": self.pm_card.id,
                "token_id": None,
                "amount": invoice.amount_residual,
                "flow": "redirect",
                "tokenization_requested": False,
                "landing_route": invoice.get_portal_url(),
            },
            headers={"X-Odoo-Database": get_db_name()},
        )
        self.env.invalidate_all()
        self.assertEqual(values["state"], "draft", values.get("state_message"))
        tx = self.env["payment.transaction"].search([("reference", "=", values["reference"])])
        return values, tx

    def _order(self, tx):
        return self.pesapal_sim.orders[tx.provider_reference]

    @contextmanager
    def _served(self):
        """The requests the simulator makes to this Odoo meanwhile (IPNs) are served."""
        self.env.flush_all()
        try:
            with self.allow_requests(all_requests=True):
                yield
        finally:
            self.http_request_allow_all = False
            self.env.invalidate_all()

    def _pay(self, tx, outcome="complete", **overrides):
        """The payer pays on Pesapal's page: the IPN(s) reach this Odoo meanwhile."""
        with self._served():
            return self.pesapal_sim.pay(tx.provider_reference, outcome, **overrides)

    def _ipn(self, tx=None, method="POST", provider=None, token=None, **params):
        provider = provider or self.pesapal
        token = token or provider._pesapal_ipn_token()
        payload = {
            "OrderNotificationType": "IPNCHANGE",
            "OrderTrackingId": tx.provider_reference if tx else "unknown",
            "OrderMerchantReference": tx.reference if tx else "unknown",
            **params,
        }
        payload = {k: v for k, v in payload.items() if v is not None}
        self.env.flush_all()
        path = f"/payment/pesapal/ipn/{provider.id}/{token}"
        if method == "GET":
            response = self.url_open(path + "?" + "&".join(f"{k}={v}" for k, v in payload.items()))
        else:
            response = self.url_open(path, json=payload, method="POST")
        self.env.invalidate_all()
        return response

    def _status_queries(self):
        return sum("GetTransactionStatus" in path for _m, path, _h, _r in self.pesapal_sim.requests)

    def _payments(self, tx):
        return self.env["account.payment"].search([("payment_transaction_id", "=", tx.id)])


@tagged("post_install", "-at_install")
class TestPesapalFlow(PesapalCase):
    def test_portal_invoice_paid_through_pesapal(self):
        """/my/invoices/<id> → Pay → Pesapal's hosted page → pay → IPN (POST) and the
        browser's return: the invoice is paid, in the Pesapal journal."""
        invoice = self._invoice(1500)
        self.authenticate("pesapal-payer", "pesapal-payer")
        page = self.url_open(f"/my/invoices/{invoice.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn(f'data-provider-id="{self.pesapal.id}"', page.text)
        values, tx = self._portal_transaction(invoice)
        self.assertRegex(tx.reference, r"^[A-Za-z0-9_.:-]{1,50}$", "no slash of INV/...")
        order = self._order(tx)
        self.assertEqual(order["id"], tx.reference)
        self.assertEqual((order["currency"], order["amount"]), ("KES", 1500))
        self.assertIn(invoice.name, order["description"])
        self.assertEqual(order["billing_address"]["phone_number"], "254712345678")
        self.assertEqual(order["billing_address"]["email_address"], "amina@example.com")
        self.assertTrue(order["callback_url"].endswith("/payment/pesapal/return"))
        # the redirect form: the hosted page with its OrderTrackingId as an input (GET)
        form = html.fromstring(values["redirect_form_html"])
        self.assertEqual(form.get("method"), "get")
        inputs = {i.get("name"): i.get("value") for i in form.iter("input")}
        self.assertEqual(inputs, {"OrderTrackingId": tx.provider_reference})
        hosted = self.url_open(form.get("action"), params=inputs)
        self.assertEqual(hosted.status_code, 200)
        self.assertIn("KES 1500", hosted.text)
        # pay: the simulator posts the IPN, then sends the browser back to the return route
        with self._served():
            paid = requests.post(
                f"{self.pesapal_sim.root}/pesapaliframe/PesapalIframe3/Pay",
                data={"OrderTrackingId": tx.provider_reference, "outcome": "complete"},
                headers={"X-Odoo-Database": get_db_name()},
                cookies=self.opener.cookies,
                timeout=60,
            )
        self.assertEqual(paid.status_code, 200)
        self.assertEqual(urlsplit(paid.url).path, "/payment/status")
        self.assertEqual([(m, s, ok) for m, _u, s, _a, ok in self.pesapal_sim.ipn_sent], [
            ("POST", 200, True)
        ])  # fmt: skip
        self.assertEqual(tx.state, "done", tx.state_message)
        self.assertEqual(tx.pesapal_confirmation_code, order["confirmation_code"])
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        payment = self._payments(tx)
        self.assertEqual(len(payment), 1)
        self.assertEqual(payment.journal_id, self.pesapal.journal_id)
        self.assertEqual(payment.journal_id.code[:4], "PSPL")
        self.assertEqual(payment.amount, 1500)
        self.assertFalse(tx.pesapal_next_check_at, "nothing left to poll")

    def test_payment_link_as_public_user(self):
        """/payment/pay (a payment link, not logged in): Pesapal offered, order submitted in
        the company's currency, paid."""
        amount, kes = 750.0, self.kes
        token = payment_utils.generate_access_token(self.customer.id, amount, kes.id, env=self.env)
        query = (
            f"amount={amount}&currency_id={kes.id}&partner_id={self.customer.id}"
            f"&company_id={self.ke_company.id}&access_token={token}&reference=LINK/42"
        )
        page = self.url_open(f"/payment/pay?{query}")
        self.assertEqual(page.status_code, 200)
        self.assertIn(f'data-provider-id="{self.pesapal.id}"', page.text)
        self.env.flush_all()
        values = self.make_jsonrpc_request(
            "/payment/transaction",
            {
                "amount": amount,
                "currency_id": kes.id,
                "partner_id": self.customer.id,
                "access_token": token,
                "provider_id": self.pesapal.id,
                "payment_method_id": self.pm_card.id,
                "token_id": None,
                "flow": "redirect",
                "tokenization_requested": False,
                "landing_route": "/payment/confirmation",
                "reference_prefix": "LINK/42",
            },
            headers={"X-Odoo-Database": get_db_name()},
        )
        self.env.invalidate_all()
        self.assertEqual(values["state"], "draft", values.get("state_message"))
        tx = self.env["payment.transaction"].search([("reference", "=", values["reference"])])
        self.assertEqual(tx.reference, "LINK-42")
        self.assertEqual(self._order(tx)["amount"], 750)
        self._pay(tx)
        self.assertEqual(tx.state, "done")
        self.assertEqual(len(self._payments(tx)), 1)

    def test_ipn_get_variant(self):
        self.pesapal.pesapal_ipn_method = "GET"
        tx, _values = self._tx()
        ipn = self.pesapal_sim.ipns[self.pesapal.pesapal_ipn_id]
        self.assertEqual(ipn["ipn_notification_type_description"], "GET")
        self._pay(tx)
        self.assertEqual([(m, s, ok) for m, _u, s, _a, ok in self.pesapal_sim.ipn_sent], [
            ("GET", 200, True)
        ])  # fmt: skip
        self.assertEqual(tx.state, "done")
        self.assertEqual(len(self._payments(tx)), 1)
        # a form-encoded POST is read too
        tx2, _values = self._tx()
        self.pesapal_sim.orders[tx2.provider_reference].update(status_code=1)
        self.env.flush_all()
        response = self.url_open(
            f"/payment/pesapal/ipn/{self.pesapal.id}/{self.pesapal._pesapal_ipn_token()}",
            data={
                "OrderNotificationType": "IPNCHANGE",
                "OrderTrackingId": tx2.provider_reference,
                "OrderMerchantReference": tx2.reference,
            },
        )
        self.env.invalidate_all()
        self.assertEqual(response.json()["status"], 200)
        self.assertEqual(tx2.state, "done")

    def test_duplicate_ipns_one_payment(self):
        self.pesapal_sim.ipn_mode = "duplicate"
        tx, _values = self._tx()
        self._pay(tx)
        sent = self.pesapal_sim.ipn_sent
        self.assertEqual(len(sent), 3)
        self.assertTrue(all(status == 200 and ok for _m, _u, status, _a, ok in sent), sent)
        for method in ("GET", "POST"):  # and more, both ways, after it was done
            self.assertEqual(self._ipn(tx, method=method).json()["status"], 200)
        self.assertEqual(tx.state, "done")
        self.assertEqual(len(self._payments(tx)), 1)
        self.assertIn(tx.invoice_ids.payment_state, ("paid", "in_payment"))

    def test_return_without_ipn_settles_and_lost_ipn_is_polled(self):
        self.pesapal_sim.ipn_mode = "lost"
        # the browser's return settles it (status query)
        tx, _values = self._tx()
        callback = self._pay(tx)
        self.assertEqual(tx.state, "draft", "no IPN came")
        self.env.flush_all()
        response = self.url_open(callback[callback.index("/payment/pesapal/return") :])
        self.env.invalidate_all()
        self.assertEqual(urlsplit(response.url).path, "/payment/status")
        self.assertEqual(tx.state, "done")
        self.assertEqual(len(self._payments(tx)), 1)
        # no IPN, no return: the polling cron, backing off while nothing is paid
        lost, _values = self._tx()
        self.assertTrue(lost.pesapal_next_check_at)
        lost.pesapal_next_check_at = fields.Datetime.now() - timedelta(seconds=1)
        self._run_pesapal_cron()
        self.assertEqual(lost.state, "draft")
        self.assertEqual(lost.pesapal_check_count, 1)
        self.assertGreater(lost.pesapal_next_check_at, fields.Datetime.now() + timedelta(minutes=3))
        queries = self._status_queries()
        self._run_pesapal_cron()  # not due: not asked again
        self.assertEqual(self._status_queries(), queries)
        self._pay(lost)
        lost.pesapal_next_check_at = fields.Datetime.now() - timedelta(seconds=1)
        self._run_pesapal_cron()
        self.assertEqual(lost.state, "done")
        self.assertFalse(lost.pesapal_next_check_at)
        self.assertEqual(len(self._payments(lost)), 1)
        # an order never paid ends after the provider's window (a later IPN still completes it)
        old, _values = self._tx()
        old.write({"pesapal_next_check_at": fields.Datetime.now()})
        self.env.cr.execute(
            "UPDATE payment_transaction SET create_date = %s WHERE id = %s",
            [fields.Datetime.now() - timedelta(hours=73), old.id],
        )
        old.invalidate_recordset()
        self._run_pesapal_cron()
        self.assertEqual(old.state, "error")
        self.assertIn("No confirmation came from Pesapal", old.state_message)
        self.pesapal_sim.ipn_mode = "once"
        self._pay(old)
        self.assertEqual(old.state, "done")

    def _run_pesapal_cron(self):
        self.env.flush_all()
        with self._no_commit():
            self.env["payment.transaction"]._cron_pesapal_poll()
        self.env.invalidate_all()

    def _no_commit(self):
        return patch.object(type(self.env["ir.cron"]), "_commit_progress", lambda *a, **k: 60.0)

    def test_wrong_amount_or_currency_is_not_done(self):
        for overrides in ({"amount": 1000}, {"currency": "USD"}, {"amount": 1500.5}):
            with self.subTest(**overrides):
                tx, _values = self._tx()
                self._pay(tx, **overrides)
                self.assertEqual(tx.state, "error")
                self.assertTrue(tx.isp_amount_refused)
                self.assertIn("does not match", tx.state_message)
                self.assertFalse(self._payments(tx))
                self.assertEqual(tx.invoice_ids.payment_state, "not_paid")
                # Pesapal says it again: still not done
                self.assertEqual(self._ipn(tx).json()["status"], 200)
                self.assertEqual(tx.state, "error")
                self.assertFalse(self._payments(tx))

    def test_failed_reversed_invalid(self):
        # 0: not paid yet, nothing changes
        tx, _values = self._tx()
        self.assertEqual(self._ipn(tx).json()["status"], 200)
        self.assertEqual(tx.state, "draft")
        self.assertEqual(tx.pesapal_status[:1], "0")
        # 2: failed
        self._pay(tx, "fail")
        self.assertEqual(tx.state, "error")
        self.assertIn("Insufficient funds", tx.state_message)
        self.assertEqual(tx.invoice_ids.payment_state, "not_paid")
        # the payer tries again on Pesapal's page and pays; no IPN: the return settles it
        self.pesapal_sim.ipn_mode = "lost"
        callback = self._pay(tx)
        self.env.flush_all()
        self.url_open(callback[callback.index("/payment/pesapal/return") :])
        self.env.invalidate_all()
        self.assertEqual(tx.state, "done")
        self.assertEqual(len(self._payments(tx)), 1)
        self.pesapal_sim.ipn_mode = "once"
        # 3 after done: stays done (its payment is posted), flagged and noted for accounting
        paid, _values = self._tx()
        self._pay(paid)
        self.assertEqual(paid.state, "done")
        with self._served():
            self.pesapal_sim.reverse(paid.provider_reference)
        self.assertEqual(paid.state, "done")
        self.assertTrue(paid.pesapal_reversed)
        self.assertIn("reversed", paid.state_message)
        self.assertTrue(
            any("reversed" in (m.body or "") for m in paid.invoice_ids.message_ids),
            "the invoice's chatter says so",
        )
        # 3 before done: error
        early, _values = self._tx()
        self.pesapal_sim.orders[early.provider_reference]["status_code"] = 3
        self._ipn(early)
        self.assertEqual(early.state, "error")
        self.assertFalse(self._payments(early))

    def test_token_cached_refreshed_on_expiry_and_on_401(self):
        issued = self.pesapal_sim.tokens_issued
        self.pesapal.sudo().pesapal_token_expiry = False
        tx, _values = self._tx()
        self.assertEqual(self.pesapal_sim.tokens_issued, issued + 1, "one for all the calls")
        issued += 1
        expiry = self.pesapal.sudo().pesapal_token_expiry
        self.assertLessEqual(expiry, fields.Datetime.now() + timedelta(minutes=5))
        self._ipn(tx)  # within its life: the cached token
        self.assertEqual(self.pesapal_sim.tokens_issued, issued)
        # Pesapal's clock past the 5 minutes: 401, a new token, the request again
        self.pesapal_sim.advance(301)
        self._pay(tx)
        self.assertEqual(tx.state, "done")
        self.assertEqual(self.pesapal_sim.tokens_issued, issued + 1)
        # our own expiry: a new token before asking
        self.pesapal.sudo().pesapal_token_expiry = fields.Datetime.now() - timedelta(seconds=1)
        self._tx()
        self.assertEqual(self.pesapal_sim.tokens_issued, issued + 2)

    def test_error_bodies_with_http_200_fail_with_their_message(self):
        self.pesapal_sim.fail_next("error200", path="SubmitOrderRequest")
        tx, values = self._tx()
        self.assertEqual(values["state"], "error")
        self.assertIn("Server busy", tx.state_message)
        self.assertFalse(tx.provider_reference)
        # an id Pesapal already has (HTTP 200, status "400", error set)
        invoice = self._invoice()
        reference = self.env["payment.transaction"]._compute_reference(
            "pesapal", invoice_ids=[Command.set(invoice.ids)]
        )
        self.pesapal_sim.merchant_ids.add(reference)
        tx, values = self._tx(invoice)
        self.assertEqual(values["state"], "error")
        self.assertIn("duplicate_merchant_reference", tx.state_message)
        # wrong credentials: the token request's error body
        self.pesapal.pesapal_consumer_secret = "wrong"
        tx, values = self._tx()
        self.assertEqual(values["state"], "error")
        self.assertIn("invalid_consumer_key_or_secret_provided", tx.state_message)

    def test_payer_without_email_or_phone_is_told(self):
        partner = self.env["res.partner"].create(
            {"name": "No Contact", "company_id": self.ke_company.id, "phone": "12"}
        )
        requests_before = len(self.pesapal_sim.requests)
        tx, values = self._tx(self._invoice(partner=partner))
        self.assertEqual(values["state"], "error")
        self.assertIn("email address or mobile number", tx.state_message)
        self.assertEqual(len(self.pesapal_sim.requests), requests_before, "nothing sent")
        # a phone only is enough
        partner.phone = "+254 733 000 111"
        tx, values = self._tx(self._invoice(partner=partner))
        self.assertEqual(values["state"], "draft", tx.state_message)
        self.assertEqual(self._order(tx)["billing_address"]["phone_number"], "254733000111")

    def test_status_query_failure_or_timeout_answers_500_and_changes_nothing(self):
        tx, _values = self._tx()
        self.pesapal_sim.orders[tx.provider_reference]["status_code"] = 1
        for fault in ("500", "error200", "timeout"):
            with self.subTest(fault=fault):
                self.pesapal.isp_request_timeout = 1
                self.pesapal_sim.fail_next(fault, path="GetTransactionStatus")
                with self._short_timeouts():
                    response = self._ipn(tx)
                self.assertEqual(response.status_code, 500)
                self.assertEqual(
                    response.json(),
                    {
                        "orderNotificationType": "IPNCHANGE",
                        "orderTrackingId": tx.provider_reference,
                        "orderMerchantReference": tx.reference,
                        "status": 500,
                    },
                )
                self.assertEqual(tx.state, "draft")
        self.assertEqual(self._ipn(tx).json()["status"], 200)  # Pesapal's retry
        self.assertEqual(tx.state, "done")
        # the order request's timeout: an error the payer reads, no order
        self.pesapal_sim.fail_next("timeout", path="SubmitOrderRequest")
        with self._short_timeouts():
            tx, values = self._tx()
        self.assertEqual(values["state"], "error")
        self.assertIn("did not answer in time", tx.state_message)
        # and the token request's
        self.pesapal.sudo().pesapal_token_expiry = False
        self.pesapal_sim.fail_next("timeout", path="RequestToken")
        with self._short_timeouts():
            tx, values = self._tx()
        self.assertEqual(values["state"], "error")
        self.assertIn("did not answer in time", tx.state_message)

    def test_ipn_registered_once(self):
        registrations = self.pesapal_sim.registrations
        self._tx()
        self._tx()
        self.assertLessEqual(self.pesapal_sim.registrations, registrations + 1)
        registrations = self.pesapal_sim.registrations
        ipn_id = self.pesapal.pesapal_ipn_id
        # the id lost on our side: found again among the account's IPNs, not registered again
        self.pesapal.sudo().write({"pesapal_ipn_id": False})
        self._tx()
        self.assertEqual(self.pesapal.pesapal_ipn_id, ipn_id)
        self.assertEqual(self.pesapal_sim.registrations, registrations)
        # another public URL: another IPN URL, registered
        self.pesapal.isp_callback_base_url = "http://127.0.0.1:1"
        tx, _values = self._tx()
        self.assertEqual(self.pesapal_sim.registrations, registrations + 1)
        self.assertTrue(
            self.pesapal_sim.ipns[self._order(tx)["ipn_id"]]["url"].startswith(
                "http://127.0.0.1:1/payment/pesapal/ipn/"
            )
        )
        # new credentials (another account): its token and registration
        self.pesapal.isp_callback_base_url = self.base_url()
        self.pesapal.pesapal_consumer_key = PESAPAL_SECRETS["consumer_key"] + " "
        self.assertFalse(self.pesapal.pesapal_ipn_id)
        self.assertFalse(self.pesapal.sudo().pesapal_token_encrypted)

    def test_reference_fits_pesapal(self):
        Tx = self.env["payment.transaction"]
        invoices = self._invoice() | self._invoice()
        reference = Tx._compute_reference("pesapal", invoice_ids=[Command.set(invoices.ids)])
        self.assertRegex(reference, r"^[A-Za-z0-9_.:-]{1,50}$")
        self.assertTrue(re.match(r"^[A-Za-z0-9_.:-]{1,50}$", Tx._compute_reference("pesapal")))
