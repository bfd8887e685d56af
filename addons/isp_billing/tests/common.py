import logging
import threading
import uuid
from contextlib import contextmanager
from datetime import timedelta
from unittest.mock import patch

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, TransactionCase, new_test_user
from odoo.tests.common import get_db_name

from odoo.addons.payment.tests.common import PaymentCommon


@contextmanager
def captured_logs(levels):
    """The lines ("logger: message") logged meanwhile anywhere, as a list, with the loggers of
    ``levels`` ({name: level}, "" for the root) at those levels meanwhile. Odoo's HTTP server
    writes its request log on ``werkzeug`` at INFO."""
    lines = []

    class Capture(logging.Handler):
        def emit(self, record):
            lines.append(f"{record.name}: {record.getMessage()}")

    handler, root = Capture(logging.DEBUG), logging.getLogger()
    loggers = {logging.getLogger(name or None): level for name, level in levels.items()}
    previous = {logger: logger.level for logger in loggers}
    root.addHandler(handler)
    for logger, level in loggers.items():
        logger.setLevel(level)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        for logger, level in previous.items():
            logger.setLevel(level)


def set_dummy_provider_journal(provider, journal):
    """Put Odoo's dummy provider (code "none") in ``journal``, with the electronic payment
    method account_payment needs for its code, as AccountPaymentCommon does."""
    env = provider.env
    Method = env.registry["account.payment.method"]
    original = Method._get_payment_method_information

    def info(self):
        return dict(original(self), none={"mode": "electronic", "type": ("bank",)})

    with patch.object(Method, "_get_payment_method_information", info):
        env["account.payment.method"].sudo().create(
            {"name": "Test method", "code": "none", "payment_type": "inbound"}
        )
        provider.journal_id = journal


def run_post_processing_cron(env):
    """Run Odoo's post-processing cron (``payment.cron_post_process_payment_tx``) as the cron
    worker does once triggered: its commit after each transaction releases a savepoint, its
    rollback rolls one back (a test cannot commit)."""
    cr = env.cr
    savepoint = [cr.savepoint()]

    def commit():
        env.flush_all()
        savepoint[0].close(rollback=False)
        savepoint[0] = cr.savepoint()

    def rollback():
        savepoint[0].close(rollback=True)
        env.transaction.clear()
        savepoint[0] = cr.savepoint()

    with patch.object(cr, "commit", commit), patch.object(cr, "rollback", rollback):
        env["payment.transaction"]._cron_post_process()
    env.flush_all()
    savepoint[0].close(rollback=False)
    env.invalidate_all()


class IspBillingCase(TransactionCase):
    """A Tanzanian operator with the seed's bundles, an 18% VAT (price included) and a bank
    journal; helpers to make customers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.partner_id.country_id = cls.env.ref("base.tz")
        cls.company.isp_default_device_limit = 3
        cls.vat = cls.env["account.tax"].create(
            {
                "name": "VAT 18% (test)",
                "amount": 18.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "price_include_override": "tax_included",
                "company_id": cls.company.id,
            }
        )
        cls.daily = cls._bundle("Daily", 1000, 1, "days", sequence=1)
        cls.weekly = cls._bundle("Weekly", 6000, 7, "days", sequence=2)
        cls.monthly = cls._bundle("Monthly", 25000, 30, "days", sequence=3)
        cls.pppoe = cls._bundle(
            "Home 10 Mbps", 50000, 1, "months", service_type="pppoe", sequence=10
        )
        cls.journal = cls.env["account.journal"].create(
            {
                "name": "Mobile Money (test)",
                "code": "TMM",
                "type": "bank",
                "company_id": cls.company.id,
            }
        )

    @classmethod
    def _test_transaction(cls, reference, partner, amount, **values):
        """A transaction of ``cls.provider`` (``IspPaymentCase``) by ``partner``."""
        return cls.env["payment.transaction"].create(
            {
                "provider_id": cls.provider.id,
                "payment_method_id": cls.env.ref("payment.payment_method_unknown").id,
                "reference": reference,
                "amount": amount,
                "currency_id": cls.company.currency_id.id,
                "partner_id": partner.id,
                "operation": "online_direct",
                **values,
            }
        )

    @classmethod
    def _bundle(cls, name, price, value, unit, service_type="hotspot", **extra):
        template = cls.env["product.template"].create(
            {
                "name": name,
                "is_isp_bundle": True,
                "isp_service_type": service_type,
                "list_price": price,
                "isp_duration_value": value,
                "isp_duration_unit": unit,
                "taxes_id": [Command.set(cls.vat.ids)],
                "company_id": cls.company.id,
                **extra,
            }
        )
        return template.product_variant_id

    @classmethod
    def _portal_user(cls, partner, login):
        """A portal user of ``partner`` in the company; its password is LOGIN-pass-1234."""
        return new_test_user(
            cls.env,
            login=login,
            password=login + "-pass-1234",
            groups="base.group_portal",
            partner_id=partner.id,
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    @classmethod
    def _customer(cls, phone, company=None, **vals):
        return cls.env["res.partner"].create(
            {
                "name": f"Customer {phone}",
                "phone": phone,
                "is_isp_customer": True,
                "company_id": (company or cls.company).id,
                **vals,
            }
        )

    def _fulfil(self, partner, bundle, reference, **kwargs):
        kwargs.setdefault("journal", self.journal)
        return self.env["isp.purchase"]._fulfil(
            partner, bundle, kwargs.pop("source", "payment"), reference, **kwargs
        )

    @staticmethod
    def _hours(delta):
        return round(delta / timedelta(hours=1), 6)

    @staticmethod
    def _now():
        return fields.Datetime.now()

    def _run_expiry_cron(self, batch_size=1000, seconds_left=60.0):
        """Run the expiry sweep as the cron would, with its commits recorded instead of done
        (a test cannot commit). Returns the (processed, remaining) progress reports."""
        reports = []

        def commit_progress(cron, processed=0, *, remaining=None, deactivate=False):
            reports.append((processed, remaining))
            return seconds_left

        with patch.object(type(self.env["ir.cron"]), "_commit_progress", commit_progress):
            self.env["isp.subscription"]._cron_expire_subscriptions(batch_size=batch_size)
        return reports

    def _run_post_processing_cron(self):
        run_post_processing_cron(self.env)

    def _post_processing_triggers(self):
        """The triggers of Odoo's post-processing cron due now."""
        cron = self.env.ref("payment.cron_post_process_payment_tx")
        return self.env["ir.cron.trigger"].search(
            [("cron_id", "=", cron.id), ("call_at", "<=", fields.Datetime.now())]
        )


class IspPaymentCase(IspBillingCase, PaymentCommon):
    """IspBillingCase with Odoo's dummy payment provider (code "none", PaymentCommon) paying
    into the bank journal, account_payment's post-processing on (payments, reconciliation)."""

    @classmethod
    def default_env_context(cls):
        """Override of BaseCommon: the suite's tests read chatter and tracking, keep mail on."""
        return {}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.enable_post_process_patcher = False
        cls.provider = cls._test_provider()

    @classmethod
    def _test_provider(cls):
        """Odoo's dummy provider, in the bank journal: account_payment needs an electronic
        payment method of the provider's code (as AccountPaymentCommon makes it)."""
        set_dummy_provider_journal(cls.dummy_provider, cls.journal)
        return cls.dummy_provider


class IspCommittedCase(BaseCase):
    """Tests whose data is committed (other transactions, threads or servers must see it),
    in a company of its own (``_create_company``) that the assertions are scoped to."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())
        cls.tag = uuid.uuid4().hex[:8]

    @classmethod
    def _create_company(cls, env, name, **values):
        """A Tanzanian company named ``name`` and this class's tag, with its chart of
        accounts: (company, env in that company)."""
        company = env["res.company"].create(
            {
                "name": f"{name} {cls.tag}",
                "country_id": env.ref("base.tz").id,
                "currency_id": env.ref("base.TZS").id,
                **values,
            }
        )
        env["account.chart.template"].try_loading("tz", company, install_demo=False)
        return company, env(context={"allowed_company_ids": company.ids})

    @classmethod
    def _create_bundle(cls, env, company, name="Daily", **values):
        """A one-day bundle of 1,000 without taxes: its product.product."""
        template = env["product.template"].create(
            {
                "name": name,
                "is_isp_bundle": True,
                "list_price": 1000,
                "isp_duration_value": 1,
                "isp_duration_unit": "days",
                "company_id": company.id,
                "taxes_id": [Command.clear()],
                **values,
            }
        )
        return template.product_variant_id

    def _env(self, cr):
        return api.Environment(cr, SUPERUSER_ID, {"allowed_company_ids": [self.company_id]})

    @staticmethod
    def _at_once(worker, calls, timeout=180):
        """Run ``worker(barrier, *call)`` for each call in a thread of its own; the worker
        waits on ``barrier`` to start its critical part with the others. Returns each
        worker's result (or the exception it raised, for the assertions to report), in the
        order of ``calls``."""
        barrier = threading.Barrier(len(calls))
        results = [None] * len(calls)

        def run(index, call):
            try:
                results[index] = worker(barrier, *call)
            except Exception as exc:  # reported by the assertions
                results[index] = exc

        threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=timeout)
        return results
