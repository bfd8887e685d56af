from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import HotspotCase


@tagged("post_install", "-at_install")
class TestHotspotSecurity(HotspotCase):
    def test_rate_limit_rows_and_codes_stay_in_their_company(self):
        """Attempts and sign-in codes hold customers' numbers and addresses: another
        company's ISP manager reads none of them."""
        self.sign_in_api("0713987654")
        Attempt, Code = self.env["isp.hotspot.attempt"], self.env["isp.hotspot.login.code"]
        attempts = Attempt.search([("key", "=", "+255713987654")])
        codes = Code.search([("partner_id", "=", self.amina.id)])
        self.assertTrue(attempts)
        self.assertTrue(codes)
        self.assertEqual(attempts.company_id, self.company, "the website's company")
        company_b = self.env["res.company"].create({"name": "Hotspot B"})
        users = {}
        for name, company in (("a", self.company), ("b", company_b)):
            users[name] = new_test_user(
                self.env,
                f"hs-sec-{name}",
                groups="isp_billing.group_isp_manager",
                company_id=company.id,
                company_ids=[Command.set(company.ids)],
            )
        for model, records in (
            ("isp.hotspot.attempt", attempts),
            ("isp.hotspot.login.code", codes),
        ):
            with self.subTest(model=model):
                env_a = self.env(user=users["a"], context={"allowed_company_ids": self.company.ids})
                self.assertEqual(env_a[model].search([("id", "in", records.ids)]), records)
                env_b = self.env(user=users["b"], context={"allowed_company_ids": company_b.ids})
                self.assertFalse(env_b[model].search([("id", "in", records.ids)]))
                with self.assertRaises(AccessError):
                    records.with_env(env_b).read(["company_id"])
