from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.isp_billing.exceptions import IspVoucherRefused
from odoo.addons.isp_billing.models import isp_voucher_code

from .common import IspBillingCase


@tagged("post_install", "-at_install")
class TestSwahili(IspBillingCase):
    """A customer whose language is Swahili is told why a voucher or a phone number is
    refused in Swahili (i18n/sw.po)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("sw")
        cls.env["ir.module.module"]._load_module_terms(["isp_billing"], ["sw"], overwrite=True)
        cls.batch = cls.env["isp.voucher.batch"].create(
            {"name": "SW-1", "quantity": 2, "bundle_id": cls.daily.id}
        )
        cls.batch.action_generate()
        cls.customer = cls._customer("0712345678", lang="sw")

    def _sw(self):
        return self.env(context={**self.env.context, "lang": self.customer.lang})

    def _refusal(self, env, code):
        try:
            env["isp.voucher"]._redeem(code, "0712345678")
        except IspVoucherRefused as error:
            return error.result, error.args[0]
        self.fail(f"{code} was redeemed")

    def test_voucher_refusals_in_swahili(self):
        sw = self._sw()
        self.assertEqual(
            self._refusal(sw, isp_voucher_code.random_codes(1)[0]),
            ("unknown", "Namba hii ya vocha haipo. Ikague kisha ujaribu tena."),
        )
        used = self.batch.voucher_ids[0]
        self.env["isp.voucher"]._redeem(used.code, "0712345678")
        self.assertEqual(self._refusal(sw, used.code), ("used", "Vocha hii imeshatumika."))
        self.assertEqual(
            self._refusal(sw, "ABCD"),
            (
                "malformed",
                "ABCD si namba ya vocha: ikague (herufi na tarakimu 12, kama ABCD-EFGH-JKMN).",
            ),
        )
        # the same refusal in English for an English context
        self.assertEqual(
            self._refusal(self.env(context={"lang": "en_US"}), used.code),
            ("used", "This voucher has already been used."),
        )

    def test_phone_errors_in_swahili(self):
        Partner = self._sw()["res.partner"]
        with self.assertRaises(ValidationError) as caught:
            Partner._isp_normalize_phone("07123")
        self.assertEqual(caught.exception.args[0], "07123 ina tarakimu chache mno.")
        with self.assertRaises(ValidationError) as caught:
            Partner._isp_normalize_phone("hello")
        self.assertEqual(caught.exception.args[0], "hello si namba ya simu.")
        with self.assertRaises(ValidationError) as caught:
            Partner._isp_normalize_phone("")
        self.assertEqual(caught.exception.args[0], "Namba ya simu inahitajika.")

    def test_portal_and_card_labels_in_swahili(self):
        """The translated view terms are loaded: the card's and the portal's labels."""
        View = self._sw()["ir.ui.view"]
        card = View.browse(self.env.ref("isp_billing.isp_voucher_card").id).arch_db
        self.assertIn("Namba ya vocha", card)
        self.assertIn("Changanua msimbo wa QR", card)
        self.assertNotIn("Voucher code", card)
