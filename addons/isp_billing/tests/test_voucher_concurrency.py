"""Voucher redemption under real concurrency: committed data in a company of its own, each
redemption in its own thread and database transaction, run the way Odoo runs a public request
(``odoo.service.model.retrying``: retried on serialization failures, committed at the end; a
refusal is answered, so the transaction commits its failed-attempt row)."""

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.service.model import retrying
from odoo.tests import tagged

from odoo.addons.isp_billing.models import isp_voucher_code

from .common import IspCommittedCase


@tagged("post_install", "-at_install")
class TestVoucherConcurrency(IspCommittedCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with cls.registry.cursor() as cr:
            company, env = cls._create_company(
                api.Environment(cr, SUPERUSER_ID, {}),
                "Voucher Race ISP",
                isp_voucher_max_failures=3,
            )
            batch = env["isp.voucher.batch"].create(
                {
                    "name": f"RACE-{cls.tag}",
                    "quantity": 5,
                    "bundle_id": cls._create_bundle(env, company).id,
                    "company_id": company.id,
                }
            )
            batch.action_generate()
            cls.company_id = company.id
            cls.codes = batch.voucher_ids.sorted("id").mapped("code")

    def _redeem_concurrently(self, calls):
        """Each (code, phone, mac) in its own thread and transaction, all started together.
        Returns a purchase id or the refusal's message for each."""

        def worker(barrier, code, phone, mac):
            with self.registry.cursor() as cr:
                env = self._env(cr)
                company = env["res.company"].browse(self.company_id)

                def redeem():
                    try:
                        return (
                            env["isp.voucher"]
                            .sudo()
                            ._redeem(code, phone, mac=mac, company=company)
                            .id
                        )
                    except UserError as error:
                        return error.args[0]

                barrier.wait(timeout=60)
                return retrying(redeem, env)

        return self._at_once(worker, calls)

    def test_twenty_concurrent_redemptions_of_one_code_one_succeeds(self):
        code = self.codes[0]
        calls = [(code, f"+2557120{n:05d}", None) for n in range(20)]
        results = self._redeem_concurrently(calls)
        purchases = [r for r in results if isinstance(r, int)]
        refusals = [r for r in results if isinstance(r, str)]
        self.assertEqual(len(purchases), 1, results)
        self.assertEqual(len(refusals), 19, results)
        self.assertEqual(set(refusals), {"This voucher has already been used."})
        with self.registry.cursor() as cr:
            env = self._env(cr)
            voucher = env["isp.voucher"].search([("code", "=", code)])
            purchase = env["isp.purchase"].search(
                [("source", "=", "voucher"), ("reference", "like", code)]
            )
            self.assertEqual(purchase.ids, purchases)
            self.assertEqual(voucher.state, "redeemed")
            self.assertEqual(voucher.purchase_id, purchase)
            self.assertEqual(voucher.partner_id, purchase.partner_id)
            subs = env["isp.subscription"].search(
                [
                    ("company_id", "=", self.company_id),
                    ("partner_id.phone", "in", [phone for _c, phone, _m in calls]),
                ]
            )
            self.assertEqual(subs, purchase.subscription_id, "one subscription, one period")
            self.assertEqual((subs.date_expiry - subs.date_start).days, 1)
            attempts = env["isp.voucher.attempt"].search(
                [("company_id", "=", self.company_id), ("code", "=", code)]
            )
            self.assertEqual(len(attempts), 19, "every refusal was committed")
            self.assertEqual(set(attempts.mapped("result")), {"used"})

    def test_failed_attempts_count_across_transactions(self):
        """Each wrong code is refused in a transaction of its own (committed, as a public
        request); the limit (3) then blocks the device, even with a good code."""
        mac = f"AA:BB:CC:{self.tag[0:2]}:{self.tag[2:4]}:{self.tag[4:6]}".upper()
        wrong = isp_voucher_code.random_codes(3)
        for n, code in enumerate(wrong):
            (result,) = self._redeem_concurrently([(code, f"+2557540{n:05d}", mac)])
            self.assertEqual(result, "This voucher code does not exist. Check it and try again.")
        (result,) = self._redeem_concurrently([(self.codes[1], "+255754099999", mac)])
        self.assertIn("Too many wrong voucher codes", result)
        with self.registry.cursor() as cr:
            env = self._env(cr)
            voucher = env["isp.voucher"].search([("code", "=", self.codes[1])])
            self.assertEqual(voucher.state, "available")
        (result,) = self._redeem_concurrently([(self.codes[1], "+255754099999", None)])
        self.assertIsInstance(result, int, "another device with a new phone is not blocked")
