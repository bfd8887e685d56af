"""Mark as Sold under real concurrency: committed data in a company of its own, each sale in
its own thread and database transaction, run the way Odoo runs a request
(``odoo.service.model.retrying``: retried on serialization failures, committed at the end)."""

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.service.model import retrying
from odoo.tests import tagged

from .common import IspCommittedCase


@tagged("post_install", "-at_install")
class TestVoucherSoldConcurrency(IspCommittedCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with cls.registry.cursor() as cr:
            company, env = cls._create_company(
                api.Environment(cr, SUPERUSER_ID, {}), "Card Shop ISP"
            )
            batch = env["isp.voucher.batch"].create(
                {
                    "name": f"SOLD-RACE-{cls.tag}",
                    "quantity": 6,
                    "bundle_id": cls._create_bundle(env, company).id,
                    "company_id": company.id,
                }
            )
            batch.action_generate()
            cls.company_id = company.id
            cls.batch_id = batch.id
            cls.voucher_ids = batch.voucher_ids.sorted("id").ids
            cls.journal_id = company._isp_cash_journal().id

    def _sell_concurrently(self, calls):
        """Each list of voucher ids sold in its own thread and transaction, all started
        together. Returns the invoice id or the refusal's message for each."""

        def worker(barrier, voucher_ids):
            with self.registry.cursor() as cr:
                env = self._env(cr)
                journal = env["account.journal"].browse(self.journal_id)

                def sell():
                    try:
                        return env["isp.voucher"].browse(voucher_ids)._sell(journal).id
                    except UserError as error:
                        return error.args[0]

                barrier.wait(timeout=60)
                return retrying(sell, env)

        return self._at_once(worker, [(ids,) for ids in calls])

    def test_concurrent_sales_of_the_same_codes_book_one_invoice(self):
        first = self.voucher_ids[:3]
        # three clicks on the same codes, and one overlapping them
        results = self._sell_concurrently([first, first, first, self.voucher_ids[2:4]])
        invoices = [r for r in results if isinstance(r, int)]
        refusals = [r for r in results if isinstance(r, str)]
        self.assertEqual(len(invoices), 1, results)
        self.assertEqual(len(refusals), 3, results)
        self.assertTrue(all("already sold" in r for r in refusals), results)
        with self.registry.cursor() as cr:
            env = self._env(cr)
            vouchers = env["isp.voucher"].browse(self.voucher_ids)
            sold = vouchers.filtered("is_sold")
            moves = vouchers.sale_move_id
            self.assertEqual(moves.ids, invoices)
            self.assertIn(len(sold), (2, 3), "the first sale won: its codes only")
            self.assertEqual(moves.amount_total, 1000 * len(sold))
            self.assertEqual(moves.payment_state, "paid")
            self.assertEqual(
                env["account.move"].search_count(
                    [("company_id", "=", self.company_id), ("move_type", "=", "out_invoice")]
                ),
                1,
            )

    def test_first_sales_of_a_company_at_once_share_one_sales_customer(self):
        with self.registry.cursor() as cr:
            company, env = self._create_company(
                api.Environment(cr, SUPERUSER_ID, {}), "Card Shop ISP 2"
            )
            batch = env["isp.voucher.batch"].create(
                {
                    "name": f"SOLD-FIRST-{self.tag}",
                    "quantity": 2,
                    "bundle_id": self._create_bundle(env, company).id,
                    "company_id": company.id,
                }
            )
            batch.action_generate()
            ids = batch.voucher_ids.ids
            # this test's company: _env and _sell_concurrently work in it
            self.company_id = company.id
            self.journal_id = company._isp_cash_journal().id
        results = self._sell_concurrently([ids[:1], ids[1:]])
        self.assertTrue(all(isinstance(r, int) for r in results), results)
        with self.registry.cursor() as cr:
            env = self._env(cr)
            customers = env["account.move"].browse(results).partner_id
            self.assertEqual(len(customers), 1, "one Voucher Sales customer")
            self.assertEqual(
                env["res.partner"].search_count(
                    [("ref", "=", "ISP-VOUCHER-SALES"), ("company_id", "=", company.id)]
                ),
                1,
            )
