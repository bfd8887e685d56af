from datetime import timedelta
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import IspBillingCase


@tagged("post_install", "-at_install")
class TestSubscription(IspBillingCase):
    def setUp(self):
        super().setUp()
        self.customer = self._customer("0712345678")

    def _draft(self, bundle=None):
        return self.env["isp.subscription"].create(
            {"partner_id": self.customer.id, "bundle_id": (bundle or self.daily).id}
        )

    def test_new_subscription_is_a_draft_with_credentials(self):
        sub = self._draft()
        self.assertEqual(sub.state, "draft")
        self.assertEqual(sub.service_type, "hotspot")
        self.assertTrue(sub.name.startswith("SUB/"))
        self.assertEqual(sub.login, "255712345678")
        self.assertEqual(len(sub.sudo().password), 8)
        pppoe = self._draft(self.pppoe)
        self.assertEqual(pppoe.service_type, "pppoe")
        self.assertEqual(pppoe.login, "255712345678", "logins are unique per service")
        second = self._draft()
        self.assertEqual(second.login, "255712345678-2")

    def test_password_hidden_from_isp_users(self):
        sub = self._draft()
        user = self.env["res.users"].create(
            {
                "name": "Desk",
                "login": "desk@example.com",
                "group_ids": [(6, 0, [self.env.ref("isp_billing.group_isp_user").id])],
            }
        )
        self.assertNotIn("password", sub.with_user(user).fields_get())
        manager = self.env.ref("base.user_admin")
        self.assertIn("password", sub.with_user(manager).fields_get())

    def test_state_machine(self):
        sub = self._draft()
        with self.assertRaises(UserError):
            sub.action_suspend()
        with self.assertRaises(UserError):
            sub.action_resume()
        sub.action_activate()
        self.assertEqual(sub.state, "active")
        self.assertAlmostEqual(self._hours(sub.date_expiry - sub.date_start), 24)
        sub.action_suspend()
        self.assertEqual(sub.state, "suspended")
        sub.action_resume()
        self.assertEqual(sub.state, "active", "resumed before expiry: active again")
        sub.action_suspend()
        sub.write(
            {
                "date_start": self._now() - timedelta(days=1),
                "date_expiry": self._now() - timedelta(minutes=1),
            }
        )
        sub.action_resume()
        self.assertEqual(sub.state, "expired", "resumed after expiry: expired")
        sub.action_activate()
        self.assertEqual(sub.state, "active")
        sub.action_cancel()
        self.assertEqual(sub.state, "cancelled")
        for action in (sub.action_activate, sub.action_suspend, sub.action_cancel):
            with self.assertRaises(UserError):
                action()
        with self.assertRaises(UserError):
            sub.write({"state": "active"})
        self.assertEqual(sub.state, "cancelled")

    def test_cannot_create_active(self):
        with self.assertRaises(UserError):
            self.env["isp.subscription"].create(
                {"partner_id": self.customer.id, "bundle_id": self.daily.id, "state": "active"}
            )

    def test_state_change_hook_called_once_per_write_with_previous_states(self):
        subs = self._draft() | self._draft()
        calls = []
        original = type(subs)._state_changed

        def spy(records, previous):
            calls.append((records.ids, dict(previous), records.mapped("state")))
            return original(records, previous)

        with patch.object(type(subs), "_state_changed", spy):
            subs.action_activate()
            subs.action_suspend()
            subs.write({"data_used_mb": 5})  # no state change: no call
        self.assertEqual(
            calls,
            [
                ([subs[0].id], {subs[0].id: "draft"}, ["active"]),
                ([subs[1].id], {subs[1].id: "draft"}, ["active"]),
                (subs.ids, {subs[0].id: "active", subs[1].id: "active"}, ["suspended"] * 2),
            ],
        )

    def test_access_until_follows_active_subscriptions(self):
        sub = self._draft()
        self.assertFalse(self.customer.isp_access_until)
        sub.action_activate()
        self.assertEqual(self.customer.isp_access_until, sub.date_expiry)
        sub.action_suspend()
        self.assertFalse(self.customer.isp_access_until)

    def test_data_left(self):
        sub = self._draft()
        sub.write({"data_cap_mb": 1000, "data_used_mb": 250.5})
        self.assertEqual(sub.data_left_mb, 749.5)
        sub.data_used_mb = 2000
        self.assertEqual(sub.data_left_mb, 0)
