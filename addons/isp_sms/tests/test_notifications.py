from datetime import timedelta
from unittest.mock import patch

from psycopg2.errors import CheckViolation

from odoo.tests import tagged

from .common import IspSmsCase


@tagged("post_install", "-at_install")
class TestNotifications(IspSmsCase):
    def _thread_bodies(self, partner):
        """SMS posted in chatters (not the credentials, which stay out of them)."""
        return self._sms_of(partner).filtered("mail_message_id").mapped("body")

    def test_payment_confirmation_once(self):
        partner = self._customer("+255712300001")
        purchase = self._fulfil(partner, self.daily, "TX-1")
        self._fulfil(partner, self.daily, "TX-1")  # repeated callback: no new SMS
        bodies = self._thread_bodies(partner)
        self.assertEqual(len(bodies), 1, bodies)
        end = purchase.isp_sms_end
        self.assertEqual(
            bodies[0],
            "Payment confirmed! TSh 1,000 received. Your internet access is now active for "
            f"1 day, until {end}. Thank you!",
        )
        # posted in the subscription's chatter, to the customer, its delivery status tracked
        subscription = purchase.subscription_id
        message = self._sms_of(partner).mail_message_id
        self.assertEqual((message.model, message.res_id), (subscription._name, subscription.id))
        self.assertEqual(message.message_type, "sms")
        self.assertEqual(message.notification_ids.res_partner_id, partner)
        self.assertEqual(message.notification_ids.notification_type, "sms")
        # first activation: the login SMS, with the password, outside the chatter
        credentials = self._sms_of(partner) - self._sms_of(partner).filtered("mail_message_id")
        self.assertEqual(len(credentials), 1)
        self.assertIn(subscription.sudo().password, credentials.body)
        self.assertIn(subscription.login, credentials.body)
        self.assertFalse(
            any(subscription.sudo().password in (m.body or "") for m in subscription.message_ids),
            "the password never lands in the chatter",
        )
        self._run_sms_queue()
        self.assertEqual(len(self.nextsms.accepted), 2)

    def test_swahili_customer(self):
        partner = self._customer("+255712300002", lang="sw")
        purchase = self._fulfil(partner, self.weekly, "TX-2")
        bodies = self._thread_bodies(partner)
        self.assertEqual(
            bodies,
            [
                "Malipo yamethibitishwa! TSh 6,000 yamepokelewa. Huduma yako ya intaneti sasa "
                f"iko hai kwa siku 7, hadi {purchase.isp_sms_end}. Asante!"
            ],
        )
        credentials = self._sms_of(partner).filtered(lambda s: not s.mail_message_id)
        self.assertTrue(credentials.body.startswith("Karibu!"), credentials.body)

    def test_voucher_and_renewal(self):
        partner = self._customer("+255712300003")
        first = self._fulfil(partner, self.daily, "VOUCHER-1", source="voucher", invoice=False)
        second = self._fulfil(partner, self.weekly, "TX-3")
        bodies = self._thread_bodies(partner)
        self.assertEqual(len(bodies), 2)
        self.assertTrue(bodies[0].startswith("Voucher VOUCHER-1 redeemed!"), bodies[0])
        self.assertEqual(
            bodies[1],
            "Renewal confirmed! TSh 6,000 received. Your internet access is extended by 7 days,"
            f" until {second.isp_sms_end}. Thank you!",
        )
        self.assertEqual(first.subscription_id, second.subscription_id)

    def test_access_without_money_received_does_not_say_received(self):
        """A free grant and a manual sale not paid yet give access without "Payment
        confirmed ... received"; a cash sale paid at the counter says it was received."""
        free = self._customer("+255712300031")
        grant = self._fulfil(free, self.daily, "MAN-1", source="manual", invoice=False)
        unpaid = self._customer("+255712300032", lang="sw")
        sale = self._fulfil(unpaid, self.weekly, "MAN-2", source="manual", journal=None)
        self.assertEqual(sale.invoice_id.payment_state, "not_paid")
        cash = self._customer("+255712300033")
        paid = self._fulfil(cash, self.daily, "MAN-3", source="manual", journal=self.journal)
        self.assertIn(paid.invoice_id.payment_state, ("paid", "in_payment"))
        self.assertEqual(
            self._thread_bodies(free),
            [f"Your internet access is active for 1 day, until {grant.isp_sms_end}."],
        )
        self.assertEqual(
            self._thread_bodies(unpaid),
            [f"Huduma yako ya intaneti iko hai kwa siku 7, hadi {sale.isp_sms_end}."],
        )
        self.assertEqual(
            self._thread_bodies(cash),
            [
                "Payment confirmed! TSh 1,000 received. Your internet access is now active for "
                f"1 day, until {paid.isp_sms_end}. Thank you!"
            ],
        )
        # a free grant added to a running period: no "Renewal confirmed ... received" either
        again = self._fulfil(free, self.daily, "MAN-4", source="manual", invoice=False)
        self.assertTrue(again.renewal)
        self.assertEqual(
            self._thread_bodies(free)[-1],
            f"Your internet access is active for 1 day, until {again.isp_sms_end}.",
        )

    def test_reactivation_after_expiry_is_a_payment(self):
        partner = self._customer("+255712300010")
        subscription = self._fulfil(partner, self.daily, "TX-10").subscription_id
        subscription.write(
            {
                "date_start": self._now() - timedelta(days=1),
                "date_expiry": self._now() - timedelta(minutes=1),
            }
        )
        self._run_expiry_cron()
        again = self._fulfil(partner, self.weekly, "TX-10-AGAIN")
        self.assertEqual(again.subscription_id, subscription)
        bodies = self._thread_bodies(partner)
        self.assertTrue(bodies[-1].startswith("Payment confirmed! TSh 6,000"), bodies[-1])
        self.assertEqual(len(self._sms_of(partner).filtered(lambda s: not s.mail_message_id)), 1)

    def test_expiry_and_suspension(self):
        partner = self._customer("+255712300004")
        purchase = self._fulfil(partner, self.daily, "TX-4")
        subscription = purchase.subscription_id
        subscription.action_suspend()
        self.assertEqual(
            self._thread_bodies(partner)[-1],
            "Your internet access has been suspended. Please contact us for help.",
        )
        subscription.action_resume()
        count = len(self._sms_of(partner))
        subscription.write(
            {
                "date_start": self._now() - timedelta(days=1),
                "date_expiry": self._now() - timedelta(minutes=1),
            }
        )
        self._run_expiry_cron()
        self._run_expiry_cron()
        new = self._sms_of(partner)[count:]
        self.assertEqual(len(new), 1, new.mapped("body"))
        self.assertTrue(new.body.startswith("Your internet access expired on"), new.body)

    def test_pppoe_credentials(self):
        partner = self._customer("+255712300005")
        purchase = self._fulfil(partner, self.pppoe, "TX-5")
        credentials = self._sms_of(partner).filtered(lambda s: not s.mail_message_id)
        self.assertTrue(credentials.body.startswith("Welcome! Your PPPoE login"), credentials.body)
        self.assertIn(purchase.subscription_id.login, credentials.body)

    def test_sms_failure_never_fails_billing(self):
        partner = self._customer("+255712300006")
        with patch(
            "odoo.addons.isp_sms.models.isp_subscription.IspSubscription._sms_post",
            side_effect=ValueError("template broken"),
        ):
            purchase = self._fulfil(partner, self.daily, "TX-6")
        self.assertEqual(purchase.subscription_id.state, "active")
        self.assertFalse(self._thread_bodies(partner))

    def test_customer_without_phone(self):
        partner = self.env["res.partner"].create(
            {"name": "No phone", "is_isp_customer": True, "company_id": self.company.id}
        )
        purchase = self._fulfil(partner, self.daily, "TX-7")
        self.assertEqual(purchase.subscription_id.state, "active")
        self.assertFalse(self._sms_of(partner))

    def test_broken_billing_change_is_not_swallowed(self):
        """The SMS hook never fails a billing change, but it must not hide the change's own
        database error either (which would leave the transaction aborted)."""
        partner = self._customer("+255712300009")
        subscription = self._fulfil(partner, self.daily, "TX-9").subscription_id
        with self.assertRaises(CheckViolation), self.cr.savepoint():
            # expiry before start violates the subscription's CHECK constraint
            subscription.write(
                {"date_start": self._now(), "date_expiry": self._now() - timedelta(days=2)}
            )
            subscription.action_suspend()
        self.assertEqual(subscription.state, "active")
