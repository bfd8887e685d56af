"""Exactly once over HTTP, for real: Pesapal's IPNs (GET and POST, duplicated) and the payer's
return all at once, served by a separate Odoo server with 2 workers whose requests commit; the
fixture (a Kenyan company, its invoice, its Pesapal provider on the simulator) is committed."""

import threading
import uuid
from unittest.mock import patch

import requests

from odoo import SUPERUSER_ID, Command, api
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, tagged
from odoo.tests.common import get_db_name
from odoo.tools import config

from .common import CREDENTIAL_KEY
from .pesapal_simulator import PesapalSimulator
from .server import OdooServer
from .test_pesapal import PESAPAL_SECRETS


@tagged("post_install", "-at_install")
class TestPesapalConcurrency(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(patch.dict(config.options, {"isp_credential_key": CREDENTIAL_KEY}))
        cls.registry = Registry(get_db_name())
        cls.sim = PesapalSimulator(**PESAPAL_SECRETS).start()
        cls.addClassCleanup(cls.sim.stop)
        cls.server = OdooServer(
            get_db_name(), config.rcfile or "odoo.conf", workers=2, credential_key=CREDENTIAL_KEY
        )
        cls.tag = uuid.uuid4().hex[:8]
        cls._setup_committed()
        cls.addClassCleanup(cls._retire)
        cls.server.start()
        cls.addClassCleanup(cls.server.stop)

    @classmethod
    def _setup_committed(cls):
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            kes = env.ref("base.KES")
            kes.active = True
            company = env["res.company"].create(
                {"name": f"Race Pesapal {cls.tag}", "country_id": env.ref("base.ke").id}
            )
            env["account.chart.template"].try_loading("tz", company, install_demo=False)
            company.currency_id = kes
            cls.company_id = company.id
        with cls.registry.cursor() as cr:
            env = cls._env(cr)
            Provider = env["payment.provider"]
            provider = Provider.search(
                [("code", "=", "pesapal"), ("company_id", "=", cls.company_id)], limit=1
            ) or env.ref("isp_mpesa.payment_provider_pesapal").copy({"company_id": cls.company_id})
            provider.write(
                {
                    "pesapal_consumer_key": PESAPAL_SECRETS["consumer_key"],
                    "pesapal_consumer_secret": PESAPAL_SECRETS["consumer_secret"],
                    "pesapal_base_url": cls.sim.url,
                    "isp_callback_base_url": cls.server.url,
                    "state": "test",
                }
            )
            env.ref("payment.payment_method_card").active = True
            cls.provider_id = provider.id
            partner = env["res.partner"].create(
                {
                    "name": f"Race Payer {cls.tag}",
                    "email": "race@example.com",
                    "company_id": cls.company_id,
                }
            )
            invoice = env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "company_id": cls.company_id,
                    "currency_id": kes.id,
                    "invoice_line_ids": [
                        Command.create({"name": "PPPoE", "price_unit": 2500, "tax_ids": []})
                    ],
                }
            )
            invoice.action_post()
            cls.invoice_id = invoice.id

    @classmethod
    def _retire(cls):
        """Disable the committed provider and erase its credentials (encrypted with a
        test-only key: nothing could read them afterwards)."""
        with cls.registry.cursor() as cr:
            provider = cls._env(cr)["payment.provider"].browse(cls.provider_id)
            provider.write(
                dict.fromkeys(provider._isp_secret_fields.values(), False)
                | {"state": "disabled", "pesapal_token_encrypted": False}
            )

    @classmethod
    def _env(cls, cr):
        return api.Environment(cr, SUPERUSER_ID, {"allowed_company_ids": [cls.company_id]})

    def test_concurrent_ipns_and_returns_pay_once(self):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            invoice = env["account.move"].browse(self.invoice_id)
            Tx = env["payment.transaction"]
            tx = Tx.create(
                {
                    "provider_id": self.provider_id,
                    "payment_method_id": env.ref("payment.payment_method_card").id,
                    "reference": Tx._compute_reference(
                        "pesapal", invoice_ids=[Command.set(invoice.ids)]
                    ),
                    "amount": invoice.amount_residual,
                    "currency_id": invoice.currency_id.id,
                    "partner_id": invoice.partner_id.id,
                    "operation": "online_redirect",
                    "invoice_ids": [Command.set(invoice.ids)],
                }
            )
            values = tx._get_processing_values()
            self.assertEqual(values["state"], "draft", values.get("state_message"))
            tx_id, tracking = tx.id, tx.provider_reference
        self.sim.ipn_mode = "lost"  # paid; the notifications are sent below, all at once
        callback = self.sim.pay(tracking)
        callback = self.server.url + callback[callback.index("/payment/pesapal/return") :]
        barrier = threading.Barrier(10)
        answers = []

        def ipn(method):
            barrier.wait(timeout=30)
            answers.append(("ipn", self.sim.notify(tracking, method=method, repeat=1)[0]))

        def back():
            barrier.wait(timeout=30)
            answers.append(("return", requests.get(callback, allow_redirects=False, timeout=60)))

        threads = [threading.Thread(target=ipn, args=(m,)) for m in ("GET", "POST") * 4]
        threads += [threading.Thread(target=back) for _i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
        self.assertEqual(len(answers), 10, self.server.tail())
        for kind, response in answers:
            if kind == "ipn":
                self.assertEqual(response.status_code, 200, self.server.tail())
                self.assertEqual(response.json()["status"], 200)
            else:
                self.assertIn(response.status_code, (302, 303), self.server.tail())
                self.assertTrue(response.headers["Location"].endswith("/payment/status"))
        self.assertTrue(all(ok for *_rest, ok in self.sim.ipn_sent), self.sim.ipn_sent)
        with self.registry.cursor() as cr:
            env = self._env(cr)
            tx = env["payment.transaction"].browse(tx_id)
            self.assertEqual(tx.state, "done")
            payments = env["account.payment"].search([("payment_transaction_id", "=", tx_id)])
            self.assertEqual(len(payments), 1, "one payment")
            self.assertEqual(payments.amount, 2500)
            self.assertIn(tx.invoice_ids.payment_state, ("paid", "in_payment"))
            self.assertEqual(
                env["account.payment"].search_count([("partner_id", "=", tx.partner_id.id)]), 1
            )
