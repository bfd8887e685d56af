import ast

from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import IspPaymentCase


@tagged("post_install", "-at_install")
class TestBundlePrice(IspPaymentCase):
    """A bundle made in the back office belongs to the current company and is priced in its
    currency; its one customer price (taxes included) is what a payment must bring."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls._customer("0712345678")
        # the company's default sales tax: 18%, added on top of the price
        cls.vat_excl = cls.env["account.tax"].create(
            {
                "name": "VAT 18% excluded (test)",
                "amount": 18.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "price_include_override": "tax_excluded",
                "company_id": cls.company.id,
            }
        )
        cls.company.account_sale_tax_id = cls.vat_excl

    def _form_bundle(self, name, price):
        """A bundle made as ISP → Configuration → Bundles → New does."""
        action = self.env.ref("isp_billing.product_template_action")
        Template = self.env["product.template"].with_context(
            allowed_company_ids=self.company.ids, **ast.literal_eval(action.context)
        )
        with Form(Template) as form:
            form.name = name
            form.list_price = price
        return form.record

    def test_form_bundle_has_company_currency_and_default_tax(self):
        bundle = self._form_bundle("Form Daily", 1000)
        self.assertTrue(bundle.is_isp_bundle)
        self.assertEqual(bundle.company_id, self.company)
        self.assertEqual(bundle.currency_id, self.company.currency_id)
        self.assertEqual(bundle.taxes_id, self.vat_excl)
        variant = bundle.product_variant_id
        price, currency = variant._isp_customer_price(self.customer)
        self.assertEqual((price, currency), (1180, self.company.currency_id))
        self.assertEqual(
            self.env["isp.purchase"]._invoice_total(self.customer, variant, self.company),
            (price, currency),
        )

    def test_product_ticked_as_bundle_gets_the_company(self):
        with Form(
            self.env["product.template"].with_context(allowed_company_ids=self.company.ids)
        ) as form:
            form.name = "Ticked later"
            self.assertFalse(form.company_id)
            form.is_isp_bundle = True
            self.assertEqual(form.company_id, self.company)
        self.assertEqual(form.record.company_id, self.company)

    def test_customer_price_is_paid_and_invoiced(self):
        bundle = self._form_bundle("Form Weekly", 5000).product_variant_id
        price, _currency = bundle._isp_customer_price(self.customer)
        self.assertEqual(price, 5900)
        tx = self._test_transaction("BP-1", self.customer, price, isp_bundle_id=bundle.id)
        tx._set_done()
        self.assertEqual(tx.isp_access_state, "fulfilled")
        self.assertEqual(tx.isp_subscription_id.state, "active")
        tx._post_process()
        invoice = tx.isp_purchase_id.invoice_id
        self.assertEqual(invoice.amount_total, price)
        self.assertEqual(invoice.payment_state, "paid")
        # the list price alone does not buy it
        short = self._test_transaction("BP-2", self.customer, 5000, isp_bundle_id=bundle.id)
        short._set_done()
        self.assertEqual(short.isp_access_state, "not_applied")

    def test_bundle_without_company_has_no_customer_price(self):
        shared = self._bundle("Shared", 1000, 1, "days", company_id=False)
        self.assertFalse(shared.company_id)
        self.assertTrue(shared._isp_sale_error(self.company))
        with self.assertRaisesRegex(UserError, "belongs to no company"):
            shared._isp_customer_price(self.customer)
        other = self.env["res.company"].create({"name": "Other ISP"})
        with self.assertRaisesRegex(UserError, "not sold by"):
            self.daily._isp_customer_price(company=other)
