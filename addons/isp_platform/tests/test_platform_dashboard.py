"""The platform dashboard: operators by state, MRR, churn, and per operator its customers,
revenue and customers' payment success, on two operators with known data."""

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, tagged

from .test_platform_subscription_common import PlatformMixin


@tagged("post_install", "-at_install")
class TestPlatformDashboard(PlatformMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_platform()
        cls.op1 = cls.env.ref("base.main_company")
        cls.op2 = cls._operator_company("Bahari Net")
        cls.env["account.chart.template"].try_loading("tz", cls.op2, install_demo=False)
        cls.sub1 = cls._subscribe(cls.op1, cls._partner("Main ISP", "main@example.com"))
        cls.sub2 = cls._subscribe(
            cls.op2, cls._partner("Bahari Net", "bahari@example.com"), cls.yearly
        )
        # op1: two customers, three purchases of 1,000; four payments, three done
        # op2: one customer, one purchase of 500, no online payment
        cls._sell(cls.op1, 1000, ["+255713000001", "+255713000002", "+255713000001"])
        cls._sell(cls.op2, 500, ["+255754000001"])
        provider = cls.env["payment.provider"].search(
            [("code", "=", "daraja"), ("company_id", "=", cls.op1.id)], limit=1
        )
        method = cls.env.ref("payment.payment_method_mobile_money")
        for i, state in enumerate(["done", "done", "done", "error", "draft"]):
            tx = cls.env["payment.transaction"].create(
                {
                    "provider_id": provider.id,
                    "payment_method_id": method.id,
                    "reference": f"DASH-{i}",
                    "amount": 1000,
                    "currency_id": cls.op1.currency_id.id,
                    "partner_id": cls.op1.partner_id.id,
                }
            )
            tx.state = state

    @classmethod
    def _sell(cls, company, price, phones):
        bundle = (
            cls.env["product.template"]
            .create(
                {
                    "name": f"Daily {company.name}",
                    "is_isp_bundle": True,
                    "isp_service_type": "hotspot",
                    "list_price": price,
                    "isp_duration_value": 1,
                    "isp_duration_unit": "days",
                    "taxes_id": [Command.clear()],
                    "company_id": company.id,
                }
            )
            .product_variant_id
        )
        Partner = cls.env["res.partner"].with_company(company)
        Purchase = cls.env["isp.purchase"].with_company(company)
        customers = {}
        for i, phone in enumerate(phones):
            if phone not in customers:
                customers[phone] = Partner.create(
                    {
                        "name": phone,
                        "phone": phone,
                        "is_isp_customer": True,
                        "company_id": company.id,
                    }
                )
            Purchase._fulfil(customers[phone], bundle, "manual", f"DASH-{company.id}-{i}")

    def _rows(self):
        self.env.flush_all()
        rows = self.env["isp.platform.operator.report"].search([])
        return {row.operator_company_id: row for row in rows}

    def test_operator_figures(self):
        rows = self._rows()
        one, two = rows[self.op1], rows[self.op2]
        self.assertEqual(
            (one.state, one.customer_count, one.active_customers, one.revenue),
            ("active", 2, 2, 3000),
        )
        self.assertEqual(one.currency_id, self.op1.currency_id)
        self.assertEqual((one.tx_done, one.tx_failed, one.success_rate), (3, 1, 75.0))
        self.assertEqual(one.monthly_amount, 1000)
        self.assertEqual(
            (two.customer_count, two.active_customers, two.revenue, two.tx_done, two.tx_failed),
            (1, 1, 500, 0, 0),
        )
        self.assertFalse(two.success_rate)
        # the yearly plan counts a twelfth a month
        self.assertEqual(two.monthly_amount, 1000)

    def test_kpis_states_mrr_churn(self):
        kpis = self.env["isp.platform.dashboard"]._kpi_values()
        self.assertEqual(
            (kpis["operators_active"], kpis["operators_suspended"], kpis["mrr"]), (2, 0, 2000)
        )
        self.assertEqual((kpis["churn_lost"], kpis["churn_base"]), (0, 0))
        # both subscribed 40 days ago; op2 unpaid past its grace today: suspended
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE isp_platform_subscription SET create_date = NOW() - INTERVAL '40 days' "
            "WHERE id IN %s",
            [tuple((self.sub1 | self.sub2).ids)],
        )
        self._age(self.sub2, 10)
        self.sub2._update_state()
        self.assertEqual(self.sub2.state, "suspended")
        kpis = self.env["isp.platform.dashboard"]._kpi_values()
        self.assertEqual(
            (kpis["operators_active"], kpis["operators_suspended"], kpis["mrr"]), (1, 1, 1000)
        )
        self.assertEqual(
            (kpis["churn_lost"], kpis["churn_base"], kpis["churn_percent"]), (1, 2, 50.0)
        )
        # the screen shows them, with one row per operator
        dashboard = self.env["isp.platform.dashboard"].browse(
            self.env["isp.platform.dashboard"].action_open()["res_id"]
        )
        self.assertEqual(dashboard.mrr, 1000)
        self.assertEqual(dashboard.operator_ids.operator_company_id, self.op1 | self.op2)

    def test_operators_cannot_open_the_dashboard(self):
        admin = self._operator_admin("main-admin", self.op1)
        with self.assertRaises(AccessError):
            self.env["isp.platform.dashboard"].with_user(admin).action_open()
        with self.assertRaises(AccessError):
            self.env["isp.platform.operator.report"].with_user(admin).search([])
