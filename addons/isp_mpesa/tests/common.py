import json
from contextlib import contextmanager
from datetime import timedelta
from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.tests import HttpCase
from odoo.tests.common import _super_send, get_db_name
from odoo.tools import config

from odoo.addons.isp_billing.tests.common import run_post_processing_cron

from .simulators import ClickPesaSimulator, DarajaSimulator

SECRETS = {
    "consumer_key": "ck-Zq8WmX2v",
    "consumer_secret": "cs-Lp4Rt7Yu",
    "passkey": "pk-bfb279f9aa9bdbcf158e97dd71a467cd2e0c893059b10f78e6b72ada1ed2c919",
    "client_id": "cid-Hn3Kd9Qs",
    "api_key": "ak-Vb6Nm1Xc",
    "checksum_key": "chk-Wq2Er5Ty",
}
CREDENTIAL_KEY = Fernet.generate_key().decode()


class MpesaCase(HttpCase):
    """A Kenyan operator (KES, M-Pesa) and the Tanzanian main company (TZS, ClickPesa), each
    with a daily bundle; the shipped providers with credentials, pointed at loopback
    simulators; callbacks go to the test server."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the development odoo.conf's dbfilter names another database
        cls.startClassPatcher(
            patch.dict(config.options, {"isp_credential_key": CREDENTIAL_KEY, "dbfilter": ""})
        )
        cls.kes = cls.env.ref("base.KES")
        cls.tzs = cls.env.ref("base.TZS")
        (cls.kes | cls.tzs).active = True
        cls.tz_company = cls.env.company
        cls.ke_company = cls.env["res.company"].create(
            {
                "name": "Nairobi WiFi",
                "country_id": cls.env.ref("base.ke").id,
                "currency_id": cls.kes.id,
            }
        )
        cls.env["account.chart.template"].try_loading("tz", cls.ke_company, install_demo=False)
        cls.ke_company.currency_id = cls.kes  # the chart template sets its own currency
        cls.env = cls.env(
            context=dict(
                cls.env.context, allowed_company_ids=[cls.tz_company.id, cls.ke_company.id]
            )
        )
        cls.kes_bundle = cls._bundle("Daily KE", 50, cls.ke_company)
        cls.tzs_bundle = cls._bundle("Daily TZ", 1000, cls.tz_company)
        cls.daraja_sim = DarajaSimulator(
            consumer_key=SECRETS["consumer_key"],
            consumer_secret=SECRETS["consumer_secret"],
            passkey=SECRETS["passkey"],
            send_callbacks=False,
        ).start()
        cls.addClassCleanup(cls.daraja_sim.stop)
        cls.clickpesa_sim = ClickPesaSimulator(
            client_id=SECRETS["client_id"],
            api_key=SECRETS["api_key"],
            checksum_key=SECRETS["checksum_key"],
        ).start()
        cls.addClassCleanup(cls.clickpesa_sim.stop)
        cls.daraja = cls._provider(
            "isp_mpesa.payment_provider_daraja",
            cls.ke_company,
            {
                "daraja_consumer_key": SECRETS["consumer_key"],
                "daraja_consumer_secret": SECRETS["consumer_secret"],
                "daraja_passkey": SECRETS["passkey"],
                "daraja_shortcode": "174379",
                "daraja_base_url": cls.daraja_sim.url,
            },
        )
        cls.clickpesa = cls._provider(
            "isp_mpesa.payment_provider_clickpesa",
            cls.tz_company,
            {
                "clickpesa_client_id": SECRETS["client_id"],
                "clickpesa_api_key": SECRETS["api_key"],
                "clickpesa_checksum_key": SECRETS["checksum_key"],
                "clickpesa_base_url": cls.clickpesa_sim.url,
            },
        )
        cls.pm_mpesa = cls.env.ref("payment.payment_method_mpesa")
        cls.pm_mobile = cls.env.ref("payment.payment_method_mobile_money")
        (cls.pm_mpesa | cls.pm_mobile).active = True

    @classmethod
    def _bundle(cls, name, price, company):
        return (
            cls.env["product.template"]
            .create(
                {
                    "name": name,
                    "is_isp_bundle": True,
                    "isp_service_type": "hotspot",
                    "list_price": price,
                    "isp_duration_value": 1,
                    "isp_duration_unit": "days",
                    "taxes_id": [Command.clear()],
                    "company_id": company.id,
                }
            )
            .product_variant_id
        )

    @classmethod
    def _provider(cls, xmlid, company, values):
        provider = cls.env["payment.provider"].search(
            [("code", "=", cls.env.ref(xmlid).code), ("company_id", "=", company.id)], limit=1
        ) or cls.env.ref(xmlid).copy({"company_id": company.id})
        provider.write(
            {
                "state": "test",
                "isp_callback_base_url": cls.base_url(),
                "isp_request_timeout": 10,
                "isp_push_limit": 0,
                **values,
            }
        )
        provider._isp_ensure_journal()
        return provider

    def url_open(self, url, *args, headers=None, **kwargs):
        headers = {"X-Odoo-Database": get_db_name(), **(headers or {})}
        return super().url_open(url, *args, headers=headers, **kwargs)

    def setUp(self):
        super().setUp()
        self.daraja_sim.outcomes.clear()
        self.daraja_sim.faults.clear()
        self.clickpesa_sim.outcomes.clear()
        self.clickpesa_sim.faults.clear()
        self.clickpesa_sim.webhook_url = None

    _seq = 0

    def _tx(self, provider=None, bundle=None, amount=None, **values):
        provider = provider or self.daraja
        bundle = bundle or (self.kes_bundle if provider == self.daraja else self.tzs_bundle)
        MpesaCase._seq += 1
        currency = self.kes if provider == self.daraja else self.tzs
        return (
            self.env["payment.transaction"]
            .sudo()
            .create(
                {
                    "provider_id": provider.id,
                    "payment_method_id": (
                        self.pm_mpesa if provider == self.daraja else self.pm_mobile
                    ).id,
                    "reference": values.pop("reference", f"HS-T{MpesaCase._seq:04d}"),
                    "amount": bundle.lst_price if amount is None else amount,
                    "currency_id": currency.id,
                    "partner_id": self.env.ref("base.public_partner").id,
                    "operation": "online_direct",
                    "isp_bundle_id": bundle.id,
                    **values,
                }
            )
        )

    def _push(self, tx=None, phone="0712345678", client_ip=None, **outcome):
        tx = tx or self._tx()
        sim = self.daraja_sim if tx.provider_code == "daraja" else self.clickpesa_sim
        if outcome:
            sim.next_result(**outcome)
        tx._isp_send_push(phone, client_ip=client_ip)
        return tx

    def _daraja_callback(self, tx, body=None, token=None, headers=None, **overrides):
        body = body or self.daraja_sim.callback_body(tx.daraja_checkout_request_id, **overrides)
        token = token or tx._daraja_callback_token()
        self.env.flush_all()
        response = self.url_open(
            f"/payment/daraja/callback/{token}", json=body, method="POST", headers=headers
        )
        self.env.invalidate_all()
        return response

    def _clickpesa_webhook(
        self, tx, body=None, headers=None, path="/payment/clickpesa/webhook", **overrides
    ):
        body = body or self.clickpesa_sim.webhook_body(tx.reference, **overrides)
        self.env.flush_all()
        response = self.url_open(
            path,
            data=json.dumps(body),
            headers={"Content-Type": "application/json", **(headers or {})},
            method="POST",
        )
        self.env.invalidate_all()
        return response

    def _snapshot(self, tx):
        tx.invalidate_recordset()
        return (
            tx.state,
            tx.state_message,
            tx.provider_reference,
            tx.isp_purchase_id.id,
            len(tx.isp_callback_ids),
            self.env["isp.purchase"].search_count([("reference", "=", tx.reference)]),
        )

    def _run_invoicing(self):
        """Run Odoo's post-processing cron, which issues the bundle payments' invoices."""
        run_post_processing_cron(self.env)

    def _invoicing_triggered(self):
        """Whether Odoo's post-processing cron is due to run now (a trigger at or before
        now)."""
        cron = self.env.ref("payment.cron_post_process_payment_tx")
        return bool(
            self.env["ir.cron.trigger"].search_count(
                [("cron_id", "=", cron.id), ("call_at", "<=", fields.Datetime.now())]
            )
        )

    @contextmanager
    def _short_timeouts(self):
        """Odoo's test harness raises every outbound timeout to 10 s: not for this block."""
        with patch.object(
            HttpCase,
            "_request_handler",
            classmethod(lambda cls, s, r, **kw: _super_send(s, r, **kw)),
        ):
            yield

    def _age(self, txs, seconds):
        """Make these transactions pushed ``seconds`` ago."""
        for tx in txs:
            tx.isp_pushed_at = fields.Datetime.now() - timedelta(seconds=seconds)

    def _book_c2b(self):
        """Run the C2B booking cron as the cron worker does after confirmations (its commits
        recorded, not done): the recorded Paybill / Till payments booked and matched."""
        self.env.flush_all()
        with patch.object(type(self.env["ir.cron"]), "_commit_progress", lambda *a, **k: 60.0):
            self.env["isp.mpesa.c2b"]._cron_c2b_book()
        self.env.flush_all()
        self.env.invalidate_all()

    def _run_poll_cron(self):
        """Run the status poll cron as the cron worker does (its commits recorded, not done)."""
        with patch.object(type(self.env["ir.cron"]), "_commit_progress", lambda *a, **k: 60.0):
            self.env["payment.transaction"]._cron_isp_mpesa_poll()
        self.env.invalidate_all()


def create_committed_daraja_setup(registry, name, sim_url, server_url, secrets=None):
    """A Kenyan company (KES) with its chart of accounts, a daily bundle (KES 50) and an M-Pesa
    provider in test mode on the Daraja simulator, all committed, for tests and benchmarks
    whose callbacks go through a separate Odoo server. The chart is committed before the
    provider and its journal are set up. Returns (company id, bundle variant id, provider id).
    """
    secrets = secrets or SECRETS
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        kes = env.ref("base.KES")
        kes.active = True
        company = env["res.company"].create({"name": name, "country_id": env.ref("base.ke").id})
        env["account.chart.template"].try_loading("tz", company, install_demo=False)
        company.currency_id = kes
        company_id = company.id
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"allowed_company_ids": [company_id]})
        bundle = env["product.template"].create(
            {
                "name": "Daily",
                "is_isp_bundle": True,
                "list_price": 50,
                "isp_duration_value": 1,
                "isp_duration_unit": "days",
                "company_id": company_id,
                "taxes_id": [Command.clear()],
            }
        )
        provider = env.ref("isp_mpesa.payment_provider_daraja").copy(
            {"company_id": company_id, "name": f"M-Pesa {name}"}
        )
        provider.write(
            {
                "daraja_consumer_key": secrets["consumer_key"],
                "daraja_consumer_secret": secrets["consumer_secret"],
                "daraja_passkey": secrets["passkey"],
                "daraja_shortcode": "174379",
                "daraja_base_url": sim_url,
                "isp_callback_base_url": server_url,
                "isp_push_limit": 0,
                "state": "test",
            }
        )
        provider._isp_ensure_journal()
        env.ref("payment.payment_method_mpesa").active = True
        return company_id, bundle.product_variant_id.id, provider.id


def retire_committed_provider(registry, provider_id):
    """Disable a provider committed by ``create_committed_daraja_setup`` and erase its stored
    credentials: they were encrypted with a test-only key, so nothing could read (or rotate)
    them afterwards."""
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        provider = env["payment.provider"].browse(provider_id)
        provider.write(
            dict.fromkeys(provider._isp_secret_fields.values(), False) | {"state": "disabled"}
        )
