"""The operator's Subscription screen: its own plan, state, invoices and usage against the
plan's limits, the "Pay now" link; never another operator's subscription or invoices."""

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, tagged

from .test_platform_subscription_common import PlatformMixin


@tagged("post_install", "-at_install")
class TestSubscriptionScreen(PlatformMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_platform()
        # operator one: the main company (it has a chart of accounts: it sells bundles)
        cls.op1 = cls.env.ref("base.main_company")
        cls.op2 = cls._operator_company("Bahari Net")
        cls.sub1 = cls._subscribe(cls.op1, cls._partner("Main ISP", "main@example.com"))
        cls.sub2 = cls._subscribe(cls.op2, cls._partner("Bahari Net", "bahari@example.com"))
        cls.admin1 = cls._operator_admin("main-admin", cls.op1)
        cls.admin2 = cls._operator_admin("bahari-admin", cls.op2)
        # op1's usage: 3 routers, 3 customers with access (1 of them twice), 6 SMS this month
        for name in ("Tower A", "Tower B", "Tower C"):
            cls.env["isp.router"].create(
                {"name": name, "host": "10.0.0.1", "company_id": cls.op1.id}
            )
        cls.env["isp.router"].create(
            {"name": "Theirs", "host": "10.0.0.2", "company_id": cls.op2.id}
        )
        bundle = (
            cls.env["product.template"]
            .create(
                {
                    "name": "Daily",
                    "is_isp_bundle": True,
                    "isp_service_type": "hotspot",
                    "list_price": 1000,
                    "isp_duration_value": 1,
                    "isp_duration_unit": "days",
                    "taxes_id": [Command.clear()],
                    "company_id": cls.op1.id,
                }
            )
            .product_variant_id
        )
        customers = cls.env["res.partner"].create(
            [
                {
                    "name": f"Customer {i}",
                    "phone": f"+25571300000{i}",
                    "is_isp_customer": True,
                    "company_id": cls.op1.id,
                }
                for i in range(4)
            ]
        )
        Purchase = cls.env["isp.purchase"].with_company(cls.op1)
        for i, customer in enumerate(customers[:3]):
            Purchase._fulfil(customer, bundle, "manual", f"SCREEN-{i}")
        Purchase._fulfil(customers[0], bundle, "manual", "SCREEN-RENEW")
        # the purchases' own SMS (isp_sms's confirmations), then one SMS notification per
        # message (6 sent and 1 cancelled of op1, 2 of op2)
        cls.sms_before = cls.env["isp.platform.subscription"]._usage(cls.op1)[cls.op1.id][
            "sms_month"
        ]
        # (6 sent and 1 cancelled of op1, 2 of op2)
        sms = [(cls.op1, "sent")] * 6 + [(cls.op1, "canceled")] + [(cls.op2, "sent")] * 2
        messages = cls.env["mail.message"].create(
            [
                {
                    "model": "res.partner",
                    "res_id": customers[0].id,
                    "body": "SMS",
                    "message_type": "sms",
                    "record_company_id": company.id,
                }
                for company, _status in sms
            ]
        )
        cls.env["mail.notification"].create(
            [
                {
                    "mail_message_id": message.id,
                    "res_partner_id": customers[0].id,
                    "notification_type": "sms",
                    "notification_status": status,
                }
                for message, (_company, status) in zip(messages, sms, strict=True)
            ]
        )

    def _screen(self, user, company=None):
        Screen = self.env["isp.platform.subscription.screen"].with_user(user)
        if company:
            Screen = Screen.with_context(allowed_company_ids=company.ids)
        action = Screen.action_open()
        return Screen.browse(action["res_id"])

    def test_usage_figures_batch(self):
        usage = self.env["isp.platform.subscription"]._usage(self.op1 | self.op2)
        self.assertEqual(
            usage[self.op1.id],
            {"routers": 3, "active_customers": 3, "sms_month": self.sms_before + 6},
        )
        self.assertEqual(usage[self.op2.id], {"routers": 1, "active_customers": 0, "sms_month": 2})

    def test_operator_sees_its_own_subscription(self):
        screen = self._screen(self.admin1)
        self.assertEqual(
            (screen.plan_name, screen.state, screen.billing_period, screen.price),
            ("Starter", "active", "month", 1000),
        )
        self.assertEqual(
            (screen.period_start, screen.period_end, screen.next_invoice_date),
            (self.sub1.period_start, self.sub1.period_end, self.sub1.next_invoice_date),
        )
        self.assertEqual(screen.amount_due, 1000)
        self.assertEqual(screen.currency_id, self.platform.currency_id)
        self.assertEqual(screen.display_name, "Platform Subscription")
        line = screen.line_ids
        self.assertEqual(
            (line.name, line.amount_total, line.amount_residual, line.payment_state),
            (self.sub1.invoice_ids.name, 1000, 1000, "not_paid"),
        )
        # usage against the plan's limits (routers 2, customers 2, SMS 5)
        self.assertEqual(
            (screen.routers_text, screen.customers_text, screen.sms_text),
            ("3 of 2", "3 of 2", f"{self.sms_before + 6} of 5"),
        )
        self.assertTrue(screen.over_limit)
        # Pay now: the invoice's portal page with its access token
        invoice = self.sub1.invoice_ids
        self.assertEqual(screen.action_pay_now()["url"], invoice.get_portal_url())
        self.assertIn("access_token=", screen.action_pay_now()["url"])
        self.assertEqual(line.action_pay()["url"], invoice.get_portal_url())
        # paid: nothing left to pay
        self._pay(invoice)
        screen = self._screen(self.admin1)
        self.assertEqual((screen.amount_due, screen.line_ids.payment_state), (0, "paid"))
        with self.assertRaises(UserError):
            screen.action_pay_now()

    def test_no_limits_and_no_subscription(self):
        self.sub2.plan_id = self.yearly
        screen = self._screen(self.admin2)
        self.assertEqual(screen.routers_text, "1 (no limit)")
        self.assertFalse(screen.over_limit)
        self.sub2.unlink()
        screen = self._screen(self.admin2)
        self.assertFalse(screen.has_subscription)
        self.assertFalse(screen.line_ids)

    def test_operator_cannot_reach_another_operators_subscription(self):
        other_invoice = self.sub2.invoice_ids
        # the current company must be one of the user's: another's is refused by Odoo
        with self.assertRaises(AccessError):
            self._screen(self.admin1, company=self.op2)
        # a forged line naming the other operator's invoice pays nothing and reveals nothing
        screen = self._screen(self.admin1)
        forged = (
            self.env["isp.platform.subscription.screen.line"]
            .with_user(self.admin1)
            .create({"screen_id": screen.id, "move_id": other_invoice.id})
        )
        with self.assertRaises(UserError):
            forged.action_pay()
        # the platform's records stay out of reach
        with self.assertRaises(AccessError):
            self.env["isp.platform.subscription"].with_user(self.admin1).search([])
        with self.assertRaises(AccessError):
            other_invoice.with_user(self.admin1).read(["amount_total"])
        with self.assertRaises(AccessError):
            self.sub1.invoice_ids.with_user(self.admin1).read(["amount_total"])
        # each user's snapshots are their own
        theirs = self._screen(self.admin2)
        self.assertFalse(
            self.env["isp.platform.subscription.screen"]
            .with_user(self.admin1)
            .search([("id", "=", theirs.id)])
        )
        with self.assertRaises(AccessError):
            theirs.with_user(self.admin1).read(["plan_name"])

    def test_plain_users_have_no_screen(self):
        user = self.env["res.users"].create(
            {
                "name": "Cashier",
                "login": "cashier-main",
                "company_id": self.op1.id,
                "company_ids": [Command.set(self.op1.ids)],
                "group_ids": [Command.link(self.env.ref("isp_billing.group_isp_user").id)],
            }
        )
        with self.assertRaises(AccessError):
            self.env["isp.platform.subscription.screen"].with_user(user).action_open()
