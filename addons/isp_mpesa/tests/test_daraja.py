import logging
from datetime import timedelta
from unittest.mock import patch

from psycopg2 import IntegrityError

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import config, mute_logger

from odoo.addons.isp_billing.tests.common import captured_logs

from .common import SECRETS, MpesaCase


@tagged("post_install", "-at_install")
class TestDaraja(MpesaCase):
    def test_happy_path_active_subscription_paid_reconciled_invoice(self):
        tx = self._push(phone="0712 345 678")
        self.assertEqual(tx.state, "pending")
        self.assertEqual(tx.isp_push_phone, "254712345678")
        self.assertTrue(tx.daraja_checkout_request_id.startswith("ws_CO_"))
        self.assertTrue(tx.daraja_merchant_request_id)
        self.assertFalse(tx.partner_id.is_isp_customer, "no partner for a typed number")
        self.assertEqual(tx.isp_phone, "+254712345678")
        response = self._daraja_callback(tx, MpesaReceiptNumber="NLJ7RT61SV")
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(tx.state, "done")
        self.assertTrue(tx.partner_id.is_isp_customer, "the confirmed payer is the customer")
        self.assertEqual(tx.provider_reference, "NLJ7RT61SV")
        sub = tx.isp_subscription_id
        self.assertEqual(sub.state, "active", "online as soon as M-Pesa confirms")
        # the invoice, payment and reconciliation are left to Odoo's post-processing cron,
        # due now
        purchase = tx.isp_purchase_id
        self.assertEqual(purchase.amount, 50)
        self.assertEqual(purchase.invoice_status, "to_invoice")
        self.assertFalse(purchase.invoice_id)
        self.assertFalse(tx.payment_id)
        self.assertTrue(self._invoicing_triggered())
        self._run_invoicing()
        self.assertEqual(purchase.invoice_status, "invoiced")
        self.assertTrue(tx.is_post_processed)
        invoice = purchase.invoice_id
        self.assertEqual(tx.invoice_ids, invoice)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(invoice.amount_total, 50)
        self.assertEqual(tx.payment_id.journal_id, self.daraja.journal_id)
        self.assertEqual(self.daraja.journal_id.code, "MPESA")
        self.assertIn("NLJ7RT61SV", tx.payment_id.memo)
        self.assertTrue(
            invoice.line_ids.filtered(lambda line: line.display_type == "payment_term").reconciled
        )
        callback = tx.isp_callback_ids
        self.assertEqual(callback.kind, "callback")
        self.assertEqual(callback.receipt, "NLJ7RT61SV")
        self.assertNotIn("254712345678", callback.payload, "the phone number is masked")
        self.assertIn("*********678", callback.payload)

    def test_every_failure_code_gives_its_state_and_message_and_no_access(self):
        cases = {
            1: ("error", "not enough money"),
            2001: ("error", "PIN was wrong"),
            1032: ("cancel", "You cancelled"),
            1037: ("error", "could not be reached"),
            17: ("error", "Wait 2 minutes"),
            1019: ("cancel", "expired"),
            1025: ("error", "could not be shown"),
            2028: ("error", "not allowed"),
            8006: ("error", "locked"),
            4242: ("error", "did not go through"),
        }
        for code, (state, words) in cases.items():
            with self.subTest(code=code):
                tx = self._push(code=code)
                self.assertEqual(self._daraja_callback(tx).status_code, 200)
                self.assertEqual(tx.state, state)
                self.assertIn(words, tx.state_message)
                self.assertFalse(tx.isp_purchase_id)
                self.assertFalse(tx.partner_id.isp_subscription_ids)

    def test_forged_callbacks_are_refused_and_change_nothing(self):
        tx = self._push()
        before = self._snapshot(tx)
        logger = "odoo.addons.isp_mpesa"
        with self.assertLogs(logger, "WARNING") as logs:
            wrong_token = self._daraja_callback(tx, token="x" * 64)
            unknown = self._daraja_callback(
                tx,
                body=self.daraja_sim.callback_body(tx.daraja_checkout_request_id)
                | {"Body": {"stkCallback": {"CheckoutRequestID": "ws_CO_000", "ResultCode": 0}}},
            )
            no_amount = self._daraja_callback(tx, Amount="")
            nan_amount = self._daraja_callback(tx, Amount="NaN")
            garbage = self._daraja_callback(tx, body={"hello": "world"})
        # a wrong token and an unknown checkout request answer alike (no oracle)
        self.assertEqual((wrong_token.status_code, unknown.status_code), (404, 404))
        self.assertEqual((no_amount.status_code, nan_amount.status_code), (400, 400))
        self.assertEqual(garbage.status_code, 400)
        self.assertEqual(self._snapshot(tx), before, "nothing changed")
        text = "\n".join(logs.output)
        self.assertIn("wrong token", text)
        self.assertIn("without amount", text)
        # the genuine callback still works, a replay afterwards is refused
        self.assertEqual(self._daraja_callback(tx).status_code, 200)
        done = self._snapshot(tx)
        self.assertEqual(done[0], "done")
        with self.assertLogs(logger, "WARNING") as logs:
            replay = self._daraja_callback(tx)
            replay_failed = self._daraja_callback(tx, ResultCode=1032)
        self.assertEqual((replay.status_code, replay_failed.status_code), (409, 409))
        self.assertEqual(self._snapshot(tx), done)
        self.assertIn("replayed", logs.output[0])

    def _assert_short_payment(self, tx, paid="40 KES of 50 KES"):
        """Ended in error with the amounts, flagged, nothing given or invoiced."""
        self.assertEqual(tx.state, "error")
        self.assertIn(f"Paid {paid}", tx.state_message)
        self.assertTrue(tx.isp_amount_refused)
        self.assertFalse(tx.isp_purchase_id)
        self.assertFalse(tx.partner_id.isp_subscription_ids, "no access")
        self.assertFalse(
            self.env["isp.purchase"].search_count([("reference", "=", tx.reference)]),
            "no fulfilment: no invoice, no confirmation SMS",
        )
        self.assertFalse(tx.invoice_ids)
        self.assertFalse(tx.payment_id)

    def test_short_payment_is_recorded_and_ends_in_error_for_good(self):
        tx = self._push()
        with self.assertLogs("odoo.addons.isp_mpesa", "WARNING") as logs:
            response = self._daraja_callback(tx, Amount=40, MpesaReceiptNumber="SHORT40XY")
        self.assertEqual(response.status_code, 200, response.text)
        self.assertIn("paid 40.0 KES, 50.0 KES is due", "\n".join(logs.output))
        self._assert_short_payment(tx)
        self.assertEqual(tx.isp_paid_amount, 40)
        self.assertEqual(tx.provider_reference, "SHORT40XY", "the receipt, for a refund")
        callback = tx.isp_callback_ids
        self.assertEqual((callback.kind, callback.amount), ("callback", 40))
        self.assertEqual(callback.receipt, "SHORT40XY")
        # a repeated callback, one with the full amount, the status query, the cron and
        # Odoo's post-processing: it stays as it ended
        with mute_logger("odoo.addons.isp_mpesa.models.payment_transaction"):
            repeated = self._daraja_callback(tx, Amount=40)
            full = self._daraja_callback(tx)
        self.assertEqual((repeated.status_code, full.status_code), (409, 409))
        self.assertEqual(len(tx.isp_callback_ids), 3, "every notification is kept for staff")
        tx._process("daraja", tx._daraja_query())
        self._age(tx, 400)
        self._run_poll_cron()
        tx._post_process()
        self._run_invoicing()
        self._assert_short_payment(tx)

    def test_short_payment_is_paid_not_applied_for_staff_to_decide(self):
        """A short payment is money taken without access: in Paid, Not Applied (the dashboard
        figure's list), and a manager's Grant Access gives the period once."""
        tx = self._push(phone="0712 345 690")
        with mute_logger("odoo.addons.isp_mpesa.models.payment_transaction"):
            self._daraja_callback(tx, Amount=40, MpesaReceiptNumber="SHORT40AB")
        self.assertEqual((tx.state, tx.isp_access_state), ("error", "not_applied"))
        self.assertIn("Paid 40 KES of 50 KES", tx.isp_not_applied_reason)
        # the money is confirmed: the new payer is a customer, named on the payment (not
        # the public user the request was made as)
        payer = tx.partner_id
        self.assertNotEqual(payer, self.env.ref("base.public_partner"))
        self.assertTrue(payer.is_isp_customer)
        self.assertEqual((payer.phone, payer.company_id), ("+254712345690", self.ke_company))
        not_applied = self.env["payment.transaction"].search(
            [("isp_access_state", "=", "not_applied")]
        )
        self.assertIn(tx, not_applied)
        manager = new_test_user(
            self.env,
            login="mpesa-short-manager",
            groups="isp_billing.group_isp_manager",
            company_id=self.ke_company.id,
            company_ids=[(6, 0, (self.ke_company | self.tz_company).ids)],
        )
        for _click in range(2):
            tx.with_user(manager).action_isp_grant_access()
        tx.invalidate_recordset()
        self.assertEqual(tx.isp_access_state, "granted")
        self.assertEqual(
            self.env["isp.purchase"].search_count([("reference", "=", tx.reference)]), 1
        )
        self.assertEqual(tx.isp_subscription_id.state, "active")
        self.assertEqual(tx.isp_subscription_id.partner_id, payer)
        self.assertEqual(tx.state, "error", "the payment itself stays as it ended")
        # the decision is traced in the payer's chatter
        self.assertTrue(payer.message_ids.filtered(lambda m: tx.reference in (m.body or "")))

    def test_status_query_uses_the_amount_of_the_recorded_callback(self):
        """The callback lost against a status query that cannot be asked: the cron's status
        query (ResultCode 0, no amount) settles with the amount the callback reported, not
        with the amount pushed."""
        tx = self._push()
        self.daraja_sim.fail_next("500")
        with mute_logger("odoo.addons.isp_mpesa.models.payment_transaction"):
            response = self._daraja_callback(tx, Amount=40)
        self.assertEqual(response.status_code, 200)
        self.assertEqual(tx.state, "pending", "kept until M-Pesa confirms it")
        self._age(tx, 40)
        with mute_logger("odoo.addons.isp_mpesa.models.payment_transaction"):
            self._run_poll_cron()
        self._assert_short_payment(tx)
        self.assertEqual(tx.isp_callback_ids.mapped("kind"), ["status", "callback"])
        self.assertFalse(tx.isp_callback_ids.filtered(lambda c: c.kind == "status").amount)

    def test_short_payment_after_the_timeout(self):
        """A transaction ended by the timeout is still completed by a late callback of the
        full amount; a late callback of another amount tells what was paid."""
        late_full = self._push(delay=3600, phone="0712000001")
        late_short = self._push(delay=3600, phone="0712000002")
        self._age(late_full | late_short, 200)
        self._run_poll_cron()
        self.assertEqual((late_full | late_short).mapped("state"), ["error", "error"])
        self.daraja_sim.pushes[late_full.daraja_checkout_request_id]["decided_at"] = 0
        self.daraja_sim.pushes[late_short.daraja_checkout_request_id]["decided_at"] = 0
        self.assertEqual(self._daraja_callback(late_full).status_code, 200)
        self.assertEqual(late_full.state, "done")
        self.assertTrue(late_full.isp_purchase_id)
        with mute_logger("odoo.addons.isp_mpesa.models.payment_transaction"):
            self.assertEqual(self._daraja_callback(late_short, Amount=60).status_code, 200)
        self._assert_short_payment(late_short, paid="60 KES of 50 KES")

    def test_callback_from_a_foreign_currency_transaction_is_refused(self):
        tx = self._push()
        tx.currency_id = self.tzs  # cannot happen through the push; a forged state
        before = self._snapshot(tx)
        self.assertEqual(self._daraja_callback(tx).status_code, 400)
        self.assertEqual(self._snapshot(tx), before)

    def test_duplicate_callbacks_fulfil_once(self):
        tx = self._push()
        statuses = [self._daraja_callback(tx).status_code for _i in range(20)]
        self.assertEqual(statuses.count(200), 1)
        self.assertEqual(statuses.count(409), 19)
        self.assertEqual(
            self.env["isp.purchase"].search_count([("reference", "=", tx.reference)]), 1
        )
        self._run_invoicing()
        self._run_invoicing()  # the cron running again changes nothing
        tx._post_process()  # nor does the status page's post-processing
        self.assertEqual(len(tx.partner_id.isp_subscription_ids.invoice_ids), 1)
        self.assertEqual(
            self.env["account.payment"].search_count([("payment_transaction_id", "=", tx.id)]), 1
        )

    def test_status_query_must_confirm_the_callback(self):
        tx = self._push(code=1032)  # M-Pesa knows the customer cancelled
        response = self._daraja_callback(tx, ResultCode=0)  # a forged "paid" with the token
        self.assertEqual(response.status_code, 200)
        self.assertEqual(tx.state, "pending", "not applied without confirmation")
        self.assertFalse(tx.isp_purchase_id)

    def test_lost_callback_recovered_by_the_cron_and_timeout_ends(self):
        paid = self._push()
        waiting = self._push(delay=3600)  # the customer never answers the prompt
        cancelled = self._push(code=1032)
        self._run_poll_cron()
        self.assertEqual(paid.state, "pending", "too early: 30 s not elapsed")
        self._age(paid | waiting | cancelled, 40)
        self._run_poll_cron()
        self.assertEqual(paid.state, "done")
        self.assertEqual(paid.isp_subscription_id.state, "active")
        self._run_invoicing()
        self.assertEqual(paid.isp_purchase_id.invoice_id.payment_state, "paid")
        self.assertEqual(cancelled.state, "cancel")
        self.assertEqual(waiting.state, "pending")
        self._age(waiting, 200)
        self._run_poll_cron()
        self.assertEqual(waiting.state, "error")
        self.assertIn("No confirmation", waiting.state_message)
        self.assertFalse(waiting.isp_purchase_id)

    def test_provider_down_then_back_nothing_lost(self):
        tx = self._push()
        self.daraja_sim.fail_next("500")
        response = self._daraja_callback(tx, MpesaReceiptNumber="QWE123RTY")
        self.assertEqual(response.status_code, 200, "kept, M-Pesa need not resend")
        self.assertEqual(tx.state, "pending")
        self.assertEqual(tx.isp_callback_ids.receipt, "QWE123RTY", "the receipt is kept")
        self._age(tx, 40)
        self._run_poll_cron()
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.provider_reference, "QWE123RTY")
        self.assertTrue(tx.isp_purchase_id)

    def test_push_when_provider_refuses_times_out_or_fails(self):
        # HTTP 500
        self.daraja_sim.fail_next("500")
        tx = self._push()
        self.assertEqual(tx.state, "error")
        self.assertIn("HTTP 500", tx.state_message)
        # refused connection
        self.daraja.daraja_base_url = "http://127.0.0.1:9"
        self.daraja.daraja_token_expiry = fields.Datetime.now() - timedelta(seconds=1)
        tx = self._push()
        self.assertEqual(tx.state, "error")
        self.assertIn("cannot be reached", tx.state_message)
        # timeout
        self.daraja.daraja_base_url = self.daraja_sim.url
        self.daraja.isp_request_timeout = 1
        self.daraja_sim.hang_seconds = 2
        self._push()  # a token first
        self.daraja_sim.fail_next("timeout")
        with self._short_timeouts():
            tx = self._push()
        self.assertEqual(tx.state, "error")
        self.assertIn("did not answer in time", tx.state_message)

    def test_daraja_error_body_is_surfaced(self):
        self.daraja.daraja_shortcode = "600000"
        tx = self._push()
        self.assertEqual(tx.state, "error")
        self.assertIn("Invalid BusinessShortCode", tx.state_message)
        self.assertIn("400.002.02", tx.state_message)

    def test_token_cached_then_refreshed_on_expiry_and_on_refusal(self):
        issued = self.daraja_sim.tokens_issued
        self.daraja.daraja_token_expiry = False
        self._push()
        self._push()
        self.assertEqual(self.daraja_sim.tokens_issued, issued + 1, "one token, cached")
        self.daraja_sim.expire_tokens()  # Safaricom dropped it: 404.001.03
        tx = self._push()
        self.assertEqual(tx.state, "pending")
        self.assertEqual(self.daraja_sim.tokens_issued, issued + 2)
        self.daraja.daraja_token_expiry = fields.Datetime.now() + timedelta(seconds=30)
        self._push()
        self.assertEqual(self.daraja_sim.tokens_issued, issued + 2)
        self.daraja.daraja_token_expiry = fields.Datetime.now() - timedelta(seconds=1)
        self._push()
        self.assertEqual(self.daraja_sim.tokens_issued, issued + 3, "renewed before expiry")

    def test_phone_amount_and_field_limits(self):
        with self.assertRaisesRegex(UserError, "too few digits"):
            self._push(phone="0612")
        with self.assertRaises(UserError):
            self._push(phone="+255712345678")  # a Tanzanian number for M-Pesa Kenya
        self.assertEqual(self._push(phone="+254 110 123456").isp_push_phone, "254110123456")
        with self.assertRaisesRegex(UserError, "whole amounts"):
            self._push(self._tx(amount=50.5))
        long_ref = self._push(self._tx(reference="HOTSPOT/PAYMENT/0000001"))
        self.assertEqual(long_ref.state, "pending", "AccountReference cut to 12 characters")
        body = self.daraja_sim.requests[-1][3].decode()
        self.assertIn('"AccountReference": "HOTSPOT/PAYM"', body)
        self.daraja.write({"daraja_transaction_type": "till", "daraja_till_number": "5544332"})
        self.daraja_sim.till = "5544332"
        self.assertEqual(self._push().state, "pending", "till payments use the till as PartyB")
        self.assertIn('"CustomerBuyGoodsOnline"', self.daraja_sim.requests[-1][3].decode())

    def test_push_rate_limit_per_phone_and_per_address(self):
        defaults = self.env["payment.provider"].default_get(
            ["isp_push_limit", "isp_push_ip_limit", "isp_push_window"]
        )
        self.assertEqual(
            defaults, {"isp_push_limit": 3, "isp_push_ip_limit": 60, "isp_push_window": 120}
        )
        self.daraja.write(defaults)
        # ten customers behind one hotspot router (one address) within two minutes
        router = "10.0.0.1"
        txs = [self._push(phone=f"07220000{n:02d}", client_ip=router) for n in range(10)]
        self.assertEqual({tx.state for tx in txs}, {"pending"})
        # a fourth prompt to one phone, whatever the address
        self._push(phone="0722000000", client_ip=router)
        self._push(phone="0722000000", client_ip="10.0.0.2")
        refused = self._tx()
        with self.assertRaisesRegex(UserError, "Too many payment requests for this phone number"):
            self._push(refused, phone="0722000000", client_ip="10.0.0.3")
        self.assertEqual(refused.state, "draft", "a refused push changes nothing")
        self.assertFalse(refused.isp_pushed_at)
        # the address limit: 11 prompts from the router so far
        self.daraja.isp_push_ip_limit = 12
        self._push(phone="0722000050", client_ip=router)
        with self.assertRaises(UserError) as caught:
            self._push(refused, phone="0722000051", client_ip=router)
        message = caught.exception.args[0]
        self.assertIn("Too many payment requests from this network", message)
        self.assertNotIn("device", message)
        self.assertFalse(refused.isp_pushed_at)
        self._push(phone="0722000051", client_ip="10.0.0.4")  # another network is not limited
        # 0: no limit
        self.daraja.write({"isp_push_limit": 0, "isp_push_ip_limit": 0})
        self.assertEqual(self._push(phone="0722000000", client_ip=router).state, "pending")

    def test_limits_and_short_payment_told_in_swahili(self):
        self.env["res.lang"]._activate_lang("sw")
        self.env["ir.module.module"]._load_module_terms(["isp_mpesa"], ["sw"], overwrite=True)
        self.daraja.write({"isp_push_limit": 1, "isp_push_ip_limit": 1})
        self._push(phone="0722000001", client_ip="10.0.0.1")
        sw = self._tx().with_context(lang="sw")
        with self.assertRaisesRegex(UserError, "kwa namba hii ya simu"):
            sw._isp_send_push("0722000001", client_ip="10.0.0.2")
        with self.assertRaisesRegex(UserError, "kutoka mtandao huu"):
            sw._isp_send_push("0722000002", client_ip="10.0.0.1")
        self.daraja.write({"isp_push_limit": 0, "isp_push_ip_limit": 0})
        tx = self._push(phone="0722000003").with_context(lang="sw")
        with mute_logger("odoo.addons.isp_mpesa.models.payment_transaction"):
            tx._isp_set_wrong_amount(40, "KES", "SW40")
        self.assertIn("Umelipa 40 KES kati ya 50 KES", tx.state_message)

    def test_source_address_allow_list_proxy_aware(self):
        self.daraja.daraja_allowed_ips = "196.201.214.200, 196.201.213.0/24"
        tx = self._push()
        headers = {"X-Forwarded-For": "196.201.214.200"}
        self.assertEqual(self._daraja_callback(tx, headers=headers).status_code, 403)
        with patch.dict(config.options, {"proxy_mode": True}):
            spoofed = {"X-Forwarded-For": "196.201.214.200, 10.1.1.1"}
            self.assertEqual(self._daraja_callback(tx, headers=spoofed).status_code, 403)
            self.assertEqual(self._daraja_callback(tx, headers=headers).status_code, 200)
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.isp_callback_ids.remote_addr, "196.201.214.200")

    def test_push_route_needs_the_access_token(self):
        tx = self._tx()
        self.env.flush_all()
        url = "/payment/isp_mpesa/push"
        params = {"reference": tx.reference, "access_token": "nope", "phone": "0712345678"}
        response = self.url_open(url, json={"params": params})
        self.assertIn("403", response.text)
        params["access_token"] = tx._isp_push_access_token()
        result = self.url_open(url, json={"params": params}).json()["result"]
        self.assertEqual(result["state"], "pending")
        params["phone"] = "12"
        tx2 = self._tx()
        self.env.flush_all()
        params.update(reference=tx2.reference, access_token=tx2._isp_push_access_token())
        result = self.url_open(url, json={"params": params}).json()["result"]
        self.assertEqual(result["state"], "draft")
        self.assertTrue(result["error"])

    def test_credentials_encrypted_admin_only_and_test_connection(self):
        stored = self.daraja.sudo().daraja_consumer_secret_encrypted
        self.assertNotIn(SECRETS["consumer_secret"], stored)
        self.assertEqual(
            self.daraja._isp_secret("daraja_consumer_secret"), SECRETS["consumer_secret"]
        )
        user = self.env["res.users"].create(
            {
                "name": "Accountant",
                "login": "acc-mpesa",
                "group_ids": [(6, 0, [self.env.ref("account.group_account_manager").id])],
            }
        )
        with self.assertRaises(Exception):  # noqa: B017 - AccessError on a groups field
            self.daraja.with_user(user).read(["daraja_consumer_secret"])
        ok = self.daraja.action_isp_test_connection()["params"]
        self.assertEqual(ok["type"], "success")
        self.daraja.daraja_consumer_secret = "wrong"
        failed = self.daraja.action_isp_test_connection()["params"]
        self.assertEqual(failed["type"], "danger")
        self.assertIn("Invalid Authentication", failed["message"])

    def test_logs_contain_no_secret(self):
        debug = {"": logging.DEBUG, "odoo": logging.DEBUG, "werkzeug": logging.INFO}
        with captured_logs(debug) as lines:
            self.daraja.daraja_token_expiry = False
            tx = self._push()
            self._daraja_callback(tx)
            self.daraja.action_isp_test_connection()
            self.daraja_sim.fail_next("500")
            self._push()
        # (urllib3's lines about this test's own requests to the server are Safaricom's side)
        client = f"urllib3.connectionpool: {self.base_url()} "
        text = "\n".join(line for line in lines if not line.startswith(client))
        self.assertIn(tx.reference, text, "the flow was logged")
        # the callback's request line is in the request log, its token masked: whoever reads
        # the logs cannot post callbacks for the transaction
        self.assertIn('"POST /payment/daraja/callback/*** HTTP/1.1" 200', text)
        password = self.daraja._daraja_password("2")[:12]
        tokens = list(self.daraja_sim.tokens)
        for secret in [*SECRETS.values(), password, *tokens, tx._daraja_callback_token()]:
            self.assertNotIn(secret, text)

    def test_old_notifications_deleted_after_the_provider_retention(self):
        paid = self._push()
        self._daraja_callback(paid, MpesaReceiptNumber="RET1OLD001")
        self._run_invoicing()
        old = paid.isp_callback_ids
        self.assertEqual(len(old), 1)
        recent_tx = self._push()
        self._daraja_callback(recent_tx, MpesaReceiptNumber="RET1NEW002")
        recent = recent_tx.isp_callback_ids
        clickpesa_tx = self._tx(self.clickpesa)
        clickpesa_old = self.env["isp.mpesa.callback"]._record(
            clickpesa_tx, "webhook", {"event": "PAYMENT RECEIVED"}
        )
        self.daraja.isp_callback_retention_days = 90
        self.clickpesa.isp_callback_retention_days = 365
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE isp_mpesa_callback SET create_date = now() - interval '91 days' WHERE id IN %s",
            [(old.id, clickpesa_old.id)],
        )
        done, remaining = self.env["isp.mpesa.callback"]._gc_expired()  # Odoo's autovacuum
        self.assertEqual((done, remaining), (1, False))
        self.env.invalidate_all()
        self.assertFalse(old.exists(), "older than M-Pesa's 90 days: deleted")
        self.assertTrue(recent.exists())
        self.assertTrue(clickpesa_old.exists(), "ClickPesa keeps its notifications 365 days")
        # the money trail stays: the transaction, its receipt, the paid invoice
        self.assertEqual(paid.state, "done")
        self.assertEqual(paid.provider_reference, "RET1OLD001")
        self.assertIn("RET1OLD001", paid.payment_id.memo)
        self.assertEqual(paid.isp_purchase_id.invoice_id.payment_state, "paid")
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            self.daraja.isp_callback_retention_days = 0
            self.env.flush_all()
