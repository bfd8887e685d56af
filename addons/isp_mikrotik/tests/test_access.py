from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import HOTSPOT_ACTIVE, MikrotikCase


@tagged("post_install", "-at_install")
class TestRouterButtonsOverRpc(MikrotikCase):
    """Buttons are public methods: any user can call them over RPC with any ids."""

    def test_only_router_editors_regenerate_the_set_up_token(self):
        token = self.router.sudo()._issue_setup_token()
        for groups in ("base.group_portal", "base.group_user", "isp_billing.group_isp_user"):
            user = new_test_user(self.env, login=f"rpc-{groups}", groups=groups)
            with self.subTest(groups=groups), self.assertRaises(AccessError):
                self.router.with_user(user).action_regenerate_setup_token()
        self.assertTrue(self.router._check_setup_token(token), "the router's token is kept")
        manager = new_test_user(
            self.env, login="rpc-manager", groups="isp_billing.group_isp_manager"
        )
        self.router.with_user(manager).action_regenerate_setup_token()
        self.assertFalse(self.router._check_setup_token(token), "revoked")

    def test_isp_users_cannot_log_customers_out(self):
        subscription = self._subscription("+255716000001")
        self._full_sync()
        self.sim.connect_client(subscription.login, "10.5.50.31", "AA:BB:CC:00:16:01")
        self._poll()
        session = self.env["isp.router.session"].search([("subscription_id", "=", subscription.id)])
        self.assertTrue(session)
        user = new_test_user(self.env, login="rpc-isp-user", groups="isp_billing.group_isp_user")
        with self.assertRaises(AccessError):
            session.with_user(user).action_disconnect()
        self.assertEqual(len(self.sim.rows(HOTSPOT_ACTIVE)), 1, "the router was not told")
        manager = new_test_user(
            self.env, login="rpc-isp-manager", groups="isp_billing.group_isp_manager"
        )
        session.with_user(manager).action_disconnect()
        self.assertFalse(self.sim.rows(HOTSPOT_ACTIVE))
        self.assertFalse(session.exists())
