"""Payment reminders for an unpaid PPPoE invoice, end to end against the strict simulators:
isp_billing's reminders cron sends isp_mpesa's STK push (the Daraja simulator) for the amount
still due and queues isp_sms's reminder SMS (the Africa's Talking simulator), which names the
amount, the due date, the Paybill and the customer's account number; the customer pays on the
prompt (Daraja's callback), the invoice is paid and reconciled, and no reminder follows."""

import json
from datetime import datetime, time, timedelta
from unittest.mock import patch

from odoo import Command
from odoo.tests import tagged

from odoo.addons.isp_mpesa import const
from odoo.addons.isp_mpesa.tests.common import MpesaCase
from odoo.addons.isp_sms.tests.simulators import AfricasTalkingSimulator

AT_API_KEY = "atsk_dunning-0123456789-sekret"


@tagged("post_install", "-at_install")
class TestDunningEndToEnd(MpesaCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.ke_company
        company.write(
            {
                "isp_recurring_prorate": False,
                "isp_recurring_due_days": 0,  # due on its invoice date: today
                "isp_dunning_enabled": True,
                "isp_dunning_days": "0,3",
                "isp_dunning_push": True,
                "isp_paybill_number": "400200",
            }
        )
        cls.at = AfricasTalkingSimulator(
            username="nairobi", api_key=AT_API_KEY, senders={"NAIROBIWIFI"}
        ).start()
        cls.addClassCleanup(cls.at.stop)
        company.isp_sms_gateway_id = cls.env["isp.sms.gateway"].create(
            {
                "name": "Africa's Talking (simulator)",
                "provider": "africastalking",
                "sender_id": "NAIROBIWIFI",
                "at_username": "nairobi",
                "at_api_key": AT_API_KEY,
                "at_base_url": cls.at.url,
                "timeout": 5,
                "company_id": company.id,
            }
        )
        cls.home = (
            cls.env["product.template"]
            .create(
                {
                    "name": "Home 10 Mbps",
                    "is_isp_bundle": True,
                    "isp_service_type": "pppoe",
                    "list_price": 1500,
                    "isp_duration_value": 1,
                    "isp_duration_unit": "months",
                    "isp_recurring_invoicing_type": "pre-paid",
                    "taxes_id": [Command.clear()],
                    "company_id": company.id,
                }
            )
            .product_variant_id
        )
        cls.bank = cls.env["account.journal"].search(
            [("company_id", "=", company.id), ("type", "=", "bank")], limit=1
        )

    def setUp(self):
        super().setUp()
        with self.at.lock:
            self.at.accepted.clear()
            self.at.requests.clear()
        self.daraja_sim.requests.clear()

    # ------------------------------------------------------------------ helpers

    def _invoice(self, phone):
        """A Nairobi customer's PPPoE subscription and its first invoice, due today."""
        partner = self.env["res.partner"].create(
            {
                "name": f"Wanjiku {phone[-3:]}",
                "phone": phone,
                "is_isp_customer": True,
                "company_id": self.ke_company.id,
            }
        )
        sub = (
            self.env["isp.subscription"]
            .with_company(self.ke_company)
            .create({"partner_id": partner.id, "bundle_id": self.home.id})
        )
        sub.action_activate()
        invoice = sub._invoice_period(sub._today())
        self.assertEqual(invoice.invoice_date_due, sub._today())
        self.assertEqual(invoice.amount_residual, 1500)
        return invoice

    def _run_dunning(self, days_after_due=0, local_hour=10):
        """The reminders cron at ``local_hour`` in Nairobi (UTC+3), ``days_after_due`` days
        after today; its commits recorded, not done."""
        today = self.env["isp.subscription"].with_company(self.ke_company)._today()
        now = datetime.combine(today + timedelta(days=days_after_due), time(local_hour - 3))
        with patch.object(type(self.env["ir.cron"]), "_commit_progress", lambda *a, **k: 60.0):
            self.env["isp.dunning.step"]._cron_isp_dunning(now=now)
        self.env.invalidate_all()

    def _run_sms_queue(self):
        with patch.object(type(self.env["ir.cron"]), "_commit_progress", lambda *a, **k: 60.0):
            self.env["sms.sms"].sudo()._process_queue()
        self.env.invalidate_all()

    def _stk_requests(self):
        return [
            json.loads(raw)
            for method, path, _headers, raw in self.daraja_sim.requests
            if method == "POST" and path.endswith(const.DARAJA_STK_PATH)
        ]

    def _texts(self, invoice):
        """The SMS the gateway took for ``invoice``'s customer that speak of it (not the
        login SMS of the activation)."""
        phone = invoice.partner_id.phone
        return [
            m["text"] for m in self.at.accepted if m["to"] == phone and invoice.name in m["text"]
        ]

    # ------------------------------------------------------------------ tests

    def test_prompt_and_sms_then_paid_on_the_prompt_and_nothing_more(self):
        invoice = self._invoice("+254712345601")
        partner = invoice.partner_id
        self.assertTrue(partner.isp_account_number)
        self._run_dunning()
        step = invoice.isp_dunning_step_ids
        self.assertEqual((step.day, step.state, step.push_state), (0, "sent", "sent"))
        self.assertTrue(step.sms_queued)
        # the prompt: the amount due, to the customer's phone, one transaction of this invoice
        [stk] = self._stk_requests()
        self.assertEqual((stk["Amount"], stk["PhoneNumber"]), (1500, 254712345601))
        tx = step.transaction_id
        self.assertEqual(
            (tx.state, tx.invoice_ids, tx.provider_id), ("pending", invoice, self.daraja)
        )
        self.assertEqual(tx.daraja_checkout_request_id and tx.isp_push_phone, "254712345601")
        # the SMS, sent through the company's gateway
        self._run_sms_queue()
        [text] = self._texts(invoice)
        due = invoice.invoice_date_due.strftime("%d/%m/%Y")
        self.assertEqual(
            text,
            f"Reminder: KSh 1,500 for your internet (invoice {invoice.name}, due {due}) is not "
            "paid yet. We sent an M-Pesa payment prompt to your phone: enter your PIN to pay. "
            f"Pay by M-Pesa Paybill 400200, account {partner.isp_account_number}.",
        )
        # the chatter says what went out
        notes = " ".join(invoice.message_ids.mapped("body"))
        self.assertIn("M-Pesa prompt for", notes)
        self.assertIn("reminder SMS queued for", notes)
        self.assertIn("M-Pesa prompt for", invoice.isp_subscription_id.message_ids[0].body)
        # the cron again, the same day: nothing more
        self._run_dunning(local_hour=11)
        self._run_sms_queue()
        self.assertEqual(len(self._stk_requests()), 1)
        self.assertEqual(len(self._texts(invoice)), 1)
        # the customer pays on the prompt: the invoice is paid and reconciled
        response = self._daraja_callback(tx, Amount=1500, MpesaReceiptNumber="TDU4RT61SV")
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(tx.state, "done")
        self.assertTrue(tx.payment_id)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertFalse(invoice.amount_residual)
        self.assertTrue(
            invoice.line_ids.filtered(lambda line: line.display_type == "payment_term").reconciled
        )
        # three days later: paid, no reminder
        self._run_dunning(days_after_due=3)
        self._run_sms_queue()
        self.assertEqual(len(invoice.isp_dunning_step_ids), 1)
        self.assertEqual(len(self._stk_requests()), 1)
        self.assertEqual(len(self._texts(invoice)), 1)

    def test_partial_payment_prompts_for_what_is_left(self):
        invoice = self._invoice("+254712345602")
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"journal_id": self.bank.id, "amount": 500})._create_payments()
        self.assertEqual(invoice.payment_state, "partial")
        self._run_dunning()
        [stk] = self._stk_requests()
        self.assertEqual(stk["Amount"], 1000)
        self.assertEqual(invoice.isp_dunning_step_ids.transaction_id.amount, 1000)
        self._run_sms_queue()
        [text] = self._texts(invoice)
        self.assertIn("KSh 1,000 for your internet", text)

    def test_provider_down_sends_the_sms_without_a_prompt(self):
        invoice = self._invoice("+254712345603")
        self.daraja_sim.fail_next("500", count=4)
        with self._short_timeouts():
            self._run_dunning()
        step = invoice.isp_dunning_step_ids
        self.assertEqual((step.state, step.push_state), ("sent", "failed"))
        self.assertEqual(step.transaction_id.state, "error")
        self.assertIn("the M-Pesa prompt failed", step.note)
        self._run_sms_queue()
        [text] = self._texts(invoice)
        self.assertNotIn("prompt", text, "no prompt was sent: the SMS does not say one was")
        self.assertTrue(
            text.endswith(
                f"is not paid yet. Pay by M-Pesa Paybill 400200, account "
                f"{invoice.partner_id.isp_account_number}."
            ),
            text,
        )
        # not tried again the same day
        self.daraja_sim.faults.clear()
        self._run_dunning(local_hour=15)
        self.assertEqual(len(invoice.isp_dunning_step_ids), 1)

    def test_push_off_sends_the_sms_only_in_swahili(self):
        self.env["res.lang"]._activate_lang("sw")
        self.env["ir.module.module"]._load_module_terms(["isp_sms"], ["sw"], overwrite=True)
        self.ke_company.isp_dunning_push = False
        invoice = self._invoice("+254712345604")
        invoice.partner_id.lang = "sw"
        self._run_dunning()
        self.assertFalse(self._stk_requests())
        self.assertEqual(invoice.isp_dunning_step_ids.push_state, "none")
        self._run_sms_queue()
        [text] = self._texts(invoice)
        due = invoice.invoice_date_due.strftime("%d/%m/%Y")
        self.assertEqual(
            text,
            f"Kumbusho: KSh 1,500 za intaneti yako (ankara {invoice.name}, ya kulipwa {due}) "
            "bado hazijalipwa. Lipa kwa M-Pesa Paybill 400200, akaunti "
            f"{invoice.partner_id.isp_account_number}.",
        )
