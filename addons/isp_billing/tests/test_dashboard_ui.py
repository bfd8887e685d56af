from datetime import timedelta

from odoo import Command, fields
from odoo.tests import HttpCase, tagged
from odoo.tools import SQL

from .browser import ChromiumMixin


@tagged("post_install", "-at_install")
class TestDashboardUi(ChromiumMixin, HttpCase):
    """The dashboard in headless Chromium: it loads without a JavaScript error (any
    console error fails the test), is the ISP app's landing screen, and its figures open
    their lists."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env["res.company"].create(
            {"name": "Dashboard Tour ISP", "country_id": cls.env.ref("base.tz").id}
        )
        cls.env["account.chart.template"].try_loading("tz", cls.company, install_demo=False)
        cls.user = cls.env["res.users"].create(
            {
                "name": "Dashboard tour manager",
                "login": "isp_dashboard_tour",
                "password": "isp_dashboard_tour",
                "tz": "Africa/Dar_es_Salaam",
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
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
        env = cls.env(context={"allowed_company_ids": cls.company.ids})
        bundle = (
            env["product.template"]
            .create(
                {
                    "name": "Tour daily",
                    "is_isp_bundle": True,
                    "list_price": 3500,
                    "isp_duration_value": 1,
                    "isp_duration_unit": "days",
                    "company_id": cls.company.id,
                    "taxes_id": [Command.clear()],
                }
            )
            .product_variant_id
        )
        now = fields.Datetime.now()
        for i in range(2):
            partner = env["res.partner"].create(
                {
                    "name": f"Tour customer {i}",
                    "phone": f"+25571234560{i}",
                    "is_isp_customer": True,
                    "company_id": cls.company.id,
                }
            )
            subscription = env["isp.subscription"].create(
                {"partner_id": partner.id, "bundle_id": bundle.id, "company_id": cls.company.id}
            )
            subscription.action_activate()
            purchase = env["isp.purchase"].create(
                {
                    "company_id": cls.company.id,
                    "source": "manual",
                    "reference": f"TOUR-{i}",
                    "partner_id": partner.id,
                    "bundle_id": bundle.id,
                    "subscription_id": subscription.id,
                    "date_start": now,
                    "date_end": now + timedelta(days=1),
                    "amount": 3500,
                }
            )
            purchase.flush_recordset()
            # bought a few minutes ago: "today" in Dar es Salaam unless it is just past midnight
            cls.env.cr.execute(
                SQL(
                    "UPDATE isp_purchase SET create_date = %s WHERE id = %s",
                    now - timedelta(minutes=2),
                    purchase.id,
                )
            )

        # sold on credit today: its invoice is not paid yet
        debtor = env["res.partner"].create(
            {
                "name": "Tour debtor",
                "phone": "+255712345609",
                "is_isp_customer": True,
                "company_id": cls.company.id,
            }
        )
        env["isp.purchase"]._fulfil(debtor, bundle, "manual", "TOUR-CREDIT")

    def test_dashboard_loads_without_errors(self):
        ready = (
            "!!(document.querySelector('.o_isp_dashboard .o_isp_card_revenue')"
            " && document.querySelector('.o_isp_dashboard .o_isp_last_customers tbody tr')"
            " && document.querySelector('.o_isp_dashboard .o_isp_card_churned'))"
        )
        code = """
            const text = (selector) => document.querySelector(selector)?.textContent.trim();
            const cards = [...document.querySelectorAll('.o_isp_dashboard .o_isp_card')];
            const windowless = cards.filter((card) => !card.querySelector('.o_isp_card_window'));
            const chart = '.o_isp_dashboard .o_isp_revenue_chart';
            const errors = [];
            if (cards.length < 15) {
                errors.push(`only ${cards.length} figures on the dashboard`);
            }
            if (windowless.length) {
                const keys = windowless.map((card) => card.dataset.key);
                errors.push(`figures without their window: ${keys}`);
            }
            const active = text('.o_isp_card_active_subscriptions .o_isp_card_value');
            if (active !== '3') {
                errors.push(`active users: ${active}`);
            }
            const revenue = text('.o_isp_card_revenue .o_isp_card_value') || '';
            const paid = text('.o_isp_card_revenue_paid .o_isp_card_value') || '';
            const unpaid = text('.o_isp_card_revenue_unpaid .o_isp_card_value') || '';
            if (!revenue.includes('10,500') || !paid.includes('7,000')
                    || !unpaid.includes('3,500')) {
                errors.push(`revenue ${revenue}, paid ${paid}, unpaid ${unpaid}`);
            }
            if (text('.o_isp_card_revenue .o_isp_card_window') !== 'last 30 days') {
                errors.push(`revenue window: ${text('.o_isp_card_revenue .o_isp_card_window')}`);
            }
            const title = text(`${chart} .o_isp_chart_title`) || '';
            if (!title.startsWith('Revenue per day, last 30 days')) {
                errors.push(`chart title: ${title}`);
            }
            if (text(`${chart} .o_isp_chart_xtitle`) !== 'Day'
                    || !(text(`${chart} .o_isp_chart_ytitle`) || '').startsWith('Revenue (')) {
                errors.push('the chart axes have no titles');
            }
            if (text(`${chart} .o_isp_legend_paid`) !== 'Paid'
                    || text(`${chart} .o_isp_legend_unpaid`) !== 'Unpaid') {
                errors.push('the chart has no legend');
            }
            const bars = document.querySelectorAll(`${chart} .o_isp_chart_bar`);
            const today = bars[bars.length - 1];
            const height = (rect) => parseFloat(today.querySelector(rect).getAttribute('height'));
            if (bars.length !== 30 || !(height('.o_isp_chart_paid') > height('.o_isp_chart_unpaid'))
                    || !(height('.o_isp_chart_unpaid') > 0)) {
                errors.push(`chart bars: ${bars.length}`);
            }
            if (document.querySelectorAll(`${chart} .o_isp_chart_tick`).length !== 3
                    || !document.querySelectorAll(`${chart} .o_isp_chart_xlabel`).length) {
                errors.push('the chart axes have no scale');
            }
            if (errors.length) {
                console.error(errors.join('; '));
            } else {
                console.log('test successful');
            }
        """
        with self._chromium(screenshot="isp_dashboard.png"):
            self.browser_js(
                "/odoo/action-isp_billing.isp_dashboard_action",
                code,
                ready=ready,
                login="isp_dashboard_tour",
            )

    def test_dashboard_tour(self):
        with self._chromium(screenshot="isp_dashboard_tour_end.png"):
            self.start_tour(
                "/odoo",
                "isp_billing_dashboard_tour",
                login="isp_dashboard_tour",
            )
