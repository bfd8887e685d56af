"""Exactly once over HTTP, for real: 20 duplicate callbacks (the simulator sends them one after
the other) plus 10 concurrent ones, served by a separate Odoo server with 2 workers whose
requests commit and a cron worker that runs Odoo's post-processing cron they trigger (it
issues the invoices); the fixture is committed too, in a company of its own. Then that cron
and the status page's post-processing racing for the same transactions."""

import threading
import time
import uuid
from unittest.mock import patch

import requests

from odoo import SUPERUSER_ID, api
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


@tagged("post_install", "-at_install")
class TestCallbackConcurrency(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(patch.dict(config.options, {"isp_credential_key": CREDENTIAL_KEY}))
        cls.registry = Registry(get_db_name())
        cls.sim = DarajaSimulator(
            consumer_key=SECRETS["consumer_key"],
            consumer_secret=SECRETS["consumer_secret"],
            passkey=SECRETS["passkey"],
        ).start()
        cls.addClassCleanup(cls.sim.stop)
        cls.server = OdooServer(
            get_db_name(),
            config.rcfile or "odoo.conf",
            workers=2,
            credential_key=CREDENTIAL_KEY,
            cron_workers=1,
        )
        tag = uuid.uuid4().hex[:8]
        cls.company_id, cls.bundle_id, cls.provider_id = create_committed_daraja_setup(
            cls.registry, f"Race M-Pesa {tag}", cls.sim.url, cls.server.url
        )
        cls.tag = tag
        cls.addClassCleanup(cls._disable_provider)
        cls.server.start()
        cls.addClassCleanup(cls.server.stop)

    @classmethod
    def _disable_provider(cls):
        retire_committed_provider(cls.registry, cls.provider_id)

    def _env(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {"allowed_company_ids": [self.company_id]})

    def test_30_callbacks_one_fulfilment(self):
        reference = f"RACE-{self.tag}"
        self.sim.next_result(code=0, delay=0.3, repeat=20)
        with self.registry.cursor() as cr:
            env = self._env(cr)
            tx = env["payment.transaction"].create(
                {
                    "provider_id": self.provider_id,
                    "payment_method_id": env.ref("payment.payment_method_mpesa").id,
                    "reference": reference,
                    "amount": 50,
                    "currency_id": env.ref("base.KES").id,
                    "partner_id": env.ref("base.public_partner").id,
                    "operation": "online_direct",
                    "isp_bundle_id": self.bundle_id,
                }
            )
            tx._isp_send_push("0712 000 111")
            self.assertEqual(tx.state, "pending", tx.state_message)
            checkout, token = tx.daraja_checkout_request_id, tx._daraja_callback_token()
            tx_id = tx.id
        # 10 more at once, while the simulator's 20 arrive
        barrier = threading.Barrier(10)
        statuses = []
        url = f"{self.server.url}/payment/daraja/callback/{token}"

        def fire():
            barrier.wait(timeout=30)
            time.sleep(0.4)  # once M-Pesa has decided (the simulator's delay)
            response = requests.post(url, json=self.sim.callback_body(checkout), timeout=60)
            statuses.append(response.status_code)

        threads = [threading.Thread(target=fire) for _i in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        self.sim.wait_callbacks(timeout=120)
        statuses += [status for _url, status, _body in self.sim.sent]
        self.assertEqual(len(statuses), 30, self.sim.sent)
        self.assertEqual(statuses.count(200), 1, f"{statuses}\n{self.server.tail()}")
        self.assertEqual(statuses.count(409), 29, statuses)
        with self.registry.cursor() as cr:
            env = self._env(cr)
            tx = env["payment.transaction"].browse(tx_id)
            self.assertEqual(tx.state, "done")
            purchases = env["isp.purchase"].search([("reference", "=", reference)])
            self.assertEqual(len(purchases), 1)
            sub = purchases.subscription_id
            self.assertEqual(sub.state, "active")
            self.assertEqual((sub.date_expiry - sub.date_start).days, 1, "one period")
        # the server's cron worker, woken by the callback, invoices within seconds
        self._assert_invoiced_once([tx_id], timeout=60)

    def _assert_invoiced_once(self, tx_ids, timeout):
        """Wait (at most ``timeout`` s) for each transaction's invoice to be paid, then check
        it has exactly one invoice and one payment, reconciled, with the receipt number."""
        deadline = time.monotonic() + timeout
        while True:
            with self.registry.cursor() as cr:
                env = self._env(cr)
                txs = env["payment.transaction"].browse(tx_ids)
                if all(tx.isp_invoice_status == "invoiced" and tx.payment_id for tx in txs):
                    break
                if time.monotonic() > deadline:
                    states = [(t.reference, t.isp_invoice_status, t.isp_invoice_error) for t in txs]
                    self.fail(f"not invoiced in {timeout} s: {states}\n{self.server.tail()}")
            time.sleep(0.5)
        with self.registry.cursor() as cr:
            env = self._env(cr)
            for tx in env["payment.transaction"].browse(tx_ids):
                invoices = env["account.move"].search(
                    [("partner_id", "=", tx.partner_id.id), ("move_type", "=", "out_invoice")]
                )
                self.assertEqual(len(invoices), 1, tx.reference)
                self.assertEqual(invoices, tx.isp_purchase_id.invoice_id)
                self.assertEqual(invoices.payment_state, "paid")
                payments = env["account.payment"].search([("payment_transaction_id", "=", tx.id)])
                self.assertEqual(len(payments), 1, tx.reference)
                self.assertIn(tx.provider_reference, payments.memo, "the receipt number")
                self.assertTrue(tx.is_post_processed)

    def test_post_processing_cron_and_status_polls_racing_invoice_once(self):
        """Confirmed transactions, then Odoo's post-processing cron twice and the status
        page's post-processing twice, at once (and the server's cron worker): one invoice and one
        payment per transaction."""
        with self.registry.cursor() as cr:
            env = self._env(cr)
            txs = env["payment.transaction"].create(
                [
                    {
                        "provider_id": self.provider_id,
                        "payment_method_id": env.ref("payment.payment_method_mpesa").id,
                        "reference": f"POLL-{self.tag}-{n}",
                        "amount": 50,
                        "currency_id": env.ref("base.KES").id,
                        "partner_id": env.ref("base.public_partner").id,
                        "operation": "online_direct",
                        "isp_bundle_id": self.bundle_id,
                    }
                    for n in range(6)
                ]
            )
            for n, tx in enumerate(txs):
                tx._isp_send_push(f"0712 000 2{n:02d}")
                self.assertEqual(tx.state, "pending", tx.state_message)
            tx_ids = txs.ids
        for tx_id in tx_ids:
            # each callback through the server (its poll cron may settle it first)
            with self.registry.cursor() as cr:
                tx = self._env(cr)["payment.transaction"].browse(tx_id)
                checkout, token = tx.daraja_checkout_request_id, tx._daraja_callback_token()
            response = requests.post(
                f"{self.server.url}/payment/daraja/callback/{token}",
                json=self.sim.callback_body(checkout),
                timeout=60,
            )
            self.assertIn(response.status_code, (200, 409), response.text)
            with self.registry.cursor() as cr:
                tx = self._env(cr)["payment.transaction"].browse(tx_id)
                self.assertEqual(tx.isp_subscription_id.state, "active")
        barrier = threading.Barrier(4)
        errors = []

        def race(poll):
            try:
                with self.registry.cursor() as cr:
                    env = self._env(cr)
                    barrier.wait(timeout=30)
                    if poll:
                        txs = env["payment.transaction"].browse(tx_ids)
                        retrying(
                            lambda: txs.filtered(lambda t: not t.is_post_processed)._post_process(),
                            env,
                        )
                    else:  # Odoo's post-processing cron loop: one commit per transaction
                        env["payment.transaction"].browse(tx_ids)._cron_post_process()
            except Exception as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=race, args=(n % 2,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
        self.assertFalse(errors)
        self._assert_invoiced_once(tx_ids, timeout=60)
