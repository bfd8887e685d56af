from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

from . import test_dashboard_ui as dashboard_ui
from .common import IspBillingCase


@tagged("post_install", "-at_install")
class TestCounterSaleUi(HttpCase, IspBillingCase):
    """The counter screen in headless Chromium, driven by desk staff (ISP User, no
    accounting rights): phone, name, bundle, payment, confirm."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.partner_id.tz = "Africa/Dar_es_Salaam"
        cls.tour_bundle = cls._bundle("Tour Daily", 3500, 1, "days", sequence=0)
        new_test_user(
            cls.env,
            login="counter_tour",
            password="counter_tour-pass-1234",
            groups="isp_billing.group_isp_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
            tz="Africa/Dar_es_Salaam",
        )

    def _chromium(self, screenshot):
        return dashboard_ui.TestDashboardUi._chromium(self, screenshot=screenshot)

    def test_counter_sale_tour(self):
        with self._chromium("isp_counter_sale_tour_end.png"):
            self.start_tour(
                "/odoo/action-isp_billing.isp_counter_sale_action",
                "isp_billing_counter_sale_tour",
                login="counter_tour",
            )
        sale = self.env["isp.counter.sale"].search([("phone", "=", "0744 777 888")])
        self.assertEqual(sale.state, "done")
        self.assertEqual(sale.partner_id.name, "Tour Walk-in")
        self.assertEqual(sale.partner_id.phone, "+255744777888")
        self.assertEqual(sale.payment_method, "cash")
        self.assertEqual(sale.journal_id.type, "cash")
        self.assertEqual(sale.subscription_id.state, "active")
        self.assertIn(sale.invoice_id.payment_state, ("paid", "in_payment"))
        self.assertEqual(sale.invoice_id.amount_total, 3500)


@tagged("post_install", "-at_install")
class TestCounterSaleUiPhone(HttpCase, IspBillingCase):
    """The sale done, on a 360 px wide phone screen: the access given and the receipt
    button are there without scrolling sideways."""

    browser_size = "360x780"
    touch_enabled = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        desk = new_test_user(
            cls.env,
            login="counter_phone",
            password="counter_phone-pass-1234",
            groups="isp_billing.group_isp_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.sale = (
            cls.env["isp.counter.sale"]
            .with_user(desk)
            .create(
                {
                    "phone": "0744 777 999",
                    "customer_name": "Phone Screen",
                    "bundle_id": cls.daily.id,
                    "payment_method": "unpaid",
                }
            )
        )
        cls.sale.action_confirm()

    def test_done_sale_at_360px(self):
        ready = "!!document.querySelector('.o_isp_counter_sale_done')"
        code = """
            const done = document.querySelector('.o_isp_counter_sale_done');
            const page = document.documentElement;
            if (!done.textContent.includes('Phone Screen')) {
                console.error(`done: ${done.textContent}`);
            } else if (page.scrollWidth > page.clientWidth + 1) {
                console.error(`wider than the screen: ${page.scrollWidth}px`);
            } else {
                console.log('test successful');
            }
        """
        with dashboard_ui.TestDashboardUi._chromium(self, screenshot="isp_counter_sale_360.png"):
            self.browser_js(
                f"/odoo/action-isp_billing.isp_counter_sale_action_list/{self.sale.id}",
                code,
                ready=ready,
                login="counter_phone",
            )
