import base64
import io
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import openpyxl

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import IspPaymentCase
from .test_dashboard import TZ, IspDashboardCase


@tagged("post_install", "-at_install")
class TestRevenueReport(IspDashboardCase, IspPaymentCase):
    """Revenue analysis (pivot / graph model) and the XLSX workbook on a seeded dataset:

    ====  ========  =======  ======  ========  ======================  =====================
    ref   customer  bundle   amount  source    provider                created (local day)
    ====  ========  =======  ======  ========  ======================  =====================
    A     r1        Daily     1,000  payment   Dummy Provider          9 days ago
    B     r1        Weekly    6,000  payment   Dummy Provider          2 days ago
    C     r2        Daily     1,000  voucher                           2 days ago
    D     r3        PPPoE    50,000  manual                            today
    E     r2        Daily     1,000  payment   Dummy Provider          12 days ago (outside)
    ====  ========  =======  ======  ========  ======================  =====================

    Period: 9 days ago to today → 58,000 in 4 purchases.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.local_today = datetime.now(ZoneInfo(TZ)).date()
        cls.r1, cls.r2, cls.r3 = (cls._customer(f"07655500{i:02d}") for i in range(1, 4))
        today = cls.ctx["today"] + (cls.now - cls.ctx["today"]) / 2
        cls.p = {
            "A": cls._paid(cls.r1, cls.daily, "A", cls._noon(9), 1000),
            "B": cls._paid(cls.r1, cls.weekly, "B", cls._noon(2), 6000),
            "C": cls._purchase(cls.r2, cls.daily, "C", cls._noon(2), 1000, source="voucher"),
            "D": cls._purchase(cls.r3, cls.pppoe, "D", today, 50000, source="manual"),
            "E": cls._paid(cls.r2, cls.daily, "E", cls._noon(12), 1000),
        }
        cls.Report = cls.env["isp.revenue.report"].with_context(
            tz=TZ, allowed_company_ids=[cls.company.id]
        )
        cls.period = [
            ("company_id", "=", cls.company.id),
            ("date", ">=", cls.ctx["today"] - timedelta(days=9)),
            ("date", "<", cls.now + timedelta(hours=1)),
        ]

    @classmethod
    def _noon(cls, days):
        local = datetime.combine(cls.local_today - timedelta(days=days), time(12), ZoneInfo(TZ))
        return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)

    @classmethod
    def _paid(cls, partner, bundle, reference, created, amount):
        purchase = cls._purchase(partner, bundle, reference, created, amount)
        cls._test_transaction(
            reference,
            partner,
            amount,
            isp_bundle_id=bundle.id,
            isp_purchase_id=purchase.id,
            state="done",
        )
        return purchase

    def _grouped(self, groupby):
        return {
            key: (count, amount)
            for key, count, amount in self.Report._read_group(
                self.period, [groupby], ["purchase_count:sum", "amount:sum"]
            )
        }

    def test_revenue_by_bundle_channel_provider_company(self):
        self.assertEqual(
            self._grouped("bundle_id"),
            {self.daily: (2, 2000), self.weekly: (1, 6000), self.pppoe: (1, 50000)},
        )
        self.assertEqual(
            self._grouped("source"),
            {"payment": (2, 7000), "voucher": (1, 1000), "manual": (1, 50000)},
        )
        self.assertEqual(
            self._grouped("provider_id"),
            {self.provider: (2, 7000), self.env["payment.provider"]: (2, 51000)},
        )
        self.assertEqual(self._grouped("company_id"), {self.company: (4, 58000)})
        self.assertEqual(
            self._grouped("customer_kind"), {"new": (2, 51000), "returning": (2, 7000)}
        )

    def test_revenue_by_day_in_the_users_timezone(self):
        by_day = {
            day.date() if isinstance(day, datetime) else day: value
            for day, value in self._grouped("date:day").items()
        }
        self.assertEqual(
            by_day,
            {
                self.local_today - timedelta(days=9): (1, 1000),
                self.local_today - timedelta(days=2): (2, 7000),
                self.local_today: (1, 50000),
            },
        )

    def test_other_company_rows_are_hidden(self):
        other = self.env["res.company"].create({"name": "Other ISP (report)"})
        customer = self._customer("0712340001", company=other)
        bundle = (
            self.env["product.template"]
            .create(
                {"name": "Other", "is_isp_bundle": True, "list_price": 5, "company_id": other.id}
            )
            .product_variant_id
        )
        self._purchase(customer, bundle, "OTHER-1", self.now, 5)
        manager = self.env["res.users"].create(
            {
                "name": "ISP manager (report)",
                "login": "isp_manager_report",
                "group_ids": [Command.set([self.env.ref("isp_billing.group_isp_manager").id])],
                "company_id": self.company.id,
                "company_ids": [Command.set((self.company | other).ids)],
            }
        )
        Report = self.Report.with_user(manager)
        period = [leaf for leaf in self.period if leaf[0] != "company_id"]
        # the record rule keeps the rows of the companies the user works in
        self.assertEqual(
            Report._read_group(period, ["company_id"], ["amount:sum"]),
            [(self.company, 58000)],
        )
        both = Report.with_context(allowed_company_ids=[self.company.id, other.id])
        self.assertEqual(both.search_count(period), 5)

    def _export(self, **vals):
        wizard = (
            self.env["isp.revenue.export"]
            .with_context(tz=TZ, allowed_company_ids=[self.company.id])
            .create(
                {
                    "date_from": self.local_today - timedelta(days=9),
                    "date_to": self.local_today,
                    "period": "day",
                    **vals,
                }
            )
        )
        action = wizard.action_export()
        self.assertIn(f"/web/content/isp.revenue.export/{wizard.id}/file/", action["url"])
        self.assertTrue(wizard.file_name.endswith(".xlsx"))
        content = base64.b64decode(wizard.file)
        return (
            openpyxl.load_workbook(io.BytesIO(content), data_only=True),
            openpyxl.load_workbook(io.BytesIO(content)),
        )

    @staticmethod
    def _rows(sheet):
        """Data rows and total rows of a breakdown sheet."""
        rows = [row for row in sheet.iter_rows(min_row=2, values_only=True) if row[0] is not None]
        return [r for r in rows if r[0] != "Total"], [r for r in rows if r[0] == "Total"]

    def test_xlsx_opens_and_totals_match(self):
        self._payment_unmatched(700)
        book, formulas = self._export()
        self.assertEqual(
            book.sheetnames,
            [
                "Summary",
                "By day",
                "By bundle",
                "By channel",
                "By payment provider",
                "By reseller",
                "By company",
                "Unmatched payments",
            ],
        )
        currency = self.company.currency_id.name
        rows, totals = self._rows(book["By bundle"])
        self.assertEqual(
            {r[0]: (r[2], r[3]) for r in rows},
            {"Daily": (2, 2000), "Weekly": (1, 6000), "Home 10 Mbps": (1, 50000)},
        )
        self.assertEqual(totals, [("Total", currency, 4, 58000)])
        self.assertTrue(str(formulas["By bundle"].cell(5, 4).value).startswith("=SUMIF("))
        self.assertEqual(book["By bundle"].cell(1, 1).font.b, True, "bold header")
        self.assertEqual(book["By bundle"].cell(2, 4).number_format, "#,##0.00")

        rows, totals = self._rows(book["By day"])
        self.assertEqual(
            [(r[0].date(), r[2], r[3]) for r in rows],
            [
                (self.local_today - timedelta(days=9), 1, 1000),
                (self.local_today - timedelta(days=2), 2, 7000),
                (self.local_today, 1, 50000),
            ],
        )
        self.assertEqual(totals, [("Total", currency, 4, 58000)])
        rows, totals = self._rows(book["By payment provider"])
        self.assertEqual(
            {r[0]: r[3] for r in rows},
            {"Dummy Provider": 7000, "No payment provider (voucher, manual)": 51000},
        )
        self.assertEqual(totals[0][3], 58000)
        rows, totals = self._rows(book["By channel"])
        self.assertEqual(
            {r[0]: r[3] for r in rows}, {"Payment": 7000, "Voucher": 1000, "Manual": 50000}
        )
        rows, totals = self._rows(book["By company"])
        self.assertEqual([(r[0], r[3]) for r in rows], [(self.company.name, 58000)])

        summary = {
            row[0]: row[1]
            for row in book["Summary"].iter_rows(min_row=5, values_only=True)
            if row[0]
        }
        self.assertEqual(summary["Revenue"], 58000)
        self.assertEqual(summary["Purchases"], 4)
        self.assertEqual(summary["ARPU"], round(58000 / 3, 2))
        self.assertEqual(summary["New customers"], 2)  # r1 and r3; r2 bought 12 days ago
        self.assertEqual(summary["Returning customers"], 1)

        sheet = book["Unmatched payments"]
        rows = [r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0]]
        self.assertEqual(len(rows), 2)
        self.assertEqual(rows[0][6], 700)
        self.assertEqual((rows[1][0], rows[1][6]), ("Total", 700))

    def test_xlsx_of_an_empty_period(self):
        book, _formulas = self._export(
            date_from=self.local_today - timedelta(days=200),
            date_to=self.local_today - timedelta(days=100),
        )
        rows, totals = self._rows(book["By bundle"])
        self.assertEqual(rows, [])
        self.assertEqual(totals, [("Total", self.company.currency_id.name, 0, 0)])

    def test_export_refuses_bad_input(self):
        with self.assertRaises(ValidationError), self.cr.savepoint():
            self.env["isp.revenue.export"].create(
                {"date_from": self.local_today, "date_to": self.local_today - timedelta(days=1)}
            )
        wizard = self.env["isp.revenue.export"].create(
            {"date_from": self.local_today, "date_to": self.local_today, "churn_days": 0}
        )
        with self.assertRaises(UserError) as caught:
            wizard.action_export()
        self.assertIn("churn delay", str(caught.exception))
        self.assertFalse(wizard.file)

    def test_revenue_by_reseller(self):
        reseller = self.env["res.partner"].create(
            {"name": "Mama Neema shop", "isp_is_reseller": True, "company_id": self.company.id}
        )
        batch = self.env["isp.voucher.batch"].create(
            {
                "name": "RESELLER-TEST",
                "bundle_id": self.weekly.id,
                "quantity": 2,
                "reseller_id": reseller.id,
                "company_id": self.company.id,
            }
        )
        batch.action_generate()
        code = batch.voucher_ids[0].code
        purchase = self.env["isp.voucher"]._redeem(code, "0765550099", company=self.company)
        self.assertEqual(purchase.amount, 6000)
        # voucher C (no reseller) and the reseller's code
        self.assertEqual(
            self._grouped("reseller_id"),
            {reseller: (1, 6000), self.env["res.partner"]: (4, 58000)},
        )
        book, _formulas = self._export()
        rows, totals = self._rows(book["By reseller"])
        self.assertEqual(
            {r[0]: (r[2], r[3]) for r in rows},
            {"Mama Neema shop": (1, 6000), "No reseller": (4, 58000)},
        )
        self.assertEqual(totals[0][2:], (5, 64000))

    def _payment_unmatched(self, amount):
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.r1.id,
                "amount": amount,
                "journal_id": self.journal.id,
            }
        )
        payment.action_post()
        return payment
