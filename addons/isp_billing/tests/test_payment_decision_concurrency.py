"""Staff decisions on a payment taken without access under real concurrency: two managers
decide on the same payment at the same moment (Grant Access and Record Refund), each in a
transaction of its own, run the way Odoo runs a request (``retrying``, committed at the
end). One decision wins; the other is refused."""

import time

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import UserError
from odoo.service.model import retrying
from odoo.tests import tagged

from .common import IspCommittedCase


@tagged("post_install", "-at_install")
class TestPaymentDecisionConcurrency(IspCommittedCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with cls.registry.cursor() as cr:
            company, env = cls._create_company(
                api.Environment(cr, SUPERUSER_ID, {}), "Decision Race ISP"
            )
            cls.company_id = company.id
            cls.bundle_id = cls._create_bundle(env, company).id
            cls.customer_id = (
                env["res.partner"]
                .create(
                    {
                        "name": f"Payer {cls.tag}",
                        "phone": "+255754777001",
                        "is_isp_customer": True,
                        "company_id": company.id,
                    }
                )
                .id
            )
            cls.provider_id = (
                env["payment.provider"]
                .create({"name": f"Race Provider {cls.tag}", "company_id": company.id})
                .id
            )
            cls.manager_ids = [
                env["res.users"]
                .create(
                    {
                        "name": f"Manager {name} {cls.tag}",
                        "login": f"isp-race-{name}-{cls.tag}",
                        "company_id": company.id,
                        "company_ids": [Command.set(company.ids)],
                        "group_ids": [Command.set([env.ref("isp_billing.group_isp_manager").id])],
                    }
                )
                .id
                for name in ("a", "b")
            ]

    def _not_applied(self, reference):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            tx = env["payment.transaction"].create(
                {
                    "provider_id": self.provider_id,
                    "payment_method_id": env.ref("payment.payment_method_unknown").id,
                    "reference": f"{reference}-{self.tag}",
                    "amount": 900,
                    "currency_id": env.ref("base.TZS").id,
                    "partner_id": self.customer_id,
                    "operation": "online_direct",
                    "isp_bundle_id": self.bundle_id,
                    "state": "error",
                }
            )
            tx._isp_mark_not_applied("Paid 900 of 1,000")
            return tx.id

    def _decide_at_once(self, tx_id, decisions):
        """Each (manager index, "grant" / "refund", hold seconds) in its own thread and
        transaction; returns the decision made, or the UserError's message."""

        def worker(barrier, manager, decision, hold):
            with self.registry.cursor() as cr:
                env = api.Environment(
                    cr, self.manager_ids[manager], {"allowed_company_ids": [self.company_id]}
                )

                def decide():
                    tx = env["payment.transaction"].browse(tx_id)
                    if decision == "grant":
                        tx.action_isp_grant_access()
                    else:
                        tx._isp_record_refund("M-Pesa reversal RACE1")
                    env.cr.flush()
                    if hold:
                        time.sleep(hold)  # the other decision overlaps this one
                    return decision

                barrier.wait(timeout=30)
                try:
                    return retrying(decide, env)
                except UserError as exc:
                    return str(exc)

        return self._at_once(worker, decisions, timeout=120)

    def _decided(self, tx_id):
        with self.registry.cursor() as cr:
            tx = self._env(cr)["payment.transaction"].browse(tx_id)
            purchases = self._env(cr)["isp.purchase"].search_count(
                [("reference", "=", tx.reference)]
            )
            return tx.isp_access_state, purchases, tx.isp_decision_note or ""

    def _check_one_decision(self, tx_id, results):
        made = [r for r in results if r in ("grant", "refund")]
        refused = [r for r in results if r not in ("grant", "refund")]
        self.assertEqual(len(made), 1, results)
        self.assertEqual(len(refused), 1, results)
        state, purchases, note = self._decided(tx_id)
        if made == ["grant"]:
            self.assertEqual((state, purchases), ("granted", 1))
            self.assertIn("already gave access", refused[0])
            self.assertNotIn("refund recorded", note)
        else:
            self.assertEqual((state, purchases), ("refunded", 0))
            self.assertIn("refund was already recorded", refused[0])
            self.assertNotIn("access granted", note)

    def test_grant_and_refund_at_once(self):
        tx_id = self._not_applied("RACE-GR")
        results = self._decide_at_once(tx_id, [(0, "grant", 0.5), (1, "refund", 0)])
        self._check_one_decision(tx_id, results)

    def test_refund_and_grant_at_once(self):
        tx_id = self._not_applied("RACE-RG")
        results = self._decide_at_once(tx_id, [(0, "refund", 0.5), (1, "grant", 0)])
        self._check_one_decision(tx_id, results)
