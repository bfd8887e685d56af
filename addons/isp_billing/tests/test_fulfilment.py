from datetime import timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import IspBillingCase


@tagged("post_install", "-at_install")
class TestFulfilment(IspBillingCase):
    def setUp(self):
        super().setUp()
        self.customer = self._customer("0712345678")

    def test_paid_purchase_activates_and_invoices(self):
        purchase = self._fulfil(self.customer, self.daily, "TX-1", amount=1000)
        sub = purchase.subscription_id
        self.assertEqual(sub.state, "active")
        self.assertEqual(sub.partner_id, self.customer)
        self.assertEqual(sub.source, "payment")
        self.assertEqual(sub.source_reference, "TX-1")
        self.assertAlmostEqual(self._hours(sub.date_expiry - sub.date_start), 24)
        invoice = purchase.invoice_id
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.move_type, "out_invoice")
        self.assertEqual(invoice.partner_id, self.customer)
        self.assertEqual(invoice.amount_total, 1000)
        # 18% VAT included in TSh 1,000: 847.46 + 152.54
        self.assertAlmostEqual(invoice.amount_untaxed, 847.46, places=2)
        self.assertAlmostEqual(invoice.amount_tax, 152.54, places=2)
        self.assertEqual(invoice.invoice_line_ids.tax_ids, self.vat)
        self.assertEqual(invoice.payment_state, "paid")
        receivable = invoice.line_ids.filtered(lambda line: line.display_type == "payment_term")
        self.assertTrue(receivable.reconciled)
        payment = receivable.matched_credit_ids.credit_move_id.move_id.origin_payment_id
        self.assertEqual(payment.journal_id, self.journal)
        self.assertEqual(payment.amount, 1000)
        self.assertEqual(sub.invoice_ids, invoice)
        self.assertEqual(self.customer.isp_purchase_count, 1)

    def test_repeated_calls_give_one_period_and_one_invoice(self):
        first = self._fulfil(self.customer, self.daily, "TX-2", amount=1000)
        expiry = first.subscription_id.date_expiry
        for _i in range(5):
            again = self._fulfil(self.customer, self.daily, "TX-2", amount=1000)
            self.assertEqual(again, first)
        self.assertEqual(first.subscription_id.date_expiry, expiry)
        self.assertEqual(self.env["isp.purchase"].search_count([("reference", "=", "TX-2")]), 1)
        self.assertEqual(
            self.env["account.move"].search_count(
                [("ref", "=", "TX-2"), ("move_type", "=", "out_invoice")]
            ),
            1,
        )
        self.assertEqual(self.env["account.payment"].search_count([("memo", "=", "TX-2")]), 1)

    def test_same_reference_other_source_is_another_purchase(self):
        pay = self._fulfil(self.customer, self.daily, "ABCD-EFGH-JKLM")
        voucher = self._fulfil(self.customer, self.daily, "ABCD-EFGH-JKLM", source="voucher")
        self.assertNotEqual(pay, voucher)

    def test_buying_again_while_active_extends_from_expiry(self):
        with freeze_time("2026-03-01 10:00:00"):
            first = self._fulfil(self.customer, self.daily, "TX-3")
        sub = first.subscription_id
        with freeze_time("2026-03-01 20:00:00"):
            second = self._fulfil(self.customer, self.weekly, "TX-4")
        self.assertEqual(second.subscription_id, sub, "the same subscription is extended")
        self.assertEqual(second.date_start, first.date_end)
        self.assertEqual(str(sub.date_expiry), "2026-03-09 10:00:00")  # 1 day + 7 days
        self.assertEqual(str(sub.date_start), "2026-03-01 10:00:00")
        self.assertEqual(sub.bundle_id, self.weekly)
        self.assertEqual(len(sub.invoice_ids), 2)

    def test_shorter_purchase_extends_without_replacing_a_longer_plan(self):
        """Anyone may redeem a voucher or pay for a phone number: a Daily period added to
        a Weekly plan adds its day and leaves the Weekly plan (speed, devices, router
        profile) in place; a longer bundle still replaces a shorter one."""
        with freeze_time("2026-03-01 10:00:00"):
            sub = self._fulfil(self.customer, self.weekly, "TX-W1").subscription_id
        with freeze_time("2026-03-02 10:00:00"):
            daily = self._fulfil(self.customer, self.daily, "ABCD-DAY1", source="voucher")
        self.assertEqual(daily.subscription_id, sub)
        self.assertEqual(sub.bundle_id, self.weekly, "the Weekly plan stays")
        self.assertEqual(str(sub.date_expiry), "2026-03-09 10:00:00")  # 7 days + 1 day
        self.assertEqual(
            (str(daily.date_start), str(daily.date_end)),
            (
                "2026-03-08 10:00:00",
                "2026-03-09 10:00:00",
            ),
        )
        self.assertEqual(daily.bundle_id, self.daily, "the purchase says what was bought")
        # a bundle of the same period is a change of plan; a longer one an upgrade
        weekly_fast = self._bundle("Weekly fast", 9000, 7, "days", isp_download_kbps=8192)
        with freeze_time("2026-03-02 11:00:00"):
            self._fulfil(self.customer, weekly_fast, "TX-W2")
            self.assertEqual(sub.bundle_id, weekly_fast)
            self._fulfil(self.customer, self.monthly, "TX-M1")
        self.assertEqual(sub.bundle_id, self.monthly)
        self.assertEqual(str(sub.date_expiry), "2026-04-15 10:00:00")  # + 7 days + 30 days

    def test_buying_after_expiry_starts_now(self):
        with freeze_time("2026-03-01 10:00:00"):
            first = self._fulfil(self.customer, self.daily, "TX-5")
        sub = first.subscription_id
        with freeze_time("2026-03-05 08:00:00"):
            self._run_expiry_cron()
            self.assertEqual(sub.state, "expired")
            second = self._fulfil(self.customer, self.daily, "TX-6")
        self.assertEqual(second.subscription_id, sub)
        self.assertEqual(sub.state, "active")
        self.assertEqual(str(sub.date_start), "2026-03-05 08:00:00")
        self.assertEqual(str(sub.date_expiry), "2026-03-06 08:00:00")
        self.assertEqual(sub.login, "255712345678", "credentials are kept")

    def test_monthly_plan_uses_calendar_months(self):
        with freeze_time("2026-01-31 12:00:00"):
            purchase = self._fulfil(self.customer, self.pppoe, "TX-7")
        self.assertEqual(str(purchase.date_end), "2026-02-28 12:00:00")
        self.assertEqual(purchase.subscription_id.service_type, "pppoe")

    def test_hotspot_and_pppoe_are_separate_subscriptions(self):
        hotspot = self._fulfil(self.customer, self.daily, "TX-8").subscription_id
        pppoe = self._fulfil(self.customer, self.pppoe, "TX-9").subscription_id
        self.assertNotEqual(hotspot, pppoe)

    def test_data_caps_add_up_on_extension(self):
        capped = self._bundle("1 GB day", 500, 1, "days", isp_data_cap_mb=1024)
        sub = self._fulfil(self.customer, capped, "TX-10").subscription_id
        self._fulfil(self.customer, capped, "TX-11")
        self.assertEqual(sub.data_cap_mb, 2048)
        self._fulfil(self.customer, self.weekly, "TX-12")
        self.assertEqual(sub.data_cap_mb, 0, "an uncapped bundle lifts the cap")

    def test_wrong_amount_changes_nothing(self):
        for amount in (999, 500, 1001, 0):
            with self.subTest(amount=amount), self.assertRaises(UserError) as caught:
                with self.cr.savepoint():
                    self._fulfil(self.customer, self.daily, f"TX-SHORT-{amount}", amount=amount)
            self.assertIn("no access", str(caught.exception))
        self.assertFalse(self.customer.isp_subscription_ids)
        self.assertFalse(self.env["isp.purchase"].search([("partner_id", "=", self.customer.id)]))
        self.assertFalse(self.env["account.move"].search([("partner_id", "=", self.customer.id)]))

    def test_bad_inputs_are_refused(self):
        Purchase = self.env["isp.purchase"]
        service = self.env["product.product"].create({"name": "Not a bundle", "type": "service"})
        contact = self.env["res.partner"].create({"name": "Not a customer"})
        with self.assertRaises(UserError):
            Purchase._fulfil(self.customer, service, "payment", "X1")
        with self.assertRaises(UserError):
            Purchase._fulfil(contact, self.daily, "payment", "X2")
        with self.assertRaises(UserError):
            Purchase._fulfil(self.customer, self.daily, "cash", "X3")
        with self.assertRaises(UserError):
            Purchase._fulfil(self.customer, self.daily, "payment", "  ")
        self.assertFalse(self.customer.isp_subscription_ids)

    def test_manual_grant_without_invoice(self):
        purchase = self._fulfil(
            self.customer, self.daily, "MAN-1", source="manual", invoice=False, journal=None
        )
        self.assertEqual(purchase.subscription_id.state, "active")
        self.assertFalse(purchase.invoice_id)

    def test_unpaid_invoice_without_journal(self):
        purchase = self._fulfil(self.customer, self.daily, "MAN-2", source="manual", journal=None)
        self.assertEqual(purchase.invoice_id.state, "posted")
        self.assertEqual(purchase.invoice_id.payment_state, "not_paid")

    def test_reconcile_with_an_existing_payment(self):
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.customer.id,
                "amount": 6000,
                "journal_id": self.journal.id,
                "memo": "MPESA QWE123",
            }
        )
        payment.action_post()
        purchase = self._fulfil(self.customer, self.weekly, "TX-13", journal=None, payment=payment)
        self.assertEqual(purchase.invoice_id.payment_state, "paid")

    def test_manual_wizard_goes_through_fulfilment(self):
        sale = self.env["isp.counter.sale"].create(
            {
                "phone": self.customer.phone,
                "bundle_id": self.weekly.id,
                "payment_method": "mobile_money",
                "mobile_journal": str(self.journal.id),
                "receipt_code": "QWE1234RTY",
            }
        )
        sale.action_confirm()
        sub = sale.subscription_id
        self.assertEqual(sub.state, "active")
        self.assertEqual(sub.source, "manual")
        self.assertTrue(sub.source_reference.startswith("MAN/"))
        self.assertEqual(sub.invoice_ids.payment_state, "paid")

    def test_expired_customer_extension_after_expiry_in_the_past(self):
        with freeze_time("2026-03-01 10:00:00"):
            sub = self._fulfil(self.customer, self.daily, "TX-14").subscription_id
        # still "active" (cron not run yet) but past expiry: a new purchase starts now
        with freeze_time("2026-03-03 10:00:00"):
            self._fulfil(self.customer, self.daily, "TX-15")
        self.assertEqual(str(sub.date_start), "2026-03-03 10:00:00")
        self.assertEqual(sub.date_expiry - sub.date_start, timedelta(days=1))
