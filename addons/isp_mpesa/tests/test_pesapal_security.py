"""What the public reaches of Pesapal: forged IPNs and returns, secrets at rest and in the
logs, who may send the credentials elsewhere, where the provider is offered."""

import logging
from urllib.parse import urlsplit

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from odoo.addons.isp_billing.tests.common import captured_logs

from .test_pesapal import PESAPAL_SECRETS, PesapalCase


@tagged("post_install", "-at_install")
class TestPesapalSecurity(PesapalCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the Tanzanian company's own Pesapal provider, on the same Pesapal account
        cls.other = cls._provider(
            "isp_mpesa.payment_provider_pesapal",
            cls.tz_company,
            {
                "pesapal_consumer_key": PESAPAL_SECRETS["consumer_key"],
                "pesapal_consumer_secret": PESAPAL_SECRETS["consumer_secret"],
                "pesapal_base_url": cls.pesapal_sim.url,
                "is_published": True,
            },
        )
        cls.tz_customer = cls.env["res.partner"].create(
            {
                "name": "Baraka",
                "email": "baraka@example.com",
                "company_id": cls.tz_company.id,
            }
        )

    def _snapshot(self, *txs):
        for tx in txs:
            tx.invalidate_recordset()
        return [(tx.state, tx.state_message, tx.pesapal_status) for tx in txs]

    def test_forged_or_misdirected_ipns_are_refused_and_change_nothing(self):
        tx, _values = self._tx()
        other_tx, values = self._tx(
            self._invoice(1000, partner=self.tz_customer, company=self.tz_company),
            provider=self.other,
        )
        self.assertEqual(values["state"], "draft", values.get("state_message"))
        for order in self.pesapal_sim.orders.values():
            order["status_code"] = 1  # paid: a processed IPN would show
        before, queries = self._snapshot(tx, other_tx), self._status_queries()
        cases = [
            ("unknown order", 404, {"tx": None}),
            ("another order's reference", 404, {"tx": tx, "OrderMerchantReference": "X-1"}),
            ("another provider's order", 404, {"tx": other_tx}),
            ("wrong token", 404, {"tx": tx, "token": "0" * 64}),
            ("another's token", 404, {"tx": tx, "token": self.other._pesapal_ipn_token()}),
            ("no tracking id", 400, {"tx": tx, "OrderTrackingId": None}),
            ("not an IPN", 400, {"tx": tx, "OrderNotificationType": "CALLBACKURL"}),
        ]
        for label, status, kwargs in cases:
            for method in ("GET", "POST"):
                with self.subTest(label, method=method):
                    response = self._ipn(method=method, **kwargs)
                    self.assertEqual(response.status_code, status, response.text[:200])
                    self.assertIn("error", response.json())
        self.assertEqual(self._snapshot(tx, other_tx), before)
        self.assertEqual(self._status_queries(), queries, "nothing asked of Pesapal")
        # a disabled provider's URL is dead
        self.other.state = "disabled"
        self.assertEqual(self._ipn(other_tx, provider=self.other).status_code, 404)
        self.assertEqual(self._status_queries(), queries)
        # the right URL, the right order
        self.assertEqual(self._ipn(tx).json()["status"], 200)
        self.assertEqual(tx.state, "done")

    def test_return_of_an_unknown_order_changes_nothing(self):
        tx, _values = self._tx()
        self.pesapal_sim.orders[tx.provider_reference]["status_code"] = 1
        queries = self._status_queries()
        for query in (
            f"OrderTrackingId=nope&OrderMerchantReference={tx.reference}",
            f"OrderTrackingId={tx.provider_reference}&OrderMerchantReference=nope",
            "",
        ):
            with self.subTest(query=query):
                response = self.url_open(f"/payment/pesapal/return?{query}")
                self.assertEqual(urlsplit(response.url).path, "/payment/status")
                self.assertEqual(response.status_code, 200)
        self.assertEqual(self._status_queries(), queries)
        tx.invalidate_recordset()
        self.assertEqual(tx.state, "draft")

    def test_credentials_and_token_encrypted_at_rest(self):
        self._tx()  # a token cached
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT pesapal_consumer_key_encrypted, pesapal_consumer_secret_encrypted, "
            "pesapal_token_encrypted FROM payment_provider WHERE id = %s",
            [self.pesapal.id],
        )
        key, secret, token = self.env.cr.fetchone()
        self.assertTrue(key and secret and token)
        self.assertNotIn(PESAPAL_SECRETS["consumer_key"], key)
        self.assertNotIn(PESAPAL_SECRETS["consumer_secret"], secret)
        self.assertEqual(self.pesapal._isp_decrypt(secret), PESAPAL_SECRETS["consumer_secret"])
        self.assertIn(self.pesapal._isp_decrypt(token), self.pesapal_sim.tokens)
        self.assertNotIn(self.pesapal._isp_decrypt(token), token)
        Provider = self.env["payment.provider"]
        for name in (
            "pesapal_consumer_key",
            "pesapal_consumer_secret",
            "pesapal_consumer_key_encrypted",
            "pesapal_consumer_secret_encrypted",
            "pesapal_token_encrypted",
            "pesapal_ipn_key",
            "pesapal_base_url",
        ):
            with self.subTest(field=name):
                self.assertEqual(Provider._fields[name].groups, "base.group_system")

    def test_secrets_not_in_logs(self):
        levels = {"": logging.DEBUG, "odoo": logging.DEBUG, "werkzeug": logging.INFO}
        with captured_logs(levels) as lines:
            self.pesapal.sudo().pesapal_token_expiry = False
            tx, _values = self._tx()
            self._pay(tx)
            self._ipn(tx)
        self.assertEqual(tx.state, "done")
        # the test client's and the simulator's own requests are theirs, not Odoo's logs
        client = f"urllib3.connectionpool: {self.base_url()} "
        text = "\n".join(line for line in lines if not line.startswith(client))
        self.assertIn(tx.reference, text, "the flow was logged")
        self.assertIn("/payment/pesapal/ipn/", text, "the IPN request line was logged")
        for secret in (
            PESAPAL_SECRETS["consumer_key"],
            PESAPAL_SECRETS["consumer_secret"],
            self.pesapal._pesapal_ipn_token(),
            *self.pesapal_sim.tokens,
        ):
            self.assertFalse([line[:300] for line in text.splitlines() if secret in line])

    def test_only_administrators_choose_where_the_secrets_go(self):
        manager = new_test_user(
            self.env,
            "pesapal-mgr",
            groups="isp_billing.group_isp_manager,account.group_account_manager",
            company_id=self.ke_company.id,
            company_ids=[Command.set(self.ke_company.ids)],
        )
        provider = self.pesapal.with_user(manager)
        for name in ("pesapal_base_url", "isp_callback_base_url", "pesapal_ipn_key"):
            with self.subTest(field=name), self.assertRaises(AccessError):
                provider.write({name: "https://attacker.example"})
        # a new API URL (by an administrator): the token and IPN registration are forgotten,
        # never sent to the new address
        self._tx()
        self.assertTrue(self.pesapal.pesapal_ipn_id)
        self.pesapal.pesapal_base_url = self.pesapal_sim.url + "/"
        self.assertFalse(self.pesapal.pesapal_ipn_id)
        self.assertFalse(self.pesapal.sudo().pesapal_token_encrypted)

    def test_offered_for_its_currencies_and_not_on_the_captive_page(self):
        Provider = self.env["payment.provider"].sudo()
        for currency, offered in (("KES", True), ("EUR", False)):
            with self.subTest(currency=currency):
                currency_id = self.env.ref(f"base.{currency}").id
                providers = Provider._get_compatible_providers(
                    self.ke_company.id, self.customer.id, 1000.0, currency_id=currency_id
                )
                self.assertEqual(self.pesapal in providers, offered)
        # a redirect provider: the captive page (push only) does not list it
        self.assertFalse(self.pesapal._isp_can_push())
        if hasattr(self.pesapal, "_isp_hotspot_can_push"):
            self.assertFalse(self.pesapal._isp_hotspot_can_push())

    def test_each_company_gets_a_disabled_provider_and_its_journal(self):
        company = self.env["res.company"].create(
            {"name": "Kampala Fibre", "country_id": self.env.ref("base.ug").id}
        )
        self.env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
        self.env["payment.provider"]._setup_provider("pesapal")
        provider = self.env["payment.provider"].search(
            [("code", "=", "pesapal"), ("company_id", "=", company.id)]
        )
        self.assertEqual(len(provider), 1)
        self.assertEqual(provider.state, "disabled")
        self.assertFalse(provider.sudo().pesapal_consumer_key_encrypted)
        self.assertEqual(provider.journal_id.code, "PSPL")
        self.assertEqual(provider.journal_id.company_id, company)
