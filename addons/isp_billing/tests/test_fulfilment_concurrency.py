"""Exactly-once fulfilment under real concurrency: separate database transactions in threads,
each run the way Odoo runs a request (``odoo.service.model.retrying``: retried on
serialization failures and ConcurrencyError, committed at the end)."""

import threading
import time
import uuid

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.service.model import retrying
from odoo.tests import BaseCase, tagged
from odoo.tests.common import get_db_name


@tagged("post_install", "-at_install")
class TestFulfilmentConcurrency(BaseCase):
    """Data is committed (other transactions must see it), in a company of its own."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())
        tag = uuid.uuid4().hex[:8]
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            tz = env.ref("base.tz")
            company = env["res.company"].create(
                {
                    "name": f"Race ISP {tag}",
                    "country_id": tz.id,
                    "currency_id": env.ref("base.TZS").id,
                }
            )
            env["account.chart.template"].try_loading("tz", company, install_demo=False)
            env = env(context={"allowed_company_ids": company.ids})
            bundle = env["product.template"].create(
                {
                    "name": "Daily",
                    "is_isp_bundle": True,
                    "list_price": 1000,
                    "isp_duration_value": 1,
                    "isp_duration_unit": "days",
                    "company_id": company.id,
                    "taxes_id": [(5, 0, 0)],
                }
            )
            journal = env["account.journal"].search(
                [("company_id", "=", company.id), ("type", "=", "bank")], limit=1
            )
            cls.company_id = company.id
            cls.bundle_id = bundle.product_variant_id.id
            cls.journal_id = journal.id
            cls.tag = tag

    def _new_customer(self, phone):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"allowed_company_ids": [self.company_id]})
            return (
                env["res.partner"]
                .create(
                    {
                        "name": phone,
                        "phone": phone,
                        "is_isp_customer": True,
                        "company_id": self.company_id,
                    }
                )
                .id
            )

    def _run_concurrently(self, calls):
        """Run each (partner_id, reference, hold_seconds) in its own thread and transaction.
        ``hold_seconds`` keeps the transaction open after fulfilling, so that the others
        really overlap with it. Returns the purchase ids (or exceptions)."""
        barrier = threading.Barrier(len(calls))
        results = [None] * len(calls)

        def worker(index, partner_id, reference, hold):
            try:
                with self.registry.cursor() as cr:
                    env = api.Environment(
                        cr, SUPERUSER_ID, {"allowed_company_ids": [self.company_id]}
                    )

                    def fulfil():
                        purchase = env["isp.purchase"]._fulfil(
                            env["res.partner"].browse(partner_id),
                            env["product.product"].browse(self.bundle_id),
                            "payment",
                            reference,
                            amount=1000,
                            journal=env["account.journal"].browse(self.journal_id),
                        )
                        env.cr.flush()
                        if hold:
                            time.sleep(hold)
                        return purchase.id

                    barrier.wait(timeout=30)
                    results[index] = retrying(fulfil, env)
            except Exception as exc:  # reported by the assertions below
                results[index] = exc

        threads = [threading.Thread(target=worker, args=(i, *call)) for i, call in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        return results

    def _state(self, partner_id, reference=None):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"allowed_company_ids": [self.company_id]})
            purchases = env["isp.purchase"].search([("partner_id", "=", partner_id)])
            subs = env["isp.subscription"].search([("partner_id", "=", partner_id)])
            invoices = env["account.move"].search(
                [("partner_id", "=", partner_id), ("move_type", "=", "out_invoice")]
            )
            return {
                "purchases": purchases.ids,
                "subscriptions": [(s.state, s.date_expiry - s.date_start) for s in subs],
                "invoices": [(i.state, i.payment_state, i.amount_total) for i in invoices],
            }

    def test_two_transactions_same_reference_one_period(self):
        partner_id = self._new_customer("+255712000001")
        reference = f"RACE-{self.tag}-1"
        results = self._run_concurrently([(partner_id, reference, 1.0), (partner_id, reference, 0)])
        for result in results:
            self.assertIsInstance(result, int, f"a fulfilment failed: {result!r}")
        self.assertEqual(results[0], results[1], "both callers get the one purchase")
        state = self._state(partner_id)
        self.assertEqual(len(state["purchases"]), 1)
        self.assertEqual(len(state["subscriptions"]), 1)
        self.assertEqual(state["subscriptions"][0][1].days, 1, "one period, not two")
        self.assertEqual(state["invoices"], [("posted", "paid", 1000.0)])

    def test_ten_transactions_same_reference_one_period(self):
        partner_id = self._new_customer("+255712000002")
        reference = f"RACE-{self.tag}-2"
        results = self._run_concurrently([(partner_id, reference, 0.2)] * 10)
        self.assertEqual(len({r for r in results if isinstance(r, int)}), 1, results)
        self.assertTrue(all(isinstance(r, int) for r in results), results)
        state = self._state(partner_id)
        self.assertEqual(len(state["purchases"]), 1)
        self.assertEqual(len(state["invoices"]), 1)
        self.assertEqual(state["subscriptions"][0][1].days, 1)

    def test_two_payments_of_one_new_customer_add_up(self):
        """Two different payments at once: one subscription, extended twice (no lost update,
        no duplicate subscription)."""
        partner_id = self._new_customer("+255712000003")
        results = self._run_concurrently(
            [(partner_id, f"RACE-{self.tag}-3a", 1.0), (partner_id, f"RACE-{self.tag}-3b", 0)]
        )
        self.assertTrue(all(isinstance(r, int) for r in results), results)
        state = self._state(partner_id)
        self.assertEqual(len(state["purchases"]), 2)
        self.assertEqual(len(state["subscriptions"]), 1, state)
        self.assertEqual(state["subscriptions"][0][1].days, 2, "two periods back to back")
        self.assertEqual(len(state["invoices"]), 2)

    def test_sequential_retry_after_commit_is_idempotent(self):
        partner_id = self._new_customer("+255712000004")
        reference = f"RACE-{self.tag}-4"
        first = self._run_concurrently([(partner_id, reference, 0)])
        second = self._run_concurrently([(partner_id, reference, 0)])
        self.assertEqual(first, second)
        self.assertEqual(len(self._state(partner_id)["invoices"]), 1)

    def _confirmed_transactions(self, env, partner_ids, references):
        """Bundle payments of a provider of the company paying into its bank journal,
        confirmed (access given, invoices to issue)."""
        provider = env["payment.provider"].create(
            {"name": f"Race Provider {self.tag}", "company_id": self.company_id}
        )
        env["account.payment.method.line"].create(
            {
                "journal_id": self.journal_id,
                "payment_method_id": env.ref("account.account_payment_method_manual_in").id,
                "payment_provider_id": provider.id,
                "name": provider.name,
            }
        )
        txs = env["payment.transaction"].create(
            [
                {
                    "provider_id": provider.id,
                    "payment_method_id": env.ref("payment.payment_method_unknown").id,
                    "reference": reference,
                    "amount": 1000,
                    "currency_id": env.ref("base.TZS").id,
                    "partner_id": partner_id,
                    "operation": "online_direct",
                    "isp_bundle_id": self.bundle_id,
                    "provider_reference": f"R{n}{self.tag}",
                }
                for n, (partner_id, reference) in enumerate(
                    zip(partner_ids, references, strict=True)
                )
            ]
        )
        txs._set_done()
        return txs

    def test_post_processing_run_concurrently_issues_one_invoice_each(self):
        """Confirmed payments, then their post-processing started three times at once
        (Odoo's post-processing cron, its loop over given transactions, the payment status
        page): each purchase gets one invoice and one payment, reconciled."""
        partner_ids = [self._new_customer(f"+25571200{n:04d}") for n in range(5, 11)]
        references = [f"RACE-{self.tag}-J{n}" for n in range(len(partner_ids))]
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"allowed_company_ids": [self.company_id]})
            txs = self._confirmed_transactions(env, partner_ids, references)
            self.assertEqual(set(txs.mapped("isp_invoice_status")), {"to_invoice"})
            tx_ids = txs.ids
        barrier = threading.Barrier(3)
        errors = []

        def post_process(how):
            try:
                with self.registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    txs = env["payment.transaction"].browse(tx_ids)
                    barrier.wait(timeout=30)
                    if how == "cron":  # the cron's run: batches, each committed
                        env["payment.transaction"]._cron_post_process()
                    elif how == "loop":  # Odoo's loop: one commit per transaction
                        txs._cron_post_process()
                    else:  # the status page
                        retrying(lambda: txs._post_process(), env)
            except Exception as exc:  # reported below
                errors.append(exc)

        threads = [
            threading.Thread(target=post_process, args=(how,)) for how in ("cron", "loop", "poll")
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
        self.assertFalse(errors)
        # what a conflict rolled back in the cron is taken by its next run
        with self.registry.cursor() as cr:
            txs = api.Environment(cr, SUPERUSER_ID, {})["payment.transaction"].browse(tx_ids)
            txs.filtered(lambda tx: not tx.is_post_processed)._cron_post_process()
        for partner_id, reference in zip(partner_ids, references, strict=True):
            state = self._state(partner_id)
            self.assertEqual(state["invoices"], [("posted", "paid", 1000.0)], reference)
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                tx = env["payment.transaction"].search([("reference", "=", reference)])
                self.assertEqual(tx.isp_invoice_status, "invoiced")
                self.assertTrue(tx.is_post_processed)
                self.assertEqual(
                    env["account.payment"].search_count([("payment_transaction_id", "=", tx.id)]),
                    1,
                )

    def test_two_payments_of_a_new_payer_make_one_customer(self):
        """Two payments of one new number confirmed at the same moment (the customer is
        made at confirmation): the second waits on the phone's unique index, fails, is run
        again by Odoo's retrying() and finds the customer the first made."""
        phone = f"+2557129{int(self.tag[:4], 16) % 100000:05d}"
        barrier = threading.Barrier(2)
        results = [None, None]

        def worker(index):
            try:
                with self.registry.cursor() as cr:
                    env = api.Environment(
                        cr, SUPERUSER_ID, {"allowed_company_ids": [self.company_id]}
                    )
                    company = env["res.company"].browse(self.company_id)

                    def find_or_create():
                        partner = env["res.partner"]._isp_find_or_create_customer(phone, company)
                        env.cr.flush()
                        time.sleep(0.5)  # both transactions overlap
                        return partner.id

                    barrier.wait(timeout=30)
                    results[index] = retrying(find_or_create, env)
            except Exception as exc:  # reported by the assertions below
                results[index] = exc

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        self.assertTrue(all(isinstance(r, int) for r in results), results)
        self.assertEqual(results[0], results[1], "one customer for both")
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.assertEqual(
                env["res.partner"].search_count(
                    [("phone", "=", phone), ("company_id", "=", self.company_id)]
                ),
                1,
            )
