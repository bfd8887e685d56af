from odoo import Command
from odoo.tests import new_test_user, tagged

from .common import IspSmsCase


@tagged("post_install", "-at_install")
class TestCounterSaleSms(IspSmsCase):
    """The counter sale's SMS: "Payment confirmed ... received" only for money received,
    the screen tells whether it was queued, and the chatter never says an SMS was sent
    when the gateway failed it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.desk = new_test_user(
            cls.env,
            login="sms-counter-desk",
            groups="isp_billing.group_isp_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.desk_env = cls.env(user=cls.desk, context={"allowed_company_ids": cls.company.ids})

    def _sell(self, phone, method, bundle=None, **vals):
        sale = self.desk_env["isp.counter.sale"].create(
            {
                "phone": phone,
                "customer_name": f"Customer {phone}",
                "bundle_id": (bundle or self.daily).id,
                "payment_method": method,
                **vals,
            }
        )
        sale.action_confirm()
        return sale

    def _confirmation(self, sale):
        """The confirmation SMS of the sale (in the subscription's chatter)."""
        return self._sms_of(sale.partner_id).filtered(
            lambda s: s.mail_message_id == sale.purchase_id.isp_sms_message_id
        )

    def test_sms_text_per_way_of_paying(self):
        cash = self._sell("0712400001", "cash")
        momo = self._sell(
            "0712400002",
            "mobile_money",
            mobile_journal=str(self.journal.id),
            receipt_code="SMS1234567",
        )
        unpaid = self._sell("0712400003", "unpaid")
        grant = self._sell("0712400004", "grant")
        for sale in (cash, momo):
            with self.subTest(way=sale.payment_method):
                self.assertEqual(
                    self._confirmation(sale).body,
                    "Payment confirmed! TSh 1,000 received. Your internet access is now "
                    f"active for 1 day, until {sale.purchase_id.isp_sms_end}. Thank you!",
                )
        for sale in (unpaid, grant):
            with self.subTest(way=sale.payment_method):
                body = self._confirmation(sale).body
                self.assertEqual(
                    body,
                    "Your internet access is active for 1 day, until "
                    f"{sale.purchase_id.isp_sms_end}.",
                )
                self.assertNotIn("received", body)
                self.assertNotIn("Payment", body)
        # the screen says it was queued, to which number
        for sale in (cash, momo, unpaid, grant):
            self.assertEqual(sale.isp_sms_status, "queued")
            self.assertEqual(sale.isp_sms_status_detail, sale.partner_id.phone)

    def test_screen_shows_sent_and_failed(self):
        ok = self._sell("0712400011", "cash")
        failing = self._sell("0712400012", "cash")
        self.nextsms.reject["255712400012"] = "REJECTED_DESTINATION"
        self._run_sms_queue()
        ok.invalidate_recordset()
        failing.invalidate_recordset()
        self.assertEqual(ok.isp_sms_status, "sent")
        self.assertEqual(failing.isp_sms_status, "failed")
        self.assertIn("REJECTED_DESTINATION", failing.isp_sms_status_detail)

    def test_credentials_note_says_queued_then_failed(self):
        """The login SMS (not copied in the chatter: it holds the password) is noted as
        queued, never as sent; the gateway's failure shows on that note."""
        sale = self._sell("0712400021", "cash", bundle=self.pppoe)
        subscription = sale.subscription_id.sudo()
        note = subscription.message_ids.filtered(lambda m: "Login credentials" in (m.body or ""))
        self.assertEqual(len(note), 1)
        self.assertIn("queued", note.body)
        self.assertNotIn("sent", note.body)
        self.assertNotIn(subscription.password, note.body)
        self.assertEqual(note.notification_ids.notification_type, "sms")
        self.assertEqual(note.notification_ids.notification_status, "ready")
        self.assertEqual(note.notification_ids.res_partner_id, sale.partner_id)
        # the gateway refuses the number: the note shows the failure, and why
        self.nextsms.reject["255712400021"] = "REJECTED_DESTINATION"
        self._run_sms_queue()
        note.invalidate_recordset()
        notification = note.notification_ids
        self.assertEqual(notification.notification_status, "exception")
        self.assertTrue(notification.failure_type)
        self.assertIn("REJECTED_DESTINATION", notification.failure_reason or "")
        # as the chatter reads it: a failed SMS notification on the note, no "sent" text
        formatted = subscription.with_user(self.desk).message_ids.filtered(
            lambda m: m.id == note.id
        )
        self.assertTrue(formatted.has_error)
        chatter_text = " ".join(subscription.message_ids.mapped("body"))
        self.assertNotIn("sent by SMS", chatter_text)
        # the credentials SMS itself failed, nothing claims otherwise
        credentials = self._sms_of(sale.partner_id).filtered(lambda s: not s.mail_message_id)
        self.assertEqual(credentials.state, "error")

    def test_credentials_note_follows_a_successful_send(self):
        sale = self._sell("0712400031", "unpaid", bundle=self.pppoe)
        note = sale.subscription_id.sudo().message_ids.filtered(
            lambda m: "Login credentials" in (m.body or "")
        )
        self._run_sms_queue()
        note.invalidate_recordset()
        self.assertIn(note.notification_ids.notification_status, ("pending", "sent"))
        self.assertFalse(note.has_error)
        self.assertTrue(
            any(sale.subscription_id.sudo().login in a["text"] for a in self.nextsms.accepted),
            self.nextsms.accepted,
        )
