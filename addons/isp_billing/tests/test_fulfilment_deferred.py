from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import IspBillingCase


@tagged("post_install", "-at_install")
class TestFulfilmentDeferred(IspBillingCase):
    """``invoice="deferred"``: access at once, the full amount checked against the invoice to
    be; the invoice (and its payment) issued by the invoicing job, exactly once, and a broken
    accounting configuration never takes the access back."""

    def setUp(self):
        super().setUp()
        self.customer = self._customer("0712345678")

    def _deferred(self, reference, bundle=None, partner=None, **kwargs):
        kwargs.setdefault("amount", (bundle or self.daily).lst_price)
        return self._fulfil(partner or self.customer, bundle or self.daily, reference,
                            invoice="deferred", **kwargs)  # fmt: skip

    def _invoices(self, partner=None):
        return self.env["account.move"].search(
            [("partner_id", "=", (partner or self.customer).id), ("move_type", "=", "out_invoice")]
        )

    def _triggered(self):
        cron = self.env.ref("isp_billing.ir_cron_isp_invoice_purchases")
        return self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])

    def test_access_now_invoice_by_the_job_once(self):
        triggers = self._triggered()
        purchase = self._deferred("D-1")
        sub = purchase.subscription_id
        self.assertEqual(sub.state, "active", "online before any invoice exists")
        self.assertEqual(purchase.amount, 1000, "the amount is known at once (dashboards)")
        self.assertEqual(purchase.invoice_status, "to_invoice")
        self.assertFalse(purchase.invoice_id)
        self.assertFalse(self._invoices())
        new_triggers = self._triggered() - triggers
        self.assertTrue(new_triggers, "the invoicing job is woken up at once")
        self.assertLessEqual(new_triggers[0].call_at, self._now())

        self._run_invoicing_cron()
        invoice = purchase.invoice_id
        self.assertEqual(purchase.invoice_status, "invoiced")
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.amount_total, 1000)
        self.assertEqual(invoice.invoice_line_ids.tax_ids, self.vat)
        self.assertEqual(invoice.payment_state, "paid", "paid through the journal given")
        receivable = invoice.line_ids.filtered(lambda line: line.display_type == "payment_term")
        self.assertTrue(receivable.reconciled)
        self.assertEqual(sub.invoice_ids, invoice)

        # the job again, the fulfilment again: nothing more
        self._run_invoicing_cron()
        self.assertEqual(self._deferred("D-1"), purchase)
        self._run_invoicing_cron()
        self.assertEqual(self._invoices(), invoice)
        self.assertEqual(self.env["account.payment"].search_count([("memo", "=", "D-1")]), 1)

    def test_wrong_amount_is_refused_before_anything_changes(self):
        for amount in (999, 500, 1001, 0, 847.46):
            with self.subTest(amount=amount), self.assertRaises(UserError) as caught:
                with self.cr.savepoint():
                    self._deferred(f"D-SHORT-{amount}", amount=amount)
            self.assertIn("no access", str(caught.exception))
        self.assertFalse(self.customer.isp_subscription_ids)
        self.assertFalse(self.env["isp.purchase"].search([("partner_id", "=", self.customer.id)]))

    def test_amount_check_follows_taxes_and_fiscal_positions_like_the_invoice(self):
        """The total computed before access equals the invoice issued later, whatever the
        tax setting: price-included, price-excluded, several taxes, a fiscal position of the
        customer mapping the tax, none."""
        excluded = self.env["account.tax"].create(
            {
                "name": "VAT 16% (excluded)",
                "amount": 16.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "price_include_override": "tax_excluded",
                "company_id": self.company.id,
            }
        )
        levy = self.env["account.tax"].create(
            {
                "name": "Levy 1.5%",
                "amount": 1.5,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "price_include_override": "tax_excluded",
                "company_id": self.company.id,
            }
        )
        zero = self.env["account.tax"].create(
            {
                "name": "Exempt 0%",
                "amount": 0.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "company_id": self.company.id,
            }
        )
        exempt = self.env["account.fiscal.position"].create(
            {"name": "Exempt customers", "company_id": self.company.id}
        )
        zero.fiscal_position_ids = [Command.link(exempt.id)]
        zero.original_tax_ids = [Command.set((self.vat | excluded).ids)]
        exempt_customer = self._customer("0712000999", property_account_position_id=exempt.id)
        bundles = {
            "included": self.daily,
            "excluded": self._bundle("Excl", 999, 1, "days", taxes_id=[Command.set(excluded.ids)]),
            "two taxes": self._bundle(
                "Two", 1234, 1, "days", taxes_id=[Command.set((excluded | levy).ids)]
            ),
            "no tax": self._bundle("Free tax", 700, 1, "days", taxes_id=[Command.clear()]),
        }
        Purchase = self.env["isp.purchase"]
        for partner in (self.customer, exempt_customer):
            for name, bundle in bundles.items():
                with self.subTest(partner=partner.name, bundle=name):
                    due, currency = Purchase._isp_invoice_total(partner, bundle, self.company)
                    self.assertEqual(currency, self.company.currency_id)
                    purchase = self._deferred(f"D-{partner.id}-{name}", bundle, partner, amount=due)
                    self._run_invoicing_cron()
                    self.assertEqual(purchase.invoice_status, "invoiced", purchase.invoice_error)
                    self.assertEqual(purchase.invoice_id.amount_total, due)
                    self.assertEqual(purchase.invoice_id.payment_state, "paid")
        # the fiscal position really changed what is due: the exempt customer pays no VAT
        excl = bundles["excluded"]
        gross, _currency = Purchase._isp_invoice_total(self.customer, excl, self.company)
        net, _currency = Purchase._isp_invoice_total(exempt_customer, excl, self.company)
        self.assertAlmostEqual(gross, 1158.84, places=2)
        self.assertAlmostEqual(net, 999, places=2)
        with self.assertRaises(UserError), self.cr.savepoint():
            self._deferred("D-GROSS", excl, exempt_customer, amount=gross)
        due, _currency = Purchase._isp_invoice_total(
            self.customer, bundles["two taxes"], self.company
        )
        self.assertAlmostEqual(due, 1234 * 1.175, places=2)

    def test_broken_accounting_keeps_access_records_the_error_and_retries(self):
        sale_journals = self.env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", self.company.id)]
        )
        sale_journals.action_archive()
        with freeze_time("2026-03-01 10:00:00"):
            purchase = self._deferred("D-BROKEN")
            self._run_invoicing_cron()
        sub = purchase.subscription_id
        self.assertEqual(sub.state, "active", "a paid customer stays online")
        self.assertEqual(purchase.invoice_status, "to_invoice")
        self.assertFalse(purchase.invoice_id)
        self.assertTrue(purchase.invoice_error)
        self.assertEqual(purchase.invoice_attempts, 1)
        self.assertEqual(str(purchase.invoice_next_try), "2026-03-01 10:01:00")
        self.assertFalse(self._invoices(), "nothing half-done is left")
        # staff see it among the paid purchases not yet invoiced
        waiting = self.env["isp.purchase"].search([("invoice_status", "=", "to_invoice")])
        self.assertIn(purchase, waiting)
        # not retried before its time; retried later, with a growing delay
        with freeze_time("2026-03-01 10:00:30"):
            self._run_invoicing_cron()
        self.assertEqual(purchase.invoice_attempts, 1)
        with freeze_time("2026-03-01 10:01:00"):
            self._run_invoicing_cron()
        self.assertEqual(purchase.invoice_attempts, 2)
        self.assertEqual(str(purchase.invoice_next_try), "2026-03-01 10:03:00")
        # fixed: the next run issues it, paid
        sale_journals.action_unarchive()
        with freeze_time("2026-03-01 10:03:00"):
            self._run_invoicing_cron()
        self.assertEqual(purchase.invoice_status, "invoiced")
        self.assertFalse(purchase.invoice_error)
        self.assertEqual(purchase.invoice_id.payment_state, "paid")
        self.assertEqual(len(self._invoices()), 1)

    def test_staff_retry_now(self):
        sale_journals = self.env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", self.company.id)]
        )
        sale_journals.action_archive()
        purchase = self._deferred("D-RETRY")
        self._run_invoicing_cron()
        result = purchase.action_isp_retry_invoicing()
        self.assertEqual(result["params"]["type"], "danger", "still broken: said so")
        self.assertEqual(purchase.invoice_attempts, 2)
        sale_journals.action_unarchive()
        self.assertTrue(purchase.action_isp_retry_invoicing())
        self.assertEqual(purchase.invoice_id.payment_state, "paid")
        user = self.env["res.users"].create(
            {
                "name": "ISP clerk",
                "login": "isp-clerk-deferred",
                "group_ids": [Command.set([self.env.ref("isp_billing.group_isp_user").id])],
            }
        )
        with self.assertRaises(UserError):
            purchase.with_user(user).action_isp_retry_invoicing()

    def test_price_changed_before_invoicing_is_an_error_not_a_wrong_invoice(self):
        purchase = self._deferred("D-PRICE")
        self.daily.list_price = 1200
        self._run_invoicing_cron()
        self.assertEqual(purchase.invoice_status, "to_invoice")
        self.assertIn("1,000", purchase.invoice_error)
        self.assertFalse(self._invoices())
        self.daily.list_price = 1000
        purchase.invoice_next_try = self._now() - timedelta(seconds=1)
        self._run_invoicing_cron()
        self.assertEqual(purchase.invoice_id.amount_total, 1000)

    def test_deferred_with_an_existing_payment_and_without_payment(self):
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.customer.id,
                "amount": 6000,
                "journal_id": self.journal.id,
                "memo": "CASH 42",
            }
        )
        payment.action_post()
        paid = self._deferred("D-PAY", self.weekly, journal=None, payment=payment)
        unpaid = self._deferred("D-UNPAID", journal=None)
        self._run_invoicing_cron()
        self.assertEqual(paid.invoice_id.payment_state, "paid")
        self.assertEqual(unpaid.invoice_id.payment_state, "not_paid")
        self.assertEqual(unpaid.invoice_id.state, "posted")

    def test_other_modes_are_unchanged_and_bad_option_refused(self):
        now = self._fulfil(self.customer, self.daily, "D-NOW", amount=1000)
        self.assertEqual(now.invoice_status, "invoiced")
        free = self._fulfil(self.customer, self.daily, "D-FREE", invoice=False, amount=900)
        self.assertEqual((free.invoice_status, free.amount), ("no", 900))
        with self.assertRaises(UserError):
            self._fulfil(self.customer, self.daily, "D-BAD", invoice="later")

    def test_batch_invoiced_together_and_a_failing_purchase_does_not_block_it(self):
        """One run of the job issues the batch's invoices together (one ``create``, one
        ``action_post``); a purchase whose invoice cannot be issued (its bundle's price
        changed since the payment) is set aside with its error, the others are invoiced
        and paid, each exactly once."""
        Move = type(self.env["account.move"])
        customers = [self._customer(f"07123450{n:02d}") for n in range(4)]
        purchases = [
            self._deferred(f"D-BATCH-{n}", self.weekly if n == 2 else self.daily, customer)
            for n, customer in enumerate(customers)
        ]
        creates = []
        original_create = Move.create

        def counting_create(moves, vals_list):
            records = original_create(moves, vals_list)
            creates.append(len(records))
            return records

        with patch.object(Move, "create", counting_create):
            self._run_invoicing_cron()
        self.assertEqual(creates[0], 4, "the batch's invoices are created in one call")
        for purchase in purchases:
            self.assertEqual(purchase.invoice_status, "invoiced")
            self.assertEqual(purchase.invoice_id.payment_state, "paid")

        # a price change hits the next batch's weekly purchase only
        later = [
            self._deferred(f"D-BATCH-{n}", self.weekly if n == 6 else self.daily, customer)
            for n, customer in enumerate(customers, start=4)
        ]
        self.weekly.list_price = 6500
        self._run_invoicing_cron()
        failed, fine = later[2], [later[0], later[1], later[3]]
        self.assertEqual(failed.invoice_status, "to_invoice")
        self.assertIn("6,000", failed.invoice_error)
        self.assertEqual(failed.subscription_id.state, "active", "still online")
        for purchase in fine:
            self.assertEqual(purchase.invoice_id.payment_state, "paid")
            self.assertFalse(purchase.invoice_error)
        for n, customer in enumerate(customers):
            self.assertEqual(len(self._invoices(customer)), 1 if n == 2 else 2)
        self.assertEqual(
            self.env["account.payment"].search_count([("memo", "like", "D-BATCH-")]), 7
        )

    def test_triggers_as_asked_and_one_wake_up_per_transaction(self):
        """Every trigger asked for is made with its own time (Odoo's mass mailing relies on
        it); the cron workers are woken once per transaction, whatever the triggers."""
        cron = self.env.ref("isp_billing.ir_cron_isp_expire_subscriptions")
        rows = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        now = fields.Datetime.now()
        earlier = now - timedelta(minutes=5)
        cron._trigger()
        cron._trigger(earlier)
        new = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]) - rows
        self.assertEqual(len(new), 2)
        self.assertIn(earlier, new.mapped("call_at"))

        with patch("odoo.addons.base.models.ir_cron.sql_db.db_connect") as connect:
            cron._notifydb()
            cron._notifydb()
            self.assertEqual(connect.call_count, 1)
            self.cr.postcommit.clear()  # the next transaction
            cron._notifydb()
            self.assertEqual(connect.call_count, 2)
        self.cr.postcommit.clear()
