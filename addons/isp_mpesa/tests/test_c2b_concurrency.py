"""Exactly once for real: the same C2B confirmation delivered 20 times at once (and again
after) to a separate Odoo server with 2 workers whose requests commit, on URLs registered with
the simulator, booked by the server's cron worker they wake; then two customers' claims of
one receipt racing in two committed transactions (the receipt booked by the first claim, or
by the cron before it)."""

import threading
import time
import uuid
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.modules.registry import Registry
from odoo.service.model import retrying
from odoo.tests import BaseCase, tagged
from odoo.tests.common import get_db_name
from odoo.tools import config

from .common import (
    CREDENTIAL_KEY,
    SECRETS,
    create_committed_daraja_setup,
    retire_committed_provider,
)
from .server import OdooServer
from .simulators import DarajaSimulator

SHORTCODE = "600200"


@tagged("post_install", "-at_install")
class TestC2bConcurrency(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(patch.dict(config.options, {"isp_credential_key": CREDENTIAL_KEY}))
        cls.registry = Registry(get_db_name())
        cls.sim = DarajaSimulator(
            consumer_key=SECRETS["consumer_key"],
            consumer_secret=SECRETS["consumer_secret"],
            passkey=SECRETS["passkey"],
            c2b_shortcodes={SHORTCODE},
        ).start()
        cls.addClassCleanup(cls.sim.stop)
        # a cron worker books what the confirmations record (the cron they wake)
        cls.server = OdooServer(
            get_db_name(),
            config["config"] or "odoo.conf",
            workers=2,
            credential_key=CREDENTIAL_KEY,
            cron_workers=1,
        )
        cls.tag = uuid.uuid4().hex[:8]
        cls.company_id, cls.bundle_id, cls.provider_id = create_committed_daraja_setup(
            cls.registry, f"C2B Race {cls.tag}", cls.sim.url, cls.server.url
        )
        cls.addClassCleanup(retire_committed_provider, cls.registry, cls.provider_id)
        with cls.registry.cursor() as cr:
            env = cls._env(cr)
            provider = env["payment.provider"].browse(cls.provider_id)
            provider.daraja_c2b_shortcode = SHORTCODE
            action = provider.action_daraja_c2b_register()
            assert action["params"]["type"] == "success", action
            customers = env["res.partner"].create(
                [
                    {
                        "name": f"Racer {n}",
                        "phone": f"+25471200900{n}",
                        "is_isp_customer": True,
                        "company_id": cls.company_id,
                    }
                    for n in range(2)
                ]
            )
            cls.customer_ids = customers.ids
            cls.account = customers[0].isp_account_number
        cls.server.start()
        cls.addClassCleanup(cls.server.stop)
        cls.server.warm_up()

    @classmethod
    def _env(cls, cr):
        return api.Environment(cr, SUPERUSER_ID, {"allowed_company_ids": [cls.company_id]})

    def _wait_booked(self, trans_id, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.registry.cursor() as cr:
                rows = self._env(cr)["isp.mpesa.c2b"].search([("trans_id", "=", trans_id)])
                if rows and rows.state != "draft":
                    return
            time.sleep(0.5)
        self.fail(f"{trans_id} not booked in {timeout} s:\n{self.server.tail()}")

    def _fire(self, body, count):
        barrier = threading.Barrier(count)
        statuses = []

        def fire():
            barrier.wait(timeout=30)
            statuses.extend(r.status_code for r in self.sim.deliver_c2b("confirmation", body))

        threads = [threading.Thread(target=fire) for _i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        return statuses

    def test_concurrent_and_repeated_deliveries_book_once(self):
        body = self.sim.c2b_body(
            trans_id=f"RC{self.tag.upper()}", bill_ref=self.account, amount="50.00"
        )
        statuses = self._fire(body, 20)
        statuses += [r.status_code for r in self.sim.deliver_c2b("confirmation", body, repeat=3)]
        self.assertEqual(statuses, [200] * 23, self.server.tail())
        self._wait_booked(body["TransID"])
        with self.registry.cursor() as cr:
            env = self._env(cr)
            rows = env["isp.mpesa.c2b"].search([("trans_id", "=", body["TransID"])])
            self.assertEqual(len(rows), 1)
            self.assertEqual(rows.state, "bundle", rows.error)
            payments = env["account.payment"].search([("memo", "=", body["TransID"])])
            self.assertEqual(len(payments), 1)
            self.assertTrue(payments.is_reconciled)
            purchases = env["isp.purchase"].search([("reference", "=", body["TransID"])])
            self.assertEqual(len(purchases), 1)
            sub = purchases.subscription_id
            self.assertEqual((sub.date_expiry - sub.date_start).days, 1, "one period")

    def test_two_claims_of_one_receipt_give_access_once(self):
        body = self.sim.c2b_body(trans_id=f"CL{self.tag.upper()}", bill_ref="", amount="50.00")
        self.assertEqual([r.status_code for r in self.sim.deliver_c2b("confirmation", body)], [200])
        barrier = threading.Barrier(2)
        results = []

        def claim(customer_id):
            try:
                with self.registry.cursor() as cr:
                    env = self._env(cr)
                    barrier.wait(timeout=30)
                    company = env["res.company"].browse(self.company_id)
                    purchase = retrying(
                        lambda: env["isp.purchase"]._claim_receipt(
                            company,
                            body["TransID"].lower(),
                            env["res.partner"].browse(customer_id),
                            env["product.product"].browse(self.bundle_id),
                        ),
                        env,
                    )
                    results.append(("ok", purchase.partner_id.id))
            except UserError as error:
                results.append(("refused", error.args[0]))

        threads = [threading.Thread(target=claim, args=(c,)) for c in self.customer_ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        self.assertEqual(sorted(kind for kind, _x in results), ["ok", "refused"], results)
        winner = next(x for kind, x in results if kind == "ok")
        refusal = next(x for kind, x in results if kind == "refused")
        self.assertIn("No unclaimed M-Pesa payment of", refusal)
        with self.registry.cursor() as cr:
            env = self._env(cr)
            row = env["isp.mpesa.c2b"].search([("trans_id", "=", body["TransID"])])
            self.assertEqual(row.state, "claimed")
            self.assertEqual(row.partner_id.id, winner)
            self.assertEqual(
                env["isp.purchase"].search_count([("reference", "=", body["TransID"])]), 1
            )
