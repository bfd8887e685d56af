from unittest.mock import patch

from odoo.tests import tagged

from .common import IspPaymentCase


@tagged("post_install", "-at_install")
class TestPaymentTransaction(IspPaymentCase):
    """Any provider's confirmed transaction for a bundle fulfils it exactly once, with the
    invoice paid by the payment Odoo's flow creates for the transaction."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls._customer("0712345678")

    def _tx(self, reference, bundle=None, amount=1000, **values):
        values = {"isp_bundle_id": (bundle or self.daily).id, **values}
        return self._test_transaction(reference, self.customer, amount, **values)

    def _confirm(self, tx, provider_reference="QWE123RTY"):
        tx.provider_reference = provider_reference
        tx._set_done()
        tx._post_process()

    def test_confirmed_transaction_activates_with_reconciled_invoice(self):
        tx = self._tx("HS-0001")
        self._confirm(tx, "NLJ7RT61SV")
        sub = tx.isp_subscription_id
        self.assertEqual(sub.state, "active")
        self.assertEqual(sub.partner_id, self.customer)
        self.assertEqual(sub.source_reference, "HS-0001")
        invoice = tx.isp_purchase_id.invoice_id
        self.assertEqual(tx.invoice_ids, invoice)
        self.assertEqual(invoice.amount_total, 1000)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(tx.payment_id.journal_id, self.journal)
        self.assertIn("NLJ7RT61SV", tx.payment_id.memo, "the receipt number is on the payment")
        self.assertTrue(
            invoice.line_ids.filtered(lambda line: line.display_type == "payment_term").reconciled
        )

    def test_post_processing_again_changes_nothing(self):
        tx = self._tx("HS-0002")
        self._confirm(tx)
        expiry = tx.isp_subscription_id.date_expiry
        for _i in range(3):
            tx._post_process()
        self.assertEqual(tx.isp_subscription_id.date_expiry, expiry)
        self.assertEqual(len(self.customer.isp_subscription_ids.invoice_ids), 1)
        self.assertEqual(
            self.env["account.payment"].search_count([("payment_transaction_id", "=", tx.id)]), 1
        )

    def test_pending_or_failed_transactions_give_nothing(self):
        pending = self._tx("HS-0003")
        pending._set_pending()
        pending._post_process()
        failed = self._tx("HS-0004")
        failed._set_error("Insufficient funds")
        failed._post_process()
        cancelled = self._tx("HS-0005")
        cancelled._set_canceled()
        cancelled._post_process()
        self.assertFalse(self.customer.isp_subscription_ids)
        self.assertFalse((pending | failed | cancelled).isp_purchase_id)

    def test_short_payment_gives_no_access_but_keeps_the_money_visible(self):
        tx = self._tx("HS-0006", amount=900)
        self._confirm(tx)
        self.assertFalse(tx.isp_purchase_id)
        self.assertFalse(self.customer.isp_subscription_ids)
        self.assertIn("not applied", tx.state_message)
        self.assertEqual(tx.payment_id.amount, 900, "the payment is recorded for staff")
        self.assertFalse(
            self.env["account.move"].search(
                [("ref", "=", "HS-0006"), ("move_type", "=", "out_invoice")]
            )
        )

    def test_transaction_without_bundle_is_left_alone(self):
        tx = self._tx("HS-0007", isp_bundle_id=False)
        self._confirm(tx)
        self.assertFalse(tx.isp_purchase_id)
        self.assertFalse(self.customer.isp_subscription_ids)

    def test_confirmation_gives_access_at_once_invoice_follows(self):
        tx = self._tx("HS-0010")
        tx.provider_reference = "RCPT0010"
        tx._set_done()
        purchase = tx.isp_purchase_id
        self.assertEqual(tx.isp_subscription_id.state, "active", "online when confirmed")
        self.assertEqual(purchase.amount, 1000)
        self.assertEqual(tx.isp_invoice_status, "to_invoice")
        self.assertFalse(tx.invoice_ids)
        self.assertFalse(tx.payment_id)
        # Odoo's post-processing cron (woken at once): invoice, payment, reconciliation
        self.assertTrue(self._post_processing_triggers())
        self._run_post_processing_cron()
        invoice = purchase.invoice_id
        self.assertEqual(tx.isp_invoice_status, "invoiced")
        self.assertEqual(tx.invoice_ids, invoice)
        self.assertTrue(tx.is_post_processed)
        self.assertEqual(invoice.payment_state, "paid")
        self.assertEqual(tx.payment_id.journal_id, self.journal)
        self.assertIn("RCPT0010", tx.payment_id.memo)
        # whoever comes next (the cron, the status page's post-processing) changes nothing
        self._run_post_processing_cron()
        tx._post_process()
        self.assertEqual(len(self.customer.isp_subscription_ids.invoice_ids), 1)
        self.assertEqual(
            self.env["account.payment"].search_count([("payment_transaction_id", "=", tx.id)]), 1
        )

    def test_broken_accounting_keeps_access_and_holds_the_payment_until_invoiced(self):
        sale_journals = self.env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", self.company.id)]
        )
        sale_journals.action_archive()
        tx = self._tx("HS-0011")
        self._confirm(tx, "RCPT0011")
        self.assertEqual(tx.isp_subscription_id.state, "active")
        self.assertEqual(tx.isp_invoice_status, "to_invoice")
        self.assertTrue(tx.isp_invoice_error, "the error is there for staff")
        self.assertFalse(tx.payment_id, "no payment without its invoice")
        self.assertFalse(tx.is_post_processed, "Odoo's post-processing cron retries it")
        self._run_post_processing_cron()  # still broken: still waiting
        self.assertFalse(tx.payment_id)
        sale_journals.action_unarchive()
        self._run_post_processing_cron()
        self.assertEqual(tx.isp_purchase_id.invoice_id.payment_state, "paid")
        self.assertIn("RCPT0011", tx.payment_id.memo)
        self.assertTrue(tx.is_post_processed)
        self.assertFalse(tx.isp_invoice_error)

    def test_paid_before_invoiced_reconciles_with_that_payment(self):
        """A transaction whose payment exists already (post-processed before its invoice
        could be issued) gets its invoice reconciled with that payment, not a second one."""
        tx = self._tx("HS-0012")
        tx._set_done()
        tx.with_company(tx.company_id)._create_payment()
        self._run_post_processing_cron()
        self.assertEqual(tx.isp_purchase_id.invoice_id.payment_state, "paid")
        self.assertEqual(
            self.env["account.payment"].search_count([("payment_transaction_id", "=", tx.id)]), 1
        )

    def test_transactions_post_processed_together(self):
        """Confirmed transactions post-processed as one recordset get their invoices
        together: each its own invoice, paid by its own payment carrying its receipt number,
        reconciled; Odoo's post-processing afterwards changes nothing."""
        customers = [self._customer(f"07123460{n:02d}") for n in range(3)]
        txs = self.env["payment.transaction"]
        for n, customer in enumerate(customers):
            tx = self._tx(f"HS-B{n}", partner_id=customer.id)
            tx.provider_reference = f"RCPTB{n}"
            tx._set_done()
            txs |= tx
        self.assertEqual(set(txs.mapped("isp_invoice_status")), {"to_invoice"})
        Move = type(self.env["account.move"])
        posted = []
        original_post = Move.action_post

        def counting_post(moves):
            posted.append(len(moves))
            return original_post(moves)

        with patch.object(Move, "action_post", counting_post):
            txs._post_process()
        self.assertEqual(posted[0], 3, "the batch's invoices are posted together")
        for n, tx in enumerate(txs):
            invoice = tx.isp_purchase_id.invoice_id
            self.assertEqual(tx.invoice_ids, invoice)
            self.assertEqual(invoice.partner_id, customers[n])
            self.assertEqual(invoice.payment_state, "paid")
            self.assertIn(f"RCPTB{n}", tx.payment_id.memo)
            self.assertTrue(tx.is_post_processed)
        self.assertEqual(len(txs.payment_id), 3)
        txs._post_process()
        self._run_post_processing_cron()
        self.assertEqual(
            self.env["account.payment"].search_count([("payment_transaction_id", "in", txs.ids)]),
            3,
        )
