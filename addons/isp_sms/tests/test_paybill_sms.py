"""SMS asking a customer to pay (expiry reminder, access expired) name the company's M-Pesa
Paybill and the customer's account number when the company has a Paybill, in the customer's
language; without a Paybill they say nothing of it."""

from datetime import timedelta

from odoo.tests import tagged

from .common import IspSmsCase


@tagged("post_install", "-at_install")
class TestPaybillSms(IspSmsCase):
    def _sms(self, subscription, template):
        subscription._sms_post(template)
        return self._sms_of(subscription.partner_id)[-1].body

    def test_reminder_and_expired_name_paybill_and_account(self):
        self.company.isp_paybill_number = "400200"
        subscription = self._subscription("+255712910001", self.daily, timedelta(hours=1))
        number = subscription.partner_id.isp_account_number
        self.assertTrue(number)
        self.assertEqual(
            self._sms(subscription, "isp_sms.sms_template_isp_expiry_warning"),
            f"Reminder: your internet access ends on {subscription.isp_sms_expiry}. Renew "
            f"early to stay connected. Pay by M-Pesa Paybill 400200, account {number}.",
        )
        self.assertEqual(
            self._sms(subscription, "isp_sms.sms_template_isp_access_expired"),
            f"Your internet access expired on {subscription.isp_sms_expiry}. Buy a bundle or "
            f"redeem a voucher to reconnect. Pay by M-Pesa Paybill 400200, account {number}.",
        )

    def test_reminder_by_the_cron_in_swahili(self):
        self.company.isp_paybill_number = "400200"
        subscription = self._subscription(
            "+255712910002", self.daily, timedelta(minutes=30), lang="sw"
        )
        self._run_reminders()
        number = subscription.partner_id.isp_account_number
        (sms,) = self._sms_of(subscription.partner_id).filtered(
            lambda s: s.body.startswith("Kumbusho")
        )
        self.assertTrue(
            sms.body.endswith(
                f"uendelee kuunganishwa. Lipa kwa M-Pesa Paybill 400200, akaunti {number}."
            ),
            sms.body,
        )

    def test_without_paybill_nothing_is_added(self):
        self.company.isp_paybill_number = False
        subscription = self._subscription("+255712910003", self.daily, timedelta(hours=1))
        body = self._sms(subscription, "isp_sms.sms_template_isp_expiry_warning")
        self.assertEqual(
            body,
            f"Reminder: your internet access ends on {subscription.isp_sms_expiry}. Renew "
            "early to stay connected.",
        )
        self.assertNotIn(subscription.partner_id.isp_account_number, body)
