from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged

from .browser import ChromiumMixin
from .common import IspPaymentCase, set_dummy_provider_journal

MANAGER_ONLY_MENUS = [
    "isp_billing.menu_isp_root",
    "isp_billing.menu_isp_revenue_report",
    "isp_billing.menu_isp_revenue_export",
    "isp_billing.menu_isp_configuration",
    "isp_billing.menu_isp_payments",
]


def _unmatched_payment(env, partner, journal, amount):
    payment = env["account.payment"].create(
        {
            "payment_type": "inbound",
            "partner_type": "customer",
            "partner_id": partner.id,
            "amount": amount,
            "journal_id": journal.id,
        }
    )
    payment.action_post()
    return payment


def _accountant(env, login, company):
    return env["res.users"].create(
        {
            "name": "Accountant (not ISP staff)",
            "login": login,
            "password": login,
            "company_id": company.id,
            "company_ids": [Command.set(company.ids)],
            "group_ids": [Command.set([env.ref("account.group_account_invoice").id])],
        }
    )


@tagged("post_install", "-at_install")
class TestUnmatchedPaymentsAccess(IspPaymentCase):
    """The Unmatched Mobile-Money Payments list is the accountants' (Invoicing ›
    Customers, and ISP › Reporting for ISP staff who are accountants), ISP staff or not;
    an accountant who is not ISP staff sees nothing else of the ISP app."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls._customer("0712345670")
        cls.unmatched = _unmatched_payment(cls.env, cls.customer, cls.journal, 700)
        cls.accountant = _accountant(cls.env, "isp_unmatched_accountant", cls.company)
        cls.clerk = cls.env["res.users"].create(
            {
                "name": "ISP clerk (no invoicing)",
                "login": "isp_unmatched_clerk",
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
                "group_ids": [Command.set([cls.env.ref("isp_billing.group_isp_user").id])],
            }
        )
        cls.action = cls.env.ref("isp_billing.isp_unmatched_payments_action")

    def _visible(self, user, xmlids):
        Menu = self.env["ir.ui.menu"].with_user(user)
        visible = Menu._visible_menu_ids()
        return {xmlid for xmlid in xmlids if self.env.ref(xmlid).id in visible}

    def test_accountant_sees_and_opens_the_list(self):
        menus = [
            "account.menu_finance",
            "account.menu_finance_receivables",
            "isp_billing.menu_isp_unmatched_payments_invoicing",
        ]
        self.assertEqual(self._visible(self.accountant, menus), set(menus))
        action = (
            self.action.with_user(self.accountant)
            .with_context(allowed_company_ids=self.company.ids)
            .run()
        )
        self.assertEqual(action["res_model"], "account.payment")
        payments = self.env["account.payment"].with_user(self.accountant)
        self.assertEqual(payments.search(action["domain"]), self.unmatched)
        # and can open it
        self.assertEqual(payments.browse(self.unmatched.id).amount, 700)

    def test_accountant_sees_nothing_of_the_isp_app(self):
        self.assertFalse(self._visible(self.accountant, MANAGER_ONLY_MENUS))
        for model in ("isp.subscription", "isp.purchase", "isp.revenue.report", "isp.router.job"):
            if model not in self.env:
                continue
            with self.subTest(model=model):
                self.assertFalse(self.env[model].with_user(self.accountant).has_access("read"))
        with self.assertRaises(AccessError):
            self.env["isp.dashboard"].with_user(self.accountant).get_dashboard_data()

    def test_isp_staff_who_is_no_accountant_cannot_run_it(self):
        self.assertFalse(
            self._visible(
                self.clerk,
                [
                    "isp_billing.menu_isp_unmatched_payments",
                    "isp_billing.menu_isp_unmatched_payments_invoicing",
                    "isp_billing.menu_isp_reporting",
                ],
            )
        )
        with self.assertRaises(AccessError):
            self.action.with_user(self.clerk).run()

    def test_isp_user_and_accountant_finds_it_in_isp_reporting(self):
        self.clerk.group_ids = [Command.link(self.env.ref("account.group_account_invoice").id)]
        self.assertEqual(
            self._visible(
                self.clerk,
                ["isp_billing.menu_isp_reporting", "isp_billing.menu_isp_unmatched_payments"],
            ),
            {"isp_billing.menu_isp_reporting", "isp_billing.menu_isp_unmatched_payments"},
        )
        # Reporting's other entries stay the managers'
        self.assertFalse(
            self._visible(
                self.clerk,
                ["isp_billing.menu_isp_revenue_report", "isp_billing.menu_isp_revenue_export"],
            )
        )


@tagged("post_install", "-at_install")
class TestUnmatchedPaymentsUi(ChromiumMixin, HttpCase):
    """In the browser: an accountant opens Invoicing › Customers › Unmatched Mobile-Money
    Payments and finds the payment."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.company
        journal = cls.env["account.journal"].create(
            {
                "name": "Mobile Money (tour)",
                "code": "TMMT",
                "type": "bank",
                "company_id": company.id,
            }
        )
        provider = cls.env["payment.provider"].create(
            {"name": "Mobile money (tour)", "code": "none", "state": "test"}
        )
        set_dummy_provider_journal(provider, journal)
        partner = cls.env["res.partner"].create({"name": "UNMATCHED-MM-7 payer"})
        _unmatched_payment(cls.env, partner, journal, 700)
        _accountant(cls.env, "isp_unmatched_tour", company)

    def test_accountant_opens_unmatched_payments(self):
        with self._chromium(screenshot="isp_unmatched_accountant.png"):
            self.start_tour(
                "/odoo", "isp_billing_unmatched_payments_tour", login="isp_unmatched_tour"
            )
