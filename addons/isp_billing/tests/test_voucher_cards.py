"""Voucher cards: what each layout prints (logo or company name, network, login address, code,
price, validity, data cap), how many cards a page, which report the batch's layout picks, and
the size of the PDF wkhtmltopdf renders with a real (large) logo."""

import base64
import io
import itertools
import random
import re
import shutil

from lxml import html as lxml_html
from PIL import Image

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger
from odoo.tools.pdf import PdfFileReader

from odoo.addons.isp_billing.models.isp_voucher_batch import CARD_LAYOUT_SPECS, CARD_LAYOUTS

from .common import IspBillingCase

# A 50-card roll and a 65-card A4 page stay well under this (a 50-card roll was 2.4 MB).
MAX_PDF_BYTES = 300_000
BATCH_NUMBERS = itertools.count(1)


def noisy_png(width=900, height=600, seed=7):
    """A photo-like PNG of about 1.5 MB: noise does not compress (the worst logo)."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


class VoucherCardCase(IspBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.logo_png = noisy_png()
        cls.company.write(
            {
                "logo": base64.b64encode(cls.logo_png),
                "isp_wifi_ssid": "KIJIJI-WIFI",
                "isp_login_address": "http://wifi.net",
            }
        )
        cls.daily.product_tmpl_id.isp_data_cap_mb = 1536
        cls.Report = cls.env["ir.actions.report"]

    @classmethod
    def _batch(cls, layout, quantity, **vals):
        batch = cls.env["isp.voucher.batch"].create(
            {
                "name": f"CARDS-{layout}-{next(BATCH_NUMBERS)}",
                "bundle_id": vals.pop("bundle", cls.daily).id,
                "quantity": quantity,
                "card_layout": layout,
                **vals,
            }
        )
        batch.action_generate()
        return batch

    def _print(self, records):
        """(report action, html tree) of Print Cards on a batch or vouchers."""
        action = records.action_print_cards()
        vouchers = self.env["isp.voucher"].browse(action["context"]["active_ids"])
        html = self.Report._render_qweb_html(action["report_name"], vouchers.ids)[0]
        return action, lxml_html.fromstring(html)

    @staticmethod
    def _text(node):
        return " ".join(node.text_content().split())


@tagged("post_install", "-at_install")
class TestVoucherCardContent(VoucherCardCase):
    def test_every_layout_prints_what_the_customer_needs(self):
        for layout, _label in CARD_LAYOUTS:
            with self.subTest(layout=layout):
                batch = self._batch(layout, 3, valid_until="2031-01-31")
                action, tree = self._print(batch)
                self.assertEqual(
                    self.env.ref(CARD_LAYOUT_SPECS[layout]["report"]).report_name,
                    action["report_name"],
                )
                cards = tree.xpath("//div[contains(@class, 'o_isp_voucher_card')]")
                self.assertEqual(
                    sorted(card.get("data-code") for card in cards),
                    sorted(batch.voucher_ids.mapped("code")),
                )
                for card, voucher in zip(
                    sorted(cards, key=lambda c: c.get("data-code")),
                    batch.voucher_ids.sorted("code"),
                    strict=True,
                ):
                    text = self._text(card)
                    self.assertIn("Wi-Fi: KIJIJI-WIFI", text)
                    self.assertIn("Login: http://wifi.net", text)
                    self.assertIn(voucher.code, text)
                    self.assertRegex(text, r"1,000\.00\s*TSh")
                    self.assertIn("1 day", text)
                    self.assertIn("1.5 GB", text)
                    self.assertIn("Valid until 01/31/2031", text)
                    # the logo, not the company's name, heads the card
                    self.assertTrue(
                        card.xpath(f".//div[contains(@class, 'o_isp_card_logo_{self.company.id}')]")
                    )
                    self.assertNotIn(self.company.name, text)
                qr = tree.xpath("//img[@alt='QR code']")
                self.assertEqual(len(qr), 3 if CARD_LAYOUT_SPECS[layout].get("qr", True) else 0)
                for img in qr:
                    self.assertTrue(img.get("src").startswith("data:image/png;base64,"))
                page = lxml_html.tostring(tree, encoding="unicode")
                self.assertNotIn("Your logo", page)
                # the logo is in the document once, whatever the number of cards
                logo = self.company.partner_id.image_256.decode()[:200]
                self.assertEqual(page.count(logo), 1)

    def test_a_company_without_logo_prints_its_name(self):
        for logo in (False, self.company._get_logo()):
            with self.subTest(logo=bool(logo)):
                self.company.logo = logo
                self.assertTrue(self.company.uses_default_logo)
                _action, tree = self._print(self._batch("a4_40", 2, notes=str(bool(logo))))
                cards = tree.xpath("//div[contains(@class, 'o_isp_voucher_card')]")
                self.assertEqual(len(cards), 2)
                for card in cards:
                    self.assertIn(self.company.name, self._text(card))
                    self.assertFalse(card.xpath(".//div[contains(@class, 'o_isp_card_logo')]"))
                page = lxml_html.tostring(tree, encoding="unicode")
                self.assertNotIn("background-image", page)
                self.assertNotIn("Your logo", page)

    def test_cards_print_in_swahili(self):
        self.env["res.lang"]._activate_lang("sw")
        self.env["ir.module.module"]._load_module_terms(["isp_billing"], ["sw"], overwrite=True)
        batch = self._batch("roll_80", 1, valid_until="2031-01-31")
        action = batch.action_print_cards()
        html = (
            self.Report.with_context(lang="sw")
            ._render_qweb_html(action["report_name"], batch.voucher_ids.ids)[0]
            .decode()
        )
        text = self._text(lxml_html.fromstring(html))
        # sw.po is merged with the module's .pot when loaded: the card's newer labels (Wi-Fi:,
        # Login:, durations) are translated once the .pot is exported with them
        self.assertIn("Namba ya vocha", text)
        self.assertIn("Changanua msimbo wa QR", text)
        self.assertIn("Inatumika hadi", text)
        self.assertNotIn("Valid until", text)

    def test_empty_network_and_login_address_are_left_out(self):
        self.company.write({"isp_wifi_ssid": False, "isp_login_address": False})
        self.daily.product_tmpl_id.isp_data_cap_mb = 0
        _action, tree = self._print(self._batch("roll_58", 1))
        text = self._text(tree.xpath("//div[contains(@class, 'o_isp_voucher_card')]")[0])
        self.assertNotIn("Wi-Fi:", text)
        self.assertNotIn("Login:", text)
        self.assertNotIn("GB", text)
        self.assertNotIn("Valid until", text)
        self.assertIn("1 day", text)

    def test_durations_and_data_caps_in_words(self):
        hours = self._batch("a4_30", 1, bundle=self.env["product.product"], duration_hours=3)
        self.assertEqual(hours.voucher_ids._card_duration(), "3 hours")
        self.assertEqual(
            self._batch("a4_30", 1, bundle=self.weekly).voucher_ids._card_duration(), "7 days"
        )
        monthly = self._batch("a4_30", 1, bundle=self.pppoe)
        self.assertEqual(monthly.voucher_ids._card_duration(), "1 month")
        self.weekly.product_tmpl_id.isp_data_cap_mb = 500
        voucher = self.env["isp.voucher"].search([("bundle_id", "=", self.weekly.id)], limit=1)
        self.assertEqual(voucher._card_data_cap(), "500 MB")
        self.weekly.product_tmpl_id.isp_data_cap_mb = 2048
        self.assertEqual(voucher._card_data_cap(), "2 GB")

    def test_network_name_and_login_address_are_checked(self):
        with self.assertRaises(ValidationError):
            self.company.isp_wifi_ssid = "x" * 33
        with self.assertRaises(ValidationError):
            self.company.isp_login_address = "http://wifi .net"
        settings = self.env["res.config.settings"].create(
            {"isp_wifi_ssid": "DUKA", "isp_login_address": "10.5.50.1"}
        )
        settings.execute()
        self.assertEqual(self.company.isp_wifi_ssid, "DUKA")
        self.assertEqual(self.company.isp_login_address, "10.5.50.1")


@tagged("post_install", "-at_install")
class TestVoucherCardLayouts(VoucherCardCase):
    def _pages(self, tree):
        """Cards on each page, and the rows x columns of the first page."""
        pages = tree.xpath("//div[contains(@class, 'o_isp_voucher_page')]")
        counts = [len(p.xpath(".//div[contains(@class, 'o_isp_voucher_card')]")) for p in pages]
        first_rows = pages[0].xpath(".//tr[td[contains(@class, 'o_isp_voucher_cell')]]")
        return counts, (len(first_rows), max(len(r.xpath("./td")) for r in first_rows or [[]]))

    def test_cards_a_page_per_layout(self):
        expected = {
            "a4_30": ([30, 30, 10], (10, 3)),
            "a4_40": ([40, 30], (10, 4)),
            "a4_65": ([65, 5], (13, 5)),
        }
        for layout, (counts, grid) in expected.items():
            with self.subTest(layout=layout):
                _action, tree = self._print(self._batch(layout, 70))
                self.assertEqual(self._pages(tree), (counts, grid))
        for layout in ("roll_80", "roll_58"):
            with self.subTest(layout=layout):
                _action, tree = self._print(self._batch(layout, 4))
                pages = tree.xpath("//div[contains(@class, 'o_isp_voucher_page')]")
                self.assertEqual(
                    [len(p.xpath(".//div[contains(@class, 'o_isp_voucher_card')]")) for p in pages],
                    [1, 1, 1, 1],
                )

    def test_new_batches_take_the_default_layout_of_the_settings(self):
        self.assertEqual(
            self.env["isp.voucher.batch"].create({"bundle_id": self.daily.id}).card_layout, "a4_30"
        )
        settings = self.env["res.config.settings"].create({"isp_voucher_card_layout": "roll_58"})
        settings.execute()
        batch = self.env["isp.voucher.batch"].create({"bundle_id": self.daily.id})
        self.assertEqual(batch.card_layout, "roll_58")

    def test_vouchers_list_prints_in_their_batch_layout(self):
        roll = self._batch("roll_80", 2)
        small, big = self._batch("a4_65", 3), self._batch("a4_30", 2)
        action, _tree = self._print(roll.voucher_ids[:1])
        self.assertEqual(action["report_name"], "isp_billing.report_isp_voucher_cards_80mm")
        # two A4 layouts in one PDF: each batch's codes on its own sheets
        action, tree = self._print(small.voucher_ids | big.voucher_ids)
        self.assertEqual(action["report_name"], "isp_billing.report_isp_voucher_cards_a4")
        pages = tree.xpath("//div[contains(@class, 'o_isp_voucher_page')]")
        self.assertEqual(
            sorted(
                (
                    p.get("data-layout"),
                    len(p.xpath(".//div[contains(@class, 'o_isp_voucher_card')]")),
                )
                for p in pages
            ),
            [("a4_30", 2), ("a4_65", 3)],
        )
        with self.assertRaises(UserError):
            (roll.voucher_ids | big.voucher_ids).action_print_cards()
        # the Print menu of the vouchers list runs the same method
        server_action = self.env.ref("isp_billing.isp_voucher_action_print_cards")
        result = server_action.with_context(
            active_model="isp.voucher", active_ids=roll.voucher_ids.ids
        ).run()
        self.assertEqual(result["report_name"], "isp_billing.report_isp_voucher_cards_80mm")

    def test_only_available_codes_are_printed_from_the_batch(self):
        batch = self._batch("a4_40", 3)
        batch.voucher_ids[:1].action_void()
        action, tree = self._print(batch)
        self.assertEqual(len(tree.xpath("//div[contains(@class, 'o_isp_voucher_card')]")), 2)
        batch.action_void_available()
        with self.assertRaises(UserError):
            batch.action_print_cards()


@tagged("post_install", "-at_install")
class TestVoucherCardPdf(VoucherCardCase):
    """The PDFs wkhtmltopdf renders: pages and paper of each layout, and their size with a
    1.5 MB logo (the logo is embedded once, the QR codes as small masks)."""

    def setUp(self):
        super().setUp()
        if not shutil.which("wkhtmltopdf"):
            self.skipTest("wkhtmltopdf is not installed")

    def _pdf(self, batch):
        action = batch.action_print_cards()
        Report = self.Report.with_context(force_report_rendering=True)
        with mute_logger("odoo.addons.base.models.ir_actions_report"):
            pdf, kind = Report._render_qweb_pdf(
                action["report_name"], action["context"]["active_ids"]
            )
        self.assertEqual(kind, "pdf")
        return pdf

    @staticmethod
    def _page_widths(pdf):
        reader = PdfFileReader(io.BytesIO(pdf))
        return [round(float(page.mediabox.width)) for page in reader.pages]

    def test_pdf_pages_and_paper_per_layout(self):
        expected = {
            "a4_30": (70, [595] * 3),  # A4 width in points
            "a4_65": (70, [595] * 2),
            "roll_80": (3, [227] * 3),  # one card a page
            "roll_58": (3, [164] * 3),
        }
        for layout, (quantity, widths) in expected.items():
            with self.subTest(layout=layout):
                self.assertEqual(
                    self._page_widths(self._pdf(self._batch(layout, quantity))), widths
                )

    def test_pdf_size_with_a_real_logo(self):
        self.assertGreater(len(self.logo_png), 1_000_000)
        logo = base64.b64decode(self.company.partner_id.image_256)
        logo_width, logo_height = Image.open(io.BytesIO(logo)).size
        sizes = {}
        for layout, quantity in (("roll_80", 50), ("roll_58", 50), ("a4_65", 65), ("a4_30", 30)):
            pdf = self._pdf(self._batch(layout, quantity))
            sizes[layout] = len(pdf)
            # the logo image is in the file once
            logos = re.findall(
                rb"/Width %d\s*/Height %d" % (logo_width, logo_height), pdf
            ) or re.findall(rb"/Height %d\s*/Width %d" % (logo_height, logo_width), pdf)
            self.assertEqual(len(logos), 1, layout)
        for layout, size in sizes.items():
            self.assertLess(size, MAX_PDF_BYTES, f"{layout}: {sizes}")
