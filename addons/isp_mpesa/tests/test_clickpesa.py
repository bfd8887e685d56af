import json

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import MpesaCase
from .simulators import clickpesa_checksum


@tagged("post_install", "-at_install")
class TestClickPesa(MpesaCase):
    def test_happy_path_with_checksum_and_preview(self):
        self.clickpesa.clickpesa_preview = True
        reference = self.env["payment.transaction"]._compute_reference(
            "clickpesa", prefix="INV/2026/0001"
        )
        tx = self._push(self._tx(self.clickpesa, reference=reference), phone="0754 123 456")
        self.assertEqual(tx.state, "pending", tx.state_message)
        self.assertEqual(tx.isp_push_phone, "255754123456")
        self.assertEqual(tx.clickpesa_channel, "M-PESA")
        response = self._clickpesa_webhook(tx)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(tx.state, "done")
        self.assertTrue(tx.provider_reference.startswith("MPX"))
        self.assertEqual(tx.isp_subscription_id.state, "active")
        self.assertEqual(tx.isp_purchase_id.invoice_status, "to_invoice")
        self._run_invoicing()
        self.assertEqual(tx.isp_purchase_id.invoice_id.payment_state, "paid")
        self.assertEqual(tx.payment_id.journal_id.code, "CLKP")
        self.assertIn(tx.provider_reference, tx.payment_id.memo)
        self.assertNotIn("255754123456", tx.isp_callback_ids.payload)
        # the same payment again (webhooks come twice) changes nothing
        self.assertEqual(self._clickpesa_webhook(tx).status_code, 409)
        self.assertEqual(
            self.env["isp.purchase"].search_count([("reference", "=", tx.reference)]), 1
        )

    def test_seed_api_webhook_path_is_the_same_webhook(self):
        """Existing ClickPesa accounts post to the seed API's /api/clickpesa-webhook/: the
        same verification and processing, once."""
        tx = self._push(self._tx(self.clickpesa))
        path = "/api/clickpesa-webhook/"
        body = self.clickpesa_sim.webhook_body(tx.reference)
        forged = dict(body, checksum="0" * 64)
        self.assertEqual(self._clickpesa_webhook(tx, body=forged, path=path).status_code, 403)
        self.assertEqual(tx.state, "pending")
        response = self._clickpesa_webhook(tx, body=body, path=path)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["ResultCode"], 0)
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.isp_subscription_id.state, "active")
        self.assertEqual(self._clickpesa_webhook(tx, body=body, path=path).status_code, 409)
        self.assertEqual(
            self.env["isp.purchase"].search_count([("reference", "=", tx.reference)]), 1
        )

    def test_reference_made_for_clickpesa_is_url_safe(self):
        reference = self.env["payment.transaction"]._compute_reference(
            "clickpesa", prefix="INV/2026/00042"
        )
        self.assertRegex(reference, r"^[A-Za-z0-9-]+$")

    def test_checksum_in_header_and_bad_checksum(self):
        tx = self._push(self._tx(self.clickpesa))
        before = self._snapshot(tx)
        body = self.clickpesa_sim.webhook_body(tx.reference)
        forged = dict(body, checksum="0" * 64)
        self.assertEqual(self._clickpesa_webhook(tx, body=forged).status_code, 403)
        unsigned = {k: v for k, v in body.items() if k != "checksum"}
        self.assertEqual(self._clickpesa_webhook(tx, body=unsigned).status_code, 403)
        self.assertEqual(self._snapshot(tx), before)
        signature = {"X-ClickPesa-Signature": body["checksum"]}
        self.assertEqual(
            self._clickpesa_webhook(tx, body=unsigned, headers=signature).status_code, 200
        )
        self.assertEqual(tx.state, "done")

    def test_webhook_is_always_confirmed_by_the_status_query(self):
        tx = self._push(self._tx(self.clickpesa), code="FAILED")
        # a webhook saying SUCCESS (right checksum: e.g. replayed from another order) is not
        # enough: ClickPesa's own status says FAILED
        response = self._clickpesa_webhook(tx, status="SUCCESS")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(tx.state, "error")
        self.assertIn("Insufficient balance", tx.state_message)
        self.assertFalse(tx.isp_purchase_id)

    def test_wrong_currency_or_short_amount_recorded_and_ends_in_error(self):
        cases = [({"amount": "900"}, "900 TZS of 1,000 TZS"), ({"currency": "KES"}, "1,000 KES")]
        for outcome, paid in cases:
            with self.subTest(**outcome):
                tx = self._push(self._tx(self.clickpesa), **outcome)
                with self.assertLogs("odoo.addons.isp_mpesa", "WARNING"):
                    response = self._clickpesa_webhook(tx)
                self.assertEqual(response.status_code, 200, response.text)
                self.assertEqual(tx.state, "error")
                self.assertIn(f"Paid {paid}", tx.state_message)
                self.assertTrue(tx.isp_amount_refused)
                self.assertTrue(tx.provider_reference, "ClickPesa's reference, for a refund")
                self.assertFalse(tx.isp_purchase_id)
                self.assertFalse(tx.partner_id.isp_subscription_ids)
                webhook = tx.isp_callback_ids
                self.assertEqual(webhook.kind, "webhook")
                # the webhook again, and the status query: it stays as it ended
                with self.assertLogs("odoo.addons.isp_mpesa", "WARNING"):
                    self.assertEqual(self._clickpesa_webhook(tx).status_code, 409)
                tx._process("clickpesa", tx._clickpesa_query())
                self.assertEqual(tx.state, "error")
                self.assertFalse(tx.isp_purchase_id)
        self.assertEqual(webhook.amount, 1000)

    def test_status_query_settles_a_short_payment_with_the_amount_collected(self):
        tx = self._push(self._tx(self.clickpesa), amount="400")
        self._age(tx, 40)
        with self.assertLogs("odoo.addons.isp_mpesa", "WARNING"):
            self._run_poll_cron()
        self.assertEqual(tx.state, "error")
        self.assertIn("Paid 400 TZS of 1,000 TZS", tx.state_message)
        self.assertEqual(tx.isp_paid_amount, 400)
        self.assertFalse(tx.isp_purchase_id)
        self.assertEqual((tx.isp_callback_ids.kind, tx.isp_callback_ids.amount), ("status", 400))

    def test_unknown_order_and_garbage(self):
        tx = self._push(self._tx(self.clickpesa))
        body = self.clickpesa_sim.webhook_body(tx.reference)
        body["data"]["orderReference"] = "NOPE123"
        body["checksum"] = clickpesa_checksum("chk-Wq2Er5Ty", body)
        self.assertEqual(self._clickpesa_webhook(tx, body=body).status_code, 404)
        self.assertEqual(self._clickpesa_webhook(tx, body={"x": 1}).status_code, 400)
        self.assertEqual(tx.state, "pending")

    def test_lost_webhook_recovered_by_the_cron(self):
        tx = self._push(self._tx(self.clickpesa))
        self._age(tx, 40)
        self._run_poll_cron()
        self.assertEqual(tx.state, "done")
        self.assertTrue(tx.isp_purchase_id)
        self.assertEqual(tx.isp_callback_ids.kind, "status")

    def test_reference_with_slash_is_refused_before_pushing(self):
        tx = self._tx(self.clickpesa, reference="INV/2026/7")
        with self.assertRaisesRegex(UserError, "letters, digits"):
            self._push(tx)
        self.assertEqual(tx.state, "draft")

    def test_wrong_credentials_and_strict_simulator(self):
        self.clickpesa.clickpesa_api_key = "wrong"
        result = self.clickpesa.action_isp_test_connection()["params"]
        self.assertEqual(result["type"], "danger")
        self.assertIn("Unauthorized", result["message"])
        self.clickpesa.clickpesa_api_key = "ak-Vb6Nm1Xc"
        self.clickpesa.clickpesa_checksum_key = "another-key"
        tx = self._push(self._tx(self.clickpesa))
        self.assertEqual(tx.state, "error")
        self.assertIn("Invalid checksum", tx.state_message)
        sent = json.loads(self.clickpesa_sim.requests[-1][3])
        self.assertEqual(sent["amount"], "1000")
