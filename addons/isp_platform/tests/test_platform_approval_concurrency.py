"""Exactly one operator company per application under real concurrency: separate database
transactions (committed data, as two browsers clicking Approve at the same time)."""

import uuid

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, tagged
from odoo.tests.common import get_db_name


@tagged("post_install", "-at_install")
class TestPlatformApprovalConcurrency(BaseCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.registry = Registry(get_db_name())
        cls.tag = uuid.uuid4().hex[:8]
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company")
            product = env["product.product"].create(
                {"name": f"Race plan {cls.tag}", "type": "service", "company_id": company.id}
            )
            plan = env["isp.platform.plan"].create(
                {
                    "name": f"Race plan {cls.tag}",
                    "price": 1000,
                    "active": False,
                    "company_id": company.id,
                    "product_id": product.id,
                }
            )
            cls.product_id = product.id
            application = env["isp.platform.application"].create(
                {
                    "business_name": f"Race Operator {cls.tag}",
                    "contact_name": "Racer",
                    "email": f"race-{cls.tag}@operator.example",
                    "phone": "+254712345678",
                    "country_id": env.ref("base.ke").id,
                    "currency_id": env.ref("base.KES").id,
                    "plan_id": plan.id,
                }
            )
            cls.plan_id, cls.application_id = plan.id, application.id

    @classmethod
    def tearDownClass(cls):
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            application = env["isp.platform.application"].browse(cls.application_id)
            application.message_ids.unlink()
            application.activity_ids.unlink()
            application.unlink()
            env["isp.platform.plan"].browse(cls.plan_id).unlink()
            env["product.product"].browse(cls.product_id).product_tmpl_id.unlink()
        super().tearDownClass()

    def test_approval_while_another_runs(self):
        """A second approval while the first holds the row (its transaction still running)
        is refused at once and creates nothing."""
        with self.registry.cursor() as first_cr, self.registry.cursor() as second_cr:
            first = api.Environment(first_cr, SUPERUSER_ID, {})
            first["isp.platform.application"].browse(self.application_id).lock_for_update()
            second = api.Environment(second_cr, SUPERUSER_ID, {})
            application = second["isp.platform.application"].browse(self.application_id)
            with self.assertRaisesRegex(UserError, "being processed"):
                application.action_approve()
            second_cr.rollback()
            first_cr.rollback()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.assertFalse(
                env["res.company"].search_count([("name", "=", f"Race Operator {self.tag}")])
            )
            self.assertEqual(
                env["isp.platform.application"].browse(self.application_id).state, "pending"
            )
