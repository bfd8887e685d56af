from datetime import date, datetime
from unittest.mock import patch

from freezegun import freeze_time
from psycopg2.errors import UniqueViolation

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import IspBillingCase, IspPaymentCase


class IspRecurringCase(IspBillingCase):
    """PPPoE plans billed monthly: a pre-paid and a post-paid bundle (TZS 50,000 a month, VAT
    included), in Dar es Salaam time (UTC+3)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.partner_id.tz = "Africa/Dar_es_Salaam"
        cls.company.write(
            {
                "isp_recurring_prorate": False,
                "isp_recurring_due_days": 7,
                "isp_recurring_grace_days": 3,
            }
        )
        cls.prepaid = cls._bundle(
            "Home Pre-paid",
            50000,
            1,
            "months",
            service_type="pppoe",
            isp_recurring_invoicing_type="pre-paid",
        )
        cls.postpaid = cls._bundle(
            "Home Post-paid",
            50000,
            1,
            "months",
            service_type="pppoe",
            isp_recurring_invoicing_type="post-paid",
        )

    def _subscribe(self, phone, bundle):
        partner = self._customer(phone)
        subscription = self.env["isp.subscription"].create(
            {"partner_id": partner.id, "bundle_id": bundle.id}
        )
        subscription.action_activate()
        return subscription

    def _run_billing(self, batch_size=200):
        reports = []

        def commit_progress(cron, processed=0, *, remaining=None, deactivate=False):
            reports.append((processed, remaining))
            return 60.0

        with patch.object(type(self.env["ir.cron"]), "_commit_progress", commit_progress):
            self.env["isp.subscription"]._cron_isp_recurring_billing(batch_size=batch_size)
        return reports

    def _pay(self, invoice):
        return (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": self.journal.id})
            ._create_payments()
        )

    @staticmethod
    def _utc(*args):
        return datetime(*args)


@tagged("post_install", "-at_install")
class TestRecurringInvoices(IspRecurringCase):
    def test_prepaid_invoices_each_month_at_its_start(self):
        with freeze_time("2026-01-10 07:00:00"):  # 10:00 in Dar es Salaam
            sub = self._subscribe("+255712700001", self.prepaid)
            self.assertEqual(sub.recurring_invoicing_type, "pre-paid")
            self.assertEqual(sub.recurring_date_start, date(2026, 1, 10))
            self.assertEqual(sub.recurring_next_date, date(2026, 1, 10))
            self._run_billing()
            self._run_billing()  # a second run on the same day bills nothing more
        invoice = sub.recurring_invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.partner_id, sub.partner_id)
        self.assertEqual(invoice.amount_total, 50000)
        self.assertEqual(
            (invoice.isp_period_start, invoice.isp_period_end),
            (date(2026, 1, 10), date(2026, 2, 9)),
        )
        self.assertEqual(invoice.invoice_date, date(2026, 1, 10))
        self.assertEqual(invoice.invoice_date_due, date(2026, 1, 17))
        self.assertIn("10", invoice.invoice_line_ids.name)
        self.assertEqual(invoice.invoice_line_ids.tax_ids, self.vat)
        self.assertEqual(sub.recurring_next_date, date(2026, 2, 10))
        self.assertEqual(sub.next_period_date_start, date(2026, 2, 10))
        self.assertEqual(sub.next_period_date_end, date(2026, 3, 9))

        self._pay(invoice)
        with freeze_time("2026-02-09 20:00:00"):  # Feb 9, 23:00 in Dar es Salaam
            self._run_billing()
        self.assertEqual(len(sub.recurring_invoice_ids), 1)
        with freeze_time("2026-02-09 22:00:00"):  # Feb 10, 01:00 there: billing days are local
            self._run_billing()
        second = sub.recurring_invoice_ids - invoice
        self.assertEqual(
            (second.isp_period_start, second.isp_period_end), (date(2026, 2, 10), date(2026, 3, 9))
        )
        # access runs to the end of the pre-paid period: Mar 10, 00:00 local = Mar 9, 21:00 UTC
        self.assertEqual(sub.date_expiry, self._utc(2026, 3, 9, 21, 0))
        self.assertEqual(sub.state, "active")

    def test_postpaid_invoices_the_day_after_the_period(self):
        with freeze_time("2026-01-10 07:00:00"):
            sub = self._subscribe("+255712700002", self.postpaid)
            self._run_billing()
        self.assertFalse(sub.recurring_invoice_ids, "post-paid: nothing billed up front")
        self.assertEqual(sub.recurring_next_date, date(2026, 2, 10))
        with freeze_time("2026-02-10 05:00:00"):
            self._run_billing()
        invoice = sub.recurring_invoice_ids
        self.assertEqual(
            (invoice.isp_period_start, invoice.isp_period_end),
            (date(2026, 1, 10), date(2026, 2, 9)),
        )
        self.assertEqual(invoice.invoice_date, date(2026, 2, 10))
        self.assertEqual(invoice.amount_total, 50000)
        self.assertEqual(sub.recurring_next_date, date(2026, 3, 10))
        # the customer goes on using the next period, billed when it ends
        self.assertEqual(sub.date_expiry, self._utc(2026, 3, 9, 21, 0))

    def test_prorated_first_period_then_calendar_months(self):
        self.company.isp_recurring_prorate = True
        with freeze_time("2026-01-10 07:00:00"):
            sub = self._subscribe("+255712700003", self.prepaid)
            self._run_billing()
        first = sub.recurring_invoice_ids
        self.assertEqual(
            (first.isp_period_start, first.isp_period_end), (date(2026, 1, 10), date(2026, 1, 31))
        )
        # 22 of January's 31 days
        self.assertAlmostEqual(first.amount_total, round(50000 * 22 / 31, 2), places=2)
        self.assertEqual(sub.recurring_next_date, date(2026, 2, 1))
        with freeze_time("2026-02-01 05:00:00"):
            self._run_billing()
        second = sub.recurring_invoice_ids - first
        self.assertEqual(
            (second.isp_period_start, second.isp_period_end), (date(2026, 2, 1), date(2026, 2, 28))
        )
        self.assertEqual(second.amount_total, 50000)
        self.assertEqual(sub.date_expiry, self._utc(2026, 2, 28, 21, 0))

    def test_postpaid_prorated(self):
        self.company.isp_recurring_prorate = True
        with freeze_time("2026-01-20 07:00:00"):
            sub = self._subscribe("+255712700004", self.postpaid)
            self._run_billing()
        self.assertEqual(sub.recurring_next_date, date(2026, 2, 1))
        with freeze_time("2026-02-01 05:00:00"):
            self._run_billing()
        invoice = sub.recurring_invoice_ids
        self.assertEqual(
            (invoice.isp_period_start, invoice.isp_period_end),
            (date(2026, 1, 20), date(2026, 1, 31)),
        )
        self.assertAlmostEqual(invoice.amount_total, round(50000 * 12 / 31, 2), places=2)
        self.assertEqual(sub.date_expiry, self._utc(2026, 2, 28, 21, 0))

    def test_period_paid_by_a_purchase_is_not_invoiced_again(self):
        with freeze_time("2026-01-10 07:00:00"):
            partner = self._customer("+255712700005")
            purchase = self._fulfil(partner, self.prepaid, "MP-PPPOE-1")
            sub = purchase.subscription_id
            self._run_billing()
        self.assertFalse(sub.recurring_invoice_ids)
        self.assertEqual(purchase.invoice_id.payment_state, "paid")
        self.assertEqual(sub.recurring_next_date, date(2026, 2, 10))
        with freeze_time("2026-02-10 07:00:00"):
            self._run_billing()
        invoice = sub.recurring_invoice_ids
        self.assertEqual(
            (invoice.isp_period_start, invoice.isp_period_end),
            (date(2026, 2, 10), date(2026, 3, 9)),
        )

    def test_billing_is_batched_and_committed(self):
        with freeze_time("2026-01-10 07:00:00"):
            subs = self.env["isp.subscription"]
            for i in range(5):
                subs |= self._subscribe(f"+25571271000{i}", self.prepaid)
            reports = self._run_billing(batch_size=2)
        self.assertEqual([r[0] for r in reports], [2, 2, 1])
        self.assertEqual(len(subs.recurring_invoice_ids), 5)

    def test_billing_end_stops_invoices_and_access_expires(self):
        with freeze_time("2026-01-10 07:00:00"):
            sub = self._subscribe("+255712700006", self.prepaid)
            sub.recurring_date_end = date(2026, 2, 20)
            self._run_billing()
        with freeze_time("2026-02-10 07:00:00"):
            self._run_billing()
        last = sub.recurring_invoice_ids.sorted("isp_period_start")[-1]
        # the last period is cut at the billing end and charged for its days
        self.assertEqual(
            (last.isp_period_start, last.isp_period_end), (date(2026, 2, 10), date(2026, 2, 20))
        )
        self.assertAlmostEqual(last.amount_total, round(50000 * 11 / 28, 2), places=2)
        for invoice in sub.recurring_invoice_ids:
            self._pay(invoice)
        with freeze_time("2026-02-21 07:00:00"):
            self._run_billing()
            self.assertFalse(sub.recurring_next_date)
            self.assertEqual(len(sub.recurring_invoice_ids), 2)
            self._run_expiry_cron()
        self.assertEqual(sub.state, "expired")

    def test_running_billing_is_not_expired_by_the_expiry_sweep(self):
        with freeze_time("2026-01-10 07:00:00"):
            sub = self._subscribe("+255712700007", self.postpaid)
        with freeze_time("2026-02-10 10:00:00"):  # past the activation's expiry, not yet billed
            self._run_expiry_cron()
            self.assertEqual(sub.state, "active")

    def test_only_invoicing_users_issue_the_next_invoice_over_rpc(self):
        """The button is for invoicing users; its method is public, and creates the invoice
        as superuser: an ISP user without invoicing rights calling it over RPC is refused."""
        with freeze_time("2026-01-10 07:00:00"):
            sub = self._subscribe("+255712700009", self.prepaid)
            before = sub.recurring_invoice_ids
            clerk = new_test_user(self.env, login="isp-clerk", groups="isp_billing.group_isp_user")
            with self.assertRaises(AccessError):
                sub.with_user(clerk).action_isp_invoice_next_period()
            self.assertEqual(sub.recurring_invoice_ids, before)
            accountant = new_test_user(
                self.env,
                login="isp-accountant",
                groups="isp_billing.group_isp_user,account.group_account_invoice",
            )
            sub.with_user(accountant).action_isp_invoice_next_period()
            self.assertEqual(len(sub.recurring_invoice_ids - before), 1)

    def test_one_invoice_per_period_even_when_billed_twice(self):
        with freeze_time("2026-01-10 07:00:00"):
            sub = self._subscribe("+255712700008", self.prepaid)
            sub.action_isp_invoice_next_period()
            invoice = sub.recurring_invoice_ids
            # a stale second attempt at the same period hits the unique index
            with (
                self.assertRaises(UniqueViolation),
                mute_logger("odoo.sql_db"),
                self.env.cr.savepoint(),
            ):
                sub._create_period_invoice(
                    date(2026, 1, 10), date(2026, 2, 9), 1.0, date(2026, 1, 10)
                )
            self.assertEqual(sub.recurring_invoice_ids, invoice)

    def test_hotspot_and_one_off_pppoe_are_not_billed(self):
        with freeze_time("2026-01-10 07:00:00"):
            hotspot = self._subscribe("+255712700009", self.daily)
            one_off = self._subscribe("+255712700010", self.pppoe)
            self._run_billing()
        self.assertFalse(hotspot.recurring_invoicing_type or one_off.recurring_invoicing_type)
        self.assertFalse((hotspot | one_off).recurring_invoice_ids)


@tagged("post_install", "-at_install")
class TestSuspension(IspRecurringCase, IspPaymentCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()

    def _overdue_subscription(self, phone):
        with freeze_time("2026-01-10 07:00:00"):
            sub = self._subscribe(phone, self.prepaid)
            self._run_billing()
        return sub, sub.recurring_invoice_ids

    def _state_changes(self):
        calls = []
        Subscription = type(self.env["isp.subscription"])
        original = Subscription._state_changed

        def spy(records, previous_states):
            calls.append({s.id: (previous_states[s.id], s.state) for s in records})
            return original(records, previous_states)

        return calls, patch.object(Subscription, "_state_changed", spy)

    def test_grace_then_suspend_then_staff_payment_reconnects(self):
        sub, invoice = self._overdue_subscription("+255712700020")
        self.assertEqual(invoice.invoice_date_due, date(2026, 1, 17))
        calls, spy = self._state_changes()
        with spy:
            with freeze_time("2026-01-20 07:00:00"):  # due + 3 days: still in the grace period
                self._run_billing()
                self.assertEqual(sub.state, "active")
                self.assertTrue(sub.recurring_overdue)
            with freeze_time("2026-01-21 07:00:00"):
                self._run_billing()
                self.assertEqual(sub.state, "suspended")
                self.assertEqual(calls, [{sub.id: ("active", "suspended")}])
                self.assertIn(invoice.name, sub.message_ids[0].body)
                self._run_billing()  # nothing more to do
                self.assertEqual(len(calls), 1)
                self._pay(invoice)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(sub.state, "active")
        self.assertEqual(calls[-1], {sub.id: ("suspended", "active")})

    def test_online_payment_reconnects(self):
        sub, invoice = self._overdue_subscription("+255712700021")
        with freeze_time("2026-01-21 07:00:00"):
            self._run_billing()
            self.assertEqual(sub.state, "suspended")
            tx = self._test_transaction(
                "INV-ONLINE-1",
                sub.partner_id,
                invoice.amount_residual,
                currency_id=invoice.currency_id.id,
                invoice_ids=[Command.set(invoice.ids)],
            )
            tx._set_done()
            tx._post_process()
        self.assertTrue(tx.payment_id)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(sub.state, "active")

    def test_partial_payment_keeps_suspension(self):
        sub, invoice = self._overdue_subscription("+255712700022")
        with freeze_time("2026-01-21 07:00:00"):
            self._run_billing()
            self.env["account.payment.register"].with_context(
                active_model="account.move", active_ids=invoice.ids
            ).create({"journal_id": self.journal.id, "amount": 10000})._create_payments()
        self.assertEqual(invoice.payment_state, "partial")
        self.assertEqual(sub.state, "suspended")

    def test_paying_one_of_two_overdue_invoices_keeps_suspension(self):
        sub, first = self._overdue_subscription("+255712700023")
        with freeze_time("2026-02-10 07:00:00"):
            self._run_billing()
        second = sub.recurring_invoice_ids - first
        with freeze_time("2026-02-21 07:00:00"):
            self._run_billing()
            self.assertEqual(sub.state, "suspended")
            self._pay(first)
            self.assertEqual(sub.state, "suspended", "February is still overdue")
            self._pay(second)
            self.assertEqual(sub.state, "active")

    def test_paid_in_time_is_never_suspended(self):
        sub, invoice = self._overdue_subscription("+255712700024")
        with freeze_time("2026-01-15 07:00:00"):
            self._pay(invoice)
        with freeze_time("2026-01-25 07:00:00"):
            self._run_billing()
        self.assertEqual(sub.state, "active")

    def test_suspended_subscription_keeps_being_billed(self):
        sub, first = self._overdue_subscription("+255712700025")
        with freeze_time("2026-01-21 07:00:00"):
            self._run_billing()
        with freeze_time("2026-02-10 07:00:00"):
            self._run_billing()
        self.assertEqual(sub.state, "suspended")
        self.assertEqual(len(sub.recurring_invoice_ids), 2)
        # paying everything reconnects, and access runs to the end of the billed period
        with freeze_time("2026-02-12 07:00:00"):
            for invoice in sub.recurring_invoice_ids:
                self._pay(invoice)
            self.assertEqual(sub.state, "active")
        self.assertEqual(sub.date_expiry, self._utc(2026, 3, 9, 21, 0))

    def test_payment_does_not_resume_a_subscription_suspended_by_staff(self):
        sub, invoice = self._overdue_subscription("+255712700026")
        with freeze_time("2026-01-15 07:00:00"):
            sub.action_suspend()  # e.g. abuse: not a billing suspension
            self._pay(invoice)
        self.assertEqual(sub.state, "suspended")
