"""A reseller's balance is spent exactly once under real concurrency: separate database
transactions in threads, each run the way Odoo runs a request (``retrying``: retried on
serialization failures and ConcurrencyError, committed at the end)."""

import time

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.service.model import retrying
from odoo.tests import tagged

from .common import IspCommittedCase


@tagged("post_install", "-at_install")
class TestResellerConcurrency(IspCommittedCase):
    """Data is committed (other transactions must see it), in a company of its own."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with cls.registry.cursor() as cr:
            company, env = cls._create_company(
                api.Environment(cr, SUPERUSER_ID, {}),
                "Reseller Race ISP",
                isp_reseller_commission_percent=0.0,
            )
            cls.company_id = company.id
            cls.bundle_id = cls._create_bundle(env, company).id
            cls.journal_id = (
                env["account.journal"]
                .search([("company_id", "=", company.id), ("type", "=", "bank")], limit=1)
                .id
            )

    def _new_reseller(self, name, top_up):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            reseller = env["res.partner"].create(
                {
                    "name": f"{name} {self.tag}",
                    "isp_is_reseller": True,
                    "company_id": self.company_id,
                    "isp_reseller_commission_percent": 0.0,
                }
            )
            payment = (
                env["account.payment"]
                .with_context(force_payment_move=True)
                .create(
                    {
                        "payment_type": "inbound",
                        "partner_type": "customer",
                        "partner_id": reseller.id,
                        "amount": top_up,
                        "journal_id": self.journal_id,
                    }
                )
            )
            payment.action_post()
            return reseller.id

    def _run_concurrently(self, calls):
        """Each (reseller_id, quantity, request_key, hold_seconds) in its own thread and
        transaction; returns purchase ids, or the UserError message, or the exception."""

        def worker(barrier, reseller_id, quantity, key, hold):
            with self.registry.cursor() as cr:
                env = self._env(cr)

                def buy():
                    purchase = env["isp.reseller.purchase"]._buy(
                        env["res.partner"].browse(reseller_id),
                        env["product.product"].browse(self.bundle_id),
                        quantity,
                        key,
                    )
                    env.cr.flush()
                    if hold:
                        time.sleep(hold)
                    return purchase.id

                barrier.wait(timeout=30)
                try:
                    return retrying(buy, env)
                except UserError as exc:
                    return str(exc)

        return self._at_once(worker, calls, timeout=120)

    def _state(self, reseller_id):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            reseller = env["res.partner"].browse(reseller_id)
            purchases = env["isp.reseller.purchase"].search([("reseller_id", "=", reseller_id)])
            return {
                "purchases": len(purchases),
                "vouchers": sum(purchases.batch_id.mapped("count_total")),
                "balance": reseller._isp_reseller_balance_amount(),
            }

    def test_duplicate_concurrent_requests_debit_once(self):
        reseller_id = self._new_reseller("Twin clicks", 10000)
        key = f"same-{self.tag}"
        results = self._run_concurrently(
            [(reseller_id, 3, key, 0.5)] + [(reseller_id, 3, key, 0)] * 4
        )
        self.assertTrue(all(isinstance(r, int) for r in results), results)
        self.assertEqual(len(set(results)), 1, "every caller gets the one purchase")
        self.assertEqual(self._state(reseller_id), {"purchases": 1, "vouchers": 3, "balance": 7000})

    def test_concurrent_purchases_cannot_overspend(self):
        reseller_id = self._new_reseller("Two tills", 10000)
        results = self._run_concurrently(
            [
                (reseller_id, 6, f"till-a-{self.tag}", 0.5),
                (reseller_id, 6, f"till-b-{self.tag}", 0),
            ]
        )
        bought = [r for r in results if isinstance(r, int)]
        refused = [r for r in results if isinstance(r, str)]
        self.assertEqual(len(bought), 1, results)
        self.assertEqual(len(refused), 1, results)
        self.assertIn("top up first", refused[0])
        self.assertEqual(self._state(reseller_id), {"purchases": 1, "vouchers": 6, "balance": 4000})

    def test_concurrent_purchases_within_the_balance_both_go_through(self):
        reseller_id = self._new_reseller("Busy shop", 10000)
        results = self._run_concurrently(
            [
                (reseller_id, 4, f"shop-a-{self.tag}", 0.5),
                (reseller_id, 5, f"shop-b-{self.tag}", 0),
            ]
        )
        self.assertTrue(all(isinstance(r, int) for r in results), results)
        self.assertEqual(self._state(reseller_id), {"purchases": 2, "vouchers": 9, "balance": 1000})
