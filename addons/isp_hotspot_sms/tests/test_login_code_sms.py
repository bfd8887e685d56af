"""The captive page's one-time sign-in code goes by SMS (isp_sms), in the customer's
language, to the SMS queue only: never to the chatter."""

import re

from odoo.tests import tagged

from odoo.addons.isp_billing.tests.common import IspBillingCase


@tagged("post_install", "-at_install")
class TestLoginCodeBySms(IspBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Codes = cls.env["isp.hotspot.login.code"]

    def _sms(self, partner):
        return self.env["sms.sms"].sudo().search([("partner_id", "=", partner.id)])

    def test_code_is_sent_by_sms(self):
        customer = self._customer("0712345670")
        self.assertTrue(self.Codes._can_deliver())
        self.Codes._issue(customer)
        sms = self._sms(customer)
        self.assertEqual(len(sms), 1)
        self.assertEqual(sms.number, "+255712345670")
        self.assertEqual(sms.isp_company_id, self.company)
        code = re.search(r"\b(\d{6})\b", sms.body).group(1)
        self.assertIn("Your Wi-Fi sign-in code is", sms.body)
        # the code is a secret: not in the customer's chatter
        self.assertFalse(customer.message_ids.filtered(lambda m: code in (m.body or "")))
        self.assertTrue(self.Codes._verify(customer, code))

    def test_code_in_swahili(self):
        self.env["res.lang"]._activate_lang("sw")
        self.env["ir.module.module"]._load_module_terms(["isp_sms"], ["sw"], overwrite=True)
        customer = self._customer("0712345671", lang="sw")
        self.Codes._issue(customer)
        self.assertIn("Nambari yako ya kuingia Wi-Fi ni", self._sms(customer).body)

    def test_the_page_sends_the_code(self):
        """The captive page (isp_hotspot's isp.hotspot) sends through the bridge."""
        customer = self._customer("0712345672")
        phone = self.env["isp.hotspot"]._send_code(self.company, "0712345672")
        self.assertEqual(phone, "+255712345672")
        self.assertEqual(len(self._sms(customer)), 1)
        # an unknown number gets the same answer and no SMS
        sms_count = self.env["sms.sms"].sudo().search_count([])
        self.assertEqual(
            self.env["isp.hotspot"]._send_code(self.company, "0712345673"),
            "+255712345673",
        )
        self.assertEqual(self.env["sms.sms"].sudo().search_count([]), sms_count)
