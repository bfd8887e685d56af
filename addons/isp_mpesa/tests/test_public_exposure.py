"""What the public reaches: forged or oversized notifications, payment requests for numbers
nobody owns, the provider's own error texts, secrets in the logs."""

import json
import logging

from lxml import etree

from odoo.tests import tagged

from odoo.addons.isp_billing.exceptions import IspRateLimited
from odoo.addons.isp_billing.tests.common import captured_logs

from .common import SECRETS, MpesaCase


@tagged("post_install", "-at_install")
class TestPublicExposure(MpesaCase):
    def _partners(self):
        return self.env["res.partner"].with_context(active_test=False).search_count([])

    def test_push_creates_no_partner_the_confirmed_payment_does(self):
        partners = self._partners()
        tx = self._push(phone="0712000111")
        self.assertEqual(tx.state, "pending", tx.state_message)
        self.assertEqual(self._partners(), partners, "a push alone creates no partner")
        self.assertEqual(tx.partner_id, self.env.ref("base.public_partner"))
        self.assertEqual(tx.isp_phone, "+254712000111")
        # a push that fails creates none either
        self.daraja_sim.fail_next("500")
        failed = self._push(phone="0712000222")
        self.assertEqual(failed.state, "error")
        self.assertEqual(self._partners(), partners)
        # the confirmed payment makes the customer, once
        self.assertEqual(self._daraja_callback(tx).status_code, 200)
        self.assertEqual(tx.state, "done")
        customer = tx.partner_id
        self.assertTrue(customer.is_isp_customer)
        self.assertEqual(customer.phone, "+254712000111")
        self.assertEqual(tx.isp_subscription_id.partner_id, customer)
        self.assertEqual(self._partners(), partners + 1)

    def test_provider_error_text_stays_with_staff(self):
        self.daraja_sim.fail_next("500")
        tx = self._push()
        self.assertEqual(tx.state, "error")
        self.assertIn("Internal Server Error", tx.state_message, "staff see the provider's text")
        self.assertTrue(tx.isp_public_message)
        self.assertNotIn("Internal Server Error", tx.isp_public_message)
        self.assertNotIn("HTTP", tx.isp_public_message)
        # an unknown Daraja ResultCode quotes the provider's ResultDesc for staff only
        paid = self._push(code=9999)
        self._daraja_callback(paid, ResultDesc="Gateway says <xyz>")
        self.assertEqual(paid.state, "error")
        self.assertIn("Gateway says", paid.state_message)
        self.assertNotIn("Gateway says", paid.isp_public_message)
        # ClickPesa's failure message likewise
        clickpesa = self._push(self._tx(self.clickpesa), code="FAILED")
        self._clickpesa_webhook(clickpesa)
        self.assertEqual(clickpesa.state, "error")
        self.assertIn("Insufficient balance", clickpesa.state_message)
        self.assertNotIn("Insufficient balance", clickpesa.isp_public_message)

    def test_push_route_answers_the_plain_message(self):
        tx = self._tx()
        self.daraja_sim.fail_next("500")
        self.env.flush_all()
        response = self.url_open(
            "/payment/isp_mpesa/push",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "params": {
                        "reference": tx.reference,
                        "access_token": tx._isp_push_access_token(),
                        "phone": "0712345678",
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        result = response.json()["result"]
        self.assertEqual(result["state"], "error")
        self.assertNotIn("Internal Server Error", result["error"])

    def test_push_rate_limit_is_a_rate_limit_error(self):
        self.daraja.isp_push_limit = 1
        self._push(phone="0712000333")
        with self.assertRaises(IspRateLimited):
            self._push(phone="0712000333")

    def test_oversized_bodies_refused_before_parsing(self):
        tx = self._push()
        big = json.dumps({"Body": {"stkCallback": {"x": "y" * (100 * 1024)}}})
        for path in (
            f"/payment/daraja/callback/{tx._daraja_callback_token()}",
            "/payment/clickpesa/webhook",
            "/payment/isp_mpesa/push",
        ):
            with self.subTest(path=path):
                response = self.url_open(
                    path, data=big, headers={"Content-Type": "application/json"}, method="POST"
                )
                if path.endswith("/push"):
                    # JSON-RPC answers its errors in a 200: the body was not parsed
                    self.assertEqual(
                        response.json()["error"]["data"]["name"],
                        "werkzeug.exceptions.RequestEntityTooLarge",
                    )
                else:
                    self.assertEqual(response.status_code, 413, response.text[:200])
        tx.invalidate_recordset()
        self.assertEqual(tx.state, "pending")
        self.assertFalse(tx.isp_callback_ids)

    def test_unsigned_clickpesa_webhooks_are_kept_only_once_confirmed(self):
        self.clickpesa.clickpesa_checksum_key = False
        self.clickpesa_sim.checksum_key = None
        # ClickPesa decides in a minute: until then its status says PROCESSING
        tx = self._push(self._tx(self.clickpesa), delay=60)
        self.assertEqual(tx.state, "pending", tx.state_message)
        # a forged webhook (nobody can check who sent it) saying SUCCESS
        forged = self.clickpesa_sim.webhook_body(tx.reference)
        forged["data"]["junk"] = "x" * 30000
        response = self._clickpesa_webhook(tx, body=forged)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(tx.state, "pending")
        stored = tx.isp_callback_ids
        self.assertNotIn("xxxxxxxxxx", "".join(stored.mapped("payload")), "nothing of it kept")
        self.assertNotIn("webhook", stored.mapped("kind"))

    def test_unsigned_clickpesa_webhook_confirmed_then_kept(self):
        self.clickpesa.clickpesa_checksum_key = False
        self.clickpesa_sim.checksum_key = None
        tx = self._push(self._tx(self.clickpesa))
        body = self.clickpesa_sim.webhook_body(tx.reference)
        body["data"]["junk"] = "forged"
        self.assertEqual(self._clickpesa_webhook(tx, body=body).status_code, 200)
        self.assertEqual(tx.state, "done")
        self.assertEqual(tx.isp_callback_ids.mapped("kind"), ["status"], "ClickPesa's own word")
        self.assertNotIn("forged", tx.isp_callback_ids.payload)

    def test_provider_form_warns_without_checksum_key(self):
        self.assertFalse(self.clickpesa.clickpesa_unsigned_webhooks)
        self.clickpesa.clickpesa_checksum_key = False
        self.assertTrue(self.clickpesa.clickpesa_unsigned_webhooks)
        self.assertFalse(self.daraja.clickpesa_unsigned_webhooks)
        arch = self.env["payment.provider"].get_view(view_type="form")["arch"]
        alert = etree.fromstring(arch).xpath(
            "//div[hasclass('alert-warning')][contains(@invisible, 'clickpesa_unsigned_webhooks')]"
        )
        self.assertTrue(alert)
        self.assertIn("checksum key", "".join(alert[0].itertext()))

    def test_clickpesa_client_id_not_in_logs(self):
        levels = {"": logging.DEBUG, "odoo": logging.DEBUG, "werkzeug": logging.INFO}
        with captured_logs(levels) as lines:
            tx = self._push(self._tx(self.clickpesa))
            self._clickpesa_webhook(tx)
        client = f"urllib3.connectionpool: {self.base_url()} "
        text = "\n".join(line for line in lines if not line.startswith(client))
        self.assertIn(tx.reference, text, "the flow was logged")
        self.assertNotIn(SECRETS["client_id"], text)
        self.assertNotIn(SECRETS["client_id"], "".join(tx.isp_callback_ids.mapped("payload")))
