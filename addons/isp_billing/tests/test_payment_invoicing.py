from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import IspPaymentCase


@tagged("post_install", "-at_install")
class TestPaymentInvoicing(IspPaymentCase):
    """A confirmed bundle payment: access at once, the full amount checked against the
    invoice to be; the invoice issued by the transaction's post-processing (Odoo's
    post-processing cron, triggered at once), paid by the transaction's payment, exactly once;
    a broken accounting configuration never takes the access back, and Odoo's cron retries."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls._customer("0712345678")

    def _paid(self, reference, bundle=None, partner=None, amount=None):
        """A transaction for ``bundle`` confirmed with ``amount`` (its price by default)."""
        bundle = bundle or self.daily
        tx = self._test_transaction(
            reference,
            partner or self.customer,
            bundle.lst_price if amount is None else amount,
            isp_bundle_id=bundle.id,
        )
        tx.provider_reference = f"R-{reference}"
        tx._set_done()
        return tx

    def _invoices(self, partner=None):
        return self.env["account.move"].search(
            [("partner_id", "=", (partner or self.customer).id), ("move_type", "=", "out_invoice")]
        )

    def _archive_sale_journals(self):
        journals = self.env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", self.company.id)]
        )
        journals.action_archive()
        return journals

    def test_access_now_invoice_by_the_post_processing_once(self):
        triggers = self._post_processing_triggers()
        tx = self._paid("D-1")
        purchase = tx.isp_purchase_id
        sub = purchase.subscription_id
        self.assertEqual(sub.state, "active", "online before any invoice exists")
        self.assertEqual(purchase.amount, 1000, "the amount is known at once (dashboards)")
        self.assertEqual(purchase.invoice_status, "to_invoice")
        self.assertFalse(purchase.invoice_id)
        self.assertFalse(self._invoices())
        self.assertFalse(tx.is_post_processed)
        self.assertTrue(
            self._post_processing_triggers() - triggers,
            "Odoo's post-processing cron is woken up at once",
        )

        self._run_post_processing_cron()
        invoice = purchase.invoice_id
        self.assertEqual(purchase.invoice_status, "invoiced")
        self.assertEqual(tx.invoice_ids, invoice)
        self.assertTrue(tx.is_post_processed)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.amount_total, 1000)
        self.assertEqual(invoice.invoice_line_ids.tax_ids, self.vat)
        self.assertEqual(invoice.payment_state, "paid", "paid by the transaction's payment")
        self.assertIn("R-D-1", tx.payment_id.memo, "the receipt number is on the payment")
        receivable = invoice.line_ids.filtered(lambda line: line.display_type == "payment_term")
        self.assertTrue(receivable.reconciled)
        self.assertEqual(sub.invoice_ids, invoice)

        # the cron again, the confirmation again, the post-processing again: nothing more
        self._run_post_processing_cron()
        tx._set_done()
        tx._post_process()
        self.assertEqual(self.env["isp.purchase"].search([("reference", "=", "D-1")]), purchase)
        self.assertEqual(self._invoices(), invoice)
        self.assertEqual(
            self.env["account.payment"].search_count([("payment_transaction_id", "=", tx.id)]), 1
        )

    def test_wrong_amount_is_refused_before_anything_changes(self):
        for amount in (999, 500, 1001, 0.01, 847.46):
            with self.subTest(amount=amount):
                tx = self._paid(f"D-SHORT-{amount}", amount=amount)
                self.assertEqual(tx.isp_access_state, "not_applied")
                self.assertIn("no access", tx.isp_not_applied_reason)
                self.assertFalse(tx.isp_purchase_id)
        self.assertFalse(self.customer.isp_subscription_ids)
        self.assertFalse(self.env["isp.purchase"].search([("partner_id", "=", self.customer.id)]))
        self._run_post_processing_cron()
        self.assertFalse(self._invoices(), "no invoice for money that bought nothing")

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
                    due, currency = Purchase._invoice_total(partner, bundle, self.company)
                    self.assertEqual(currency, self.company.currency_id)
                    tx = self._paid(f"D-{partner.id}-{name}", bundle, partner, amount=due)
                    purchase = tx.isp_purchase_id
                    self.assertTrue(purchase, tx.isp_not_applied_reason)
                    tx._post_process()
                    self.assertEqual(purchase.invoice_status, "invoiced", purchase.invoice_error)
                    self.assertEqual(purchase.invoice_id.amount_total, due)
                    self.assertEqual(purchase.invoice_id.payment_state, "paid")
        # the fiscal position really changed what is due: the exempt customer pays no VAT
        excl = bundles["excluded"]
        gross, _currency = Purchase._invoice_total(self.customer, excl, self.company)
        net, _currency = Purchase._invoice_total(exempt_customer, excl, self.company)
        self.assertAlmostEqual(gross, 1158.84, places=2)
        self.assertAlmostEqual(net, 999, places=2)
        tx = self._paid("D-GROSS", excl, exempt_customer, amount=gross)
        self.assertEqual(tx.isp_access_state, "not_applied")
        due, _currency = Purchase._invoice_total(self.customer, bundles["two taxes"], self.company)
        self.assertAlmostEqual(due, 1234 * 1.175, places=2)

    def test_broken_accounting_keeps_access_records_the_error_and_retries(self):
        """A failing invoice leaves the transaction un-post-processed (no payment without its
        invoice), its error for staff: Odoo's cron retries it at each run, for 4 days after
        the payment was confirmed."""
        sale_journals = self._archive_sale_journals()
        with freeze_time("2026-03-01 10:00:00"):
            tx = self._paid("D-BROKEN")
            self._run_post_processing_cron()
        purchase = tx.isp_purchase_id
        self.assertEqual(purchase.subscription_id.state, "active", "a paid customer stays online")
        self.assertEqual(purchase.invoice_status, "to_invoice")
        self.assertFalse(purchase.invoice_id)
        self.assertTrue(purchase.invoice_error)
        self.assertEqual(tx.isp_invoice_error, purchase.invoice_error, "on the payment too")
        self.assertFalse(tx.is_post_processed, "Odoo's post-processing retries it")
        self.assertFalse(tx.payment_id, "no payment without its invoice")
        self.assertFalse(self._invoices(), "nothing half-done is left")
        # staff see it among the paid purchases not yet invoiced
        waiting = self.env["isp.purchase"].search(
            [("invoice_status", "=", "to_invoice"), ("invoice_error", "!=", False)]
        )
        self.assertIn(purchase, waiting)
        # still broken at the next run: still waiting, nothing half-done
        with freeze_time("2026-03-01 10:10:00"):
            self._run_post_processing_cron()
        self.assertFalse(tx.is_post_processed)
        self.assertFalse(self._invoices())
        # fixed: the next run issues it, paid
        sale_journals.action_unarchive()
        with freeze_time("2026-03-03 10:00:00"):
            self._run_post_processing_cron()
        self.assertEqual(purchase.invoice_status, "invoiced")
        self.assertFalse(purchase.invoice_error)
        self.assertEqual(purchase.invoice_id.payment_state, "paid")
        self.assertTrue(tx.is_post_processed)
        self.assertEqual(len(self._invoices()), 1)

    def test_retry_window_is_odoos_then_staff_retry(self):
        """Odoo's cron gives up 4 days after the confirmation; staff's Issue Invoice Now
        still works (after fixing what the error said)."""
        sale_journals = self._archive_sale_journals()
        with freeze_time("2026-03-01 10:00:00"):
            tx = self._paid("D-LATE")
            self._run_post_processing_cron()
        purchase = tx.isp_purchase_id
        sale_journals.action_unarchive()
        with freeze_time("2026-03-05 10:01:00"):
            self._run_post_processing_cron()
            self.assertEqual(purchase.invoice_status, "to_invoice", "past Odoo's retry window")
            self.assertTrue(purchase.action_isp_retry_invoicing())
        self.assertEqual(purchase.invoice_status, "invoiced")
        self.assertEqual(purchase.invoice_id.payment_state, "paid")
        self.assertTrue(tx.is_post_processed)

    def test_staff_retry_now(self):
        sale_journals = self._archive_sale_journals()
        tx = self._paid("D-RETRY")
        purchase = tx.isp_purchase_id
        tx._post_process()
        result = purchase.action_isp_retry_invoicing()
        self.assertEqual(result["params"]["type"], "danger", "still broken: said so")
        self.assertEqual(result["params"]["message"], purchase.invoice_error)
        sale_journals.action_unarchive()
        self.assertTrue(purchase.action_isp_retry_invoicing())
        self.assertEqual(purchase.invoice_id.payment_state, "paid")
        self.assertTrue(tx.is_post_processed)
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
        tx = self._paid("D-PRICE")
        purchase = tx.isp_purchase_id
        self.daily.list_price = 1200
        self._run_post_processing_cron()
        self.assertEqual(purchase.invoice_status, "to_invoice")
        self.assertIn("1,000", purchase.invoice_error)
        self.assertFalse(self._invoices())
        self.assertFalse(tx.payment_id)
        self.daily.list_price = 1000
        self._run_post_processing_cron()
        self.assertEqual(purchase.invoice_id.amount_total, 1000)
        self.assertEqual(purchase.invoice_id.payment_state, "paid")

    def test_other_modes_are_unchanged_and_bad_option_refused(self):
        now = self._fulfil(self.customer, self.daily, "D-NOW", amount=1000)
        self.assertEqual(now.invoice_status, "invoiced")
        free = self._fulfil(self.customer, self.daily, "D-FREE", invoice=False, amount=900)
        self.assertEqual((free.invoice_status, free.amount), ("no", 900))
        for option in ("later", "deferred"):
            with self.assertRaises(UserError):
                self._fulfil(self.customer, self.daily, f"D-BAD-{option}", invoice=option)

    def test_batch_invoiced_together_and_a_failing_purchase_does_not_block_it(self):
        """Odoo's post-processing cron takes the bundle payments waiting for their invoice
        together (one ``create``, one ``action_post`` for the batch); one whose invoice
        cannot be issued (its bundle's price changed since the payment) is set aside with its
        error, the others are invoiced and paid, each exactly once."""
        Move = type(self.env["account.move"])
        customers = [self._customer(f"07123450{n:02d}") for n in range(4)]
        txs = self.env["payment.transaction"].concat(
            *(
                self._paid(f"D-BATCH-{n}", self.weekly if n == 2 else self.daily, customer)
                for n, customer in enumerate(customers)
            )
        )
        creates = []
        original_create = Move.create

        def counting_create(moves, vals_list):
            records = original_create(moves, vals_list)
            creates.append(len(records))
            return records

        with patch.object(Move, "create", counting_create):
            self._run_post_processing_cron()
        self.assertEqual(creates[0], 4, "the batch's invoices are created in one call")
        for tx in txs:
            self.assertEqual(tx.isp_invoice_status, "invoiced")
            self.assertEqual(tx.isp_purchase_id.invoice_id.payment_state, "paid")
            self.assertTrue(tx.is_post_processed)

        # a price change hits the next batch's weekly purchase only
        later = self.env["payment.transaction"].concat(
            *(
                self._paid(f"D-BATCH-{n}", self.weekly if n == 6 else self.daily, customer)
                for n, customer in enumerate(customers, start=4)
            )
        )
        self.weekly.list_price = 6500
        self._run_post_processing_cron()
        failed, fine = later[2], later - later[2]
        self.assertEqual(failed.isp_invoice_status, "to_invoice")
        self.assertIn("6,000", failed.isp_invoice_error)
        self.assertFalse(failed.is_post_processed)
        self.assertFalse(failed.payment_id)
        self.assertEqual(failed.isp_subscription_id.state, "active", "still online")
        for tx in fine:
            self.assertEqual(tx.isp_purchase_id.invoice_id.payment_state, "paid")
            self.assertFalse(tx.isp_invoice_error)
            self.assertTrue(tx.is_post_processed)
        for n, customer in enumerate(customers):
            self.assertEqual(len(self._invoices(customer)), 1 if n == 2 else 2)
        self.assertEqual(
            self.env["account.payment"].search_count(
                [("payment_transaction_id", "in", (txs | later).ids)]
            ),
            7,
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
