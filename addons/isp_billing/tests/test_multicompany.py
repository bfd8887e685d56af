from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import IspBillingCase


@tagged("post_install", "-at_install")
class TestMultiCompany(IspBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tz = cls.env.ref("base.tz")
        cls.company_b = cls.env["res.company"].create({"name": "ISP B", "country_id": tz.id})
        cls.user_a = cls.env["res.users"].create(
            {
                "name": "Staff A",
                "login": "staff-a@example.com",
                "company_id": cls.company.id,
                "company_ids": [(6, 0, cls.company.ids)],
                "group_ids": [(6, 0, [cls.env.ref("isp_billing.group_isp_manager").id])],
            }
        )
        cls.customer_a = cls._customer("0712345678")
        cls.customer_b = cls._customer("0754123456", company=cls.company_b)
        Sub = cls.env["isp.subscription"]
        cls.sub_a = Sub.create({"partner_id": cls.customer_a.id, "bundle_id": cls.daily.id})
        bundle_b = (
            cls.env["product.template"]
            .with_company(cls.company_b)
            .create(
                {
                    "name": "B daily",
                    "is_isp_bundle": True,
                    "list_price": 900,
                    "company_id": cls.company_b.id,
                }
            )
            .product_variant_id
        )
        cls.sub_b = Sub.with_company(cls.company_b).create(
            {
                "partner_id": cls.customer_b.id,
                "bundle_id": bundle_b.id,
                "company_id": cls.company_b.id,
            }
        )
        Device = cls.env["isp.device"]
        cls.device_a = Device.create({"partner_id": cls.customer_a.id, "mac": "00:11:22:33:44:0A"})
        cls.device_b = Device.create(
            {
                "partner_id": cls.customer_b.id,
                "mac": "00:11:22:33:44:0B",
                "company_id": cls.company_b.id,
            }
        )
        Log = cls.env["isp.access.log"]
        cls.log_a = Log._log(True, "known_device", cls.customer_a)
        cls.log_b = Log._log(False, "device_limit", cls.customer_b)

    def test_user_of_a_sees_only_company_a(self):
        env = self.env(user=self.user_a)
        for model, mine, theirs in (
            ("isp.subscription", self.sub_a, self.sub_b),
            ("isp.device", self.device_a, self.device_b),
            ("isp.access.log", self.log_a, self.log_b),
            ("res.partner", self.customer_a, self.customer_b),
        ):
            with self.subTest(model=model):
                found = env[model].search([("id", "in", (mine | theirs).ids)])
                self.assertEqual(found.ids, mine.ids)
                # and nothing of company B, whatever else the database holds
                everything = env[model].search([])
                self.assertFalse(everything.filtered(lambda r: r.company_id == self.company_b))

    def test_user_of_a_cannot_read_company_b_records(self):
        env = self.env(user=self.user_a)
        for record in (self.sub_b, self.device_b, self.log_b, self.customer_b):
            with self.subTest(model=record._name), self.assertRaises(AccessError):
                record.with_env(env).read(["display_name"])
        with self.assertRaises(AccessError):
            self.customer_b.with_env(env).isp_subscription_ids.read(["state"])

    def test_subscription_cannot_mix_companies(self):
        with self.assertRaises(UserError), self.cr.savepoint():
            self.env["isp.subscription"].create(
                {
                    "partner_id": self.customer_b.id,
                    "bundle_id": self.daily.id,
                    "company_id": self.company.id,
                }
            )
