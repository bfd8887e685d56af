from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import IspBillingCase


@tagged("post_install", "-at_install")
class TestAccessRights(IspBillingCase):
    """Front-desk staff (ISP User, no accounting rights) run the day-to-day work."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clerk = cls.env["res.users"].create(
            {
                "name": "Front Desk",
                "login": "desk@example.com",
                "company_id": cls.company.id,
                "company_ids": [(6, 0, cls.company.ids)],
                "group_ids": [(6, 0, [cls.env.ref("isp_billing.group_isp_user").id])],
            }
        )

    def test_clerk_creates_customer_and_sells_a_bundle(self):
        env = self.env(user=self.clerk)
        customer = env["res.partner"].create(
            {"name": "Walk-in", "phone": "0744 123 987", "is_isp_customer": True}
        )
        self.assertEqual(customer.phone, "+255744123987")
        self.assertEqual(customer.company_id, self.company)
        sale = env["isp.counter.sale"].create(
            {"phone": customer.phone, "bundle_id": self.weekly.id, "payment_method": "unpaid"}
        )
        self.assertEqual(sale.partner_id, customer)
        sale.action_confirm()
        sub = sale.subscription_id
        self.assertEqual(sub.state, "active")
        self.assertEqual(sub.invoice_count, 1)
        self.assertEqual(sub.purchase_count, 1)
        self.assertNotIn("password", sub.fields_get())

    def test_clerk_cannot_touch_purchases_or_logs(self):
        env = self.env(user=self.clerk)
        customer = self._customer("0712345678")
        purchase = self._fulfil(customer, self.daily, "TX-ACL")
        with self.assertRaises(AccessError):
            purchase.with_env(env).write({"reference": "FORGED"})
        with self.assertRaises(AccessError):
            env["isp.purchase"].create(
                {
                    "company_id": self.company.id,
                    "source": "manual",
                    "reference": "FORGED-2",
                    "partner_id": customer.id,
                    "bundle_id": self.daily.id,
                }
            )
        log = self.env["isp.access.log"]._log(True, "known_device", customer)
        with self.assertRaises(AccessError):
            log.with_env(env).unlink()
