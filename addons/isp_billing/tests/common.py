from datetime import timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.tests import TransactionCase


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
        return self.env["isp.subscription"]._isp_fulfil(
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

    def _run_invoicing_cron(self, batch_size=20):
        """Run the deferred-invoice job as the cron would, its commits recorded, not done."""
        reports = []

        def commit_progress(cron, processed=0, *, remaining=None, deactivate=False):
            reports.append((processed, remaining))
            return 60.0

        with patch.object(type(self.env["ir.cron"]), "_commit_progress", commit_progress):
            self.env["isp.purchase"]._cron_isp_invoice_purchases(batch_size=batch_size)
        self.env.invalidate_all()
        return reports
