"""A customer who uses the captive page in Swahili gets Swahili SMS: the page's language
becomes the customer's (res.partner._isp_adopt_lang) when a mobile-money payment (isp_mpesa's
ClickPesa on its simulator, confirmed by the provider's webhook) or a voucher makes them a
customer, so that isp_sms's confirmation is rendered in it."""

import re

from odoo.tests import tagged

from odoo.addons.isp_hotspot.tests.common import CaptivePageSession
from odoo.addons.isp_mpesa.tests.common import MpesaCase

SWAHILI_PAYMENT = "Malipo yamethibitishwa!"
SWAHILI_VOUCHER = "imetumika! Huduma yako ya intaneti"


def csrf(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@tagged("post_install", "-at_install")
class TestHotspotCustomerLang(CaptivePageSession, MpesaCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        website = cls.env["website"].get_current_website()
        website.company_id = cls.tz_company
        cls.clickpesa.is_published = True
        cls.env["res.lang"]._activate_lang("sw")
        cls.env["ir.module.module"]._load_module_terms(
            ["isp_sms", "isp_hotspot"], ["sw"], overwrite=True
        )
        cls.tz_company.partner_id.lang = "en_US"

    def _page_post(self, path, lang, **values):
        page = self.url_open(f"/hotspot?lang={lang}")
        self.assertEqual(page.status_code, 200)
        self.env.flush_all()
        response = self.url_open(path, data={**values, "lang": lang, "csrf_token": csrf(page.text)})
        self.env.invalidate_all()
        return response

    def _pay_on_page(self, phone, lang):
        self.clickpesa_sim.next_result()
        response = self._page_post("/hotspot/pay", lang, phone=phone, bundle_id=self.tzs_bundle.id)
        self.assertEqual(response.status_code, 200, response.text[-500:])
        tx = self.env["payment.transaction"].search(
            [("isp_phone", "=", phone)], order="id desc", limit=1
        )
        self.assertEqual(tx.isp_hotspot_lang, lang)
        self._clickpesa_webhook(tx)
        self.assertEqual(tx.isp_subscription_id.state, "active")
        return tx.partner_id

    def _sms_bodies(self, partner):
        return self.env["sms.sms"].sudo().search([("partner_id", "=", partner.id)]).mapped("body")

    def test_new_payer_on_the_swahili_page_gets_swahili_sms(self):
        partner = self._pay_on_page("+255754300001", "sw")
        self.assertEqual(partner.lang, "sw")
        bodies = self._sms_bodies(partner)
        self.assertTrue(bodies)
        self.assertTrue(any(SWAHILI_PAYMENT in body for body in bodies), bodies)
        self.assertFalse([body for body in bodies if "Payment confirmed" in body])

    def test_new_payer_on_the_english_page_gets_english_sms(self):
        partner = self._pay_on_page("+255754300002", "en_US")
        self.assertEqual(partner.lang, "en_US")
        self.assertTrue(any("Payment confirmed!" in b for b in self._sms_bodies(partner)))

    def test_existing_customer_with_the_default_language_adopts_swahili(self):
        customer = self.env["res.partner"].create(
            {
                "name": "Existing",
                "phone": "+255754300003",
                "is_isp_customer": True,
                "company_id": self.tz_company.id,
                "lang": "en_US",  # the company's default: nobody chose it
            }
        )
        partner = self._pay_on_page("+255754300003", "sw")
        self.assertEqual(partner, customer)
        self.assertEqual(customer.lang, "sw")
        self.assertTrue(any(SWAHILI_PAYMENT in b for b in self._sms_bodies(customer)))

    def test_a_chosen_language_is_kept(self):
        customer = self.env["res.partner"].create(
            {
                "name": "Chose Swahili",
                "phone": "+255754300004",
                "is_isp_customer": True,
                "company_id": self.tz_company.id,
                "lang": "sw",
            }
        )
        self._pay_on_page("+255754300004", "en_US")
        self.assertEqual(customer.lang, "sw", "not the company's default: kept")
        self.assertTrue(any(SWAHILI_PAYMENT in b for b in self._sms_bodies(customer)))

    def test_voucher_on_the_swahili_page_gets_swahili_sms(self):
        batch = self.env["isp.voucher.batch"].create(
            {"name": "HS-LANG", "quantity": 2, "bundle_id": self.tzs_bundle.id}
        )
        batch.action_generate()
        first, second = batch.voucher_ids
        response = self._page_post("/hotspot/voucher", "sw", code=first.code, phone="0754 300 005")
        self.assertEqual(response.status_code, 200, response.text[-500:])
        partner = self.env["res.partner"].search([("phone", "=", "+255754300005")])
        self.assertEqual(partner.lang, "sw")
        bodies = self._sms_bodies(partner)
        self.assertTrue(any(SWAHILI_VOUCHER in body for body in bodies), bodies)
        # someone else crediting a customer's number (not signed in as them) does not
        # change the customer's language
        owner = self.env["res.partner"].create(
            {
                "name": "Owner",
                "phone": "+255754300006",
                "is_isp_customer": True,
                "company_id": self.tz_company.id,
                "lang": "en_US",
            }
        )
        self.url_open("/web/session/logout")
        response = self._page_post("/hotspot/voucher", "sw", code=second.code, phone="0754 300 006")
        self.assertEqual(response.status_code, 200, response.text[-500:])
        self.assertEqual(second.state, "redeemed")
        self.assertEqual(owner.lang, "en_US")
