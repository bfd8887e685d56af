import ast
import re
from unittest.mock import patch

from odoo import Command
from odoo.tests import Form, tagged

from odoo.addons.isp_billing.tests.common import set_dummy_provider_journal

from .common import HotspotCase


@tagged("post_install", "-at_install")
class TestHotspotPrice(HotspotCase):
    """What the page shows = what the phone is asked to pay = the invoice total, taxes
    included; a bundle the company cannot sell is refused before any transaction."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.journal = cls.env["account.journal"].create(
            {"name": "Mobile Money (price test)", "code": "TMMP", "type": "bank"}
        )
        cls.provider = cls.env["payment.provider"].create(
            {
                "name": "Test Push",
                "code": "none",
                "state": "test",
                "is_published": True,
                "company_id": cls.company.id,
                "payment_method_ids": [
                    Command.set(cls.env.ref("payment.payment_method_mobile_money").ids)
                ],
            }
        )
        set_dummy_provider_journal(cls.provider, cls.journal)
        cls.env.ref("payment.payment_method_mobile_money").active = True
        # the provider module's push hooks (isp_mpesa implements them): the request "sent"
        provider_id = cls.provider.id
        Provider = cls.registry["payment.provider"]
        Transaction = cls.registry["payment.transaction"]
        can_push = Provider._isp_can_push
        send_push = Transaction._isp_send_push

        def isp_can_push(self):
            return self.id == provider_id or can_push(self)

        def isp_send_push(self, phone, client_ip=None):
            if self.provider_id.id != provider_id:
                return send_push(self, phone, client_ip=client_ip)
            self._set_pending()
            return True

        cls.startClassPatcher(patch.object(Provider, "_isp_can_push", isp_can_push))
        cls.startClassPatcher(patch.object(Transaction, "_isp_send_push", isp_send_push))
        # the company's default sales tax: 18% on top of the price
        cls.vat = cls.env["account.tax"].create(
            {
                "name": "VAT 18% excluded (hotspot test)",
                "amount": 18.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "price_include_override": "tax_excluded",
                "company_id": cls.company.id,
            }
        )
        cls.company.account_sale_tax_id = cls.vat
        action = cls.env.ref("isp_billing.product_template_action")
        Template = cls.env["product.template"].with_context(
            allowed_company_ids=cls.company.ids, **ast.literal_eval(action.context)
        )
        with Form(Template) as form:
            form.name = "HS Taxed Day"
            form.list_price = 1000
        cls.taxed = form.record.product_variant_id

    def _pay(self, bundle, phone="0754111222"):
        return self.api(
            "POST",
            "/api/initiate-payment/",
            {"phone": phone, "bundle_id": bundle.id, "provider_id": self.provider.id},
        )

    def test_page_push_and_invoice_agree_on_the_taxed_price(self):
        self.assertEqual(self.taxed.company_id, self.company)
        self.assertEqual(self.taxed.taxes_id, self.vat)
        bundles = {b["id"]: b for b in self.api("GET", "/api/bundles/").json()["bundles"]}
        self.assertEqual(bundles[self.taxed.id]["price"], 1180)
        self.assertEqual(bundles[self.taxed.id]["currency"], self.company.currency_id.name)
        self.assertIn("TSh 1,180", self.url_open("/hotspot").text)
        response = self._pay(self.taxed)
        self.assertEqual(response.status_code, 201, response.text)
        tx = self.env["payment.transaction"].search(
            [("reference", "=", response.json()["reference"])]
        )
        self.assertEqual((tx.amount, tx.currency_id), (1180, self.company.currency_id))
        self.assertEqual(tx.state, "pending")
        tx._set_done()
        self.assertEqual(tx.isp_access_state, "fulfilled")
        self.assertEqual(tx.isp_subscription_id.state, "active")
        tx._post_process()
        invoice = tx.isp_purchase_id.invoice_id
        self.assertEqual(invoice.amount_total, 1180)
        self.assertEqual(invoice.payment_state, "paid")
        status = self.api("GET", response.json()["status_url"]).json()
        self.assertEqual(status["status"], "paid", status)

    def test_seed_api_phone_number(self):
        """The seed API's phone_number pays as phone does; both, differing: refused."""
        txs = self.env["payment.transaction"].search_count([])
        body = {"bundle_id": self.taxed.id, "provider_id": self.provider.id}
        conflicting = dict(body, phone="0754111222", phone_number="0754333444")
        self.assertError(
            self.api("POST", "/api/initiate-payment/", conflicting), 400, "conflicting_fields"
        )
        self.assertEqual(self.env["payment.transaction"].search_count([]), txs)
        response = self.api("POST", "/api/initiate-payment/", dict(body, phone_number="0754333444"))
        self.assertEqual(response.status_code, 201, response.text)
        tx = self.env["payment.transaction"].search(
            [("reference", "=", response.json()["reference"])]
        )
        self.assertEqual((tx.isp_phone, tx.amount, tx.state), ("+255754333444", 1180, "pending"))

    def test_bundle_without_company_refused_before_any_transaction(self):
        shared = self._bundle("HS Shared", 500, 1, "hours", 0)
        shared.product_tmpl_id.company_id = False
        self.assertNotIn(
            shared.id, [b["id"] for b in self.api("GET", "/api/bundles/").json()["bundles"]]
        )
        self.assertNotIn("HS Shared", self.url_open("/hotspot").text)
        txs = self.env["payment.transaction"].search_count([])
        error = self.assertError(self._pay(shared), 400, "invalid")
        self.assertIn("belongs to no company", error["message"])
        html = self.url_open("/hotspot").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        page = self.url_open(
            "/hotspot/pay",
            data={"phone": "0754111222", "bundle_id": shared.id, "csrf_token": token},
            method="POST",
        )
        self.assertEqual(page.status_code, 400)
        self.assertIn("belongs to no company", page.text)
        self.assertEqual(self.env["payment.transaction"].search_count([]), txs)

    def test_other_currency_refused_before_any_transaction(self):
        """A shared bundle is priced in the main company's currency: a company in another
        currency is refused before the transaction and the push."""
        kes = self.env.ref("base.KES")
        kes.active = True
        other = self.env["res.company"].create(
            {"name": "Kenya ISP", "currency_id": kes.id, "country_id": self.env.ref("base.ke").id}
        )
        shared = self._bundle("HS Shared KE", 500, 1, "hours", 0)
        shared.product_tmpl_id.company_id = False
        self.assertNotEqual(shared.currency_id, kes)
        txs = self.env["payment.transaction"].search_count([])
        hotspot = self.env["isp.hotspot"].sudo()
        with self.assertRaisesRegex(Exception, "belongs to no company"):
            hotspot._initiate_payment(other, "0712345678", shared.id)
        self.assertEqual(self.env["payment.transaction"].search_count([]), txs)
        self.assertEqual(hotspot._catalogue(other)["bundles"], [])

    def test_not_applied_payment_does_not_invite_a_second_one(self):
        response = self._pay(self.taxed)
        tx = self.env["payment.transaction"].search(
            [("reference", "=", response.json()["reference"])]
        )
        tx.amount = 1000  # the list price: short of the tax
        tx._set_done()
        self.assertEqual(tx.isp_access_state, "not_applied")
        status = self.api("GET", response.json()["status_url"]).json()
        self.assertEqual(status["status"], "not_applied", status)
        self.assertIn("Do not pay again", status["message"])
        token = response.json()["access_token"]
        page = self.url_open(
            "/hotspot/wait", params={"reference": tx.reference, "token": token}
        ).text
        self.assertIn("Do not pay again", page)
        self.assertNotIn("Try again", page)
