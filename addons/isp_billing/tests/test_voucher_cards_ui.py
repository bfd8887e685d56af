import json
from urllib.parse import quote

from odoo import Command
from odoo.tests import HttpCase, tagged

from . import test_dashboard_ui


@tagged("post_install", "-at_install")
class TestVoucherCardsUi(HttpCase):
    """Choosing a batch's card layout and marking it sold, in headless Chromium (any console
    error fails the test); a screenshot of the batch at the end goes to artifacts/."""

    _chromium = test_dashboard_ui.TestDashboardUi._chromium

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.company
        company.isp_voucher_card_layout = "a4_30"
        cls.user = cls.env["res.users"].create(
            {
                "name": "Voucher tour manager",
                "login": "isp_voucher_tour",
                "password": "isp_voucher_tour",
                "tz": "Africa/Dar_es_Salaam",
                "company_id": company.id,
                "company_ids": [Command.set(company.ids)],
                "group_ids": [
                    Command.set(
                        [
                            cls.env.ref("isp_billing.group_isp_manager").id,
                            cls.env.ref("account.group_account_invoice").id,
                        ]
                    )
                ],
            }
        )
        bundle = (
            cls.env["product.template"]
            .create(
                {
                    "name": "Tour cards daily",
                    "is_isp_bundle": True,
                    "list_price": 1000,
                    "isp_duration_value": 1,
                    "isp_duration_unit": "days",
                    "company_id": company.id,
                    "taxes_id": [Command.clear()],
                }
            )
            .product_variant_id
        )
        cls.batch = cls.env["isp.voucher.batch"].create(
            {"name": "TOUR-CARDS", "bundle_id": bundle.id, "quantity": 12}
        )
        cls.batch.action_generate()

    def test_choose_layout_and_mark_sold(self):
        with self._chromium(screenshot="isp_voucher_batch_sold.png"):
            self.start_tour("/odoo", "isp_billing_voucher_cards_tour", login="isp_voucher_tour")
        self.assertEqual(self.batch.card_layout, "roll_58")
        move = self.batch.voucher_ids.sale_move_id
        self.assertEqual(len(move), 1)
        self.assertEqual((move.amount_total, move.payment_state), (12000, "paid"))
        self.assertEqual(move.matched_payment_ids.journal_id.type, "cash")

    def test_print_cards_downloads_the_pdf_of_the_layout(self):
        """What the client does with Print Cards' action: /report/pdf/<report>/<ids>."""
        self.batch.card_layout = "a4_65"
        action = self.batch.action_print_cards()
        ids = ",".join(map(str, action["context"]["active_ids"]))
        self.authenticate("isp_voucher_tour", "isp_voucher_tour")
        # force_report_rendering: a test server answers a report's HTML otherwise
        context = json.dumps({"force_report_rendering": True})
        response = self.url_open(
            f"/report/pdf/{action['report_name']}/{ids}?context={quote(context)}", timeout=120
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "application/pdf")
        self.assertTrue(response.content.startswith(b"%PDF"))
        self.assertLess(len(response.content), 300_000)
