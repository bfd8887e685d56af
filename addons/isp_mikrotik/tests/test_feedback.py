"""What staff are told: Sync Now runs and reports at once (the captive page's server-side
login: isp_hotspot_mikrotik's tests)."""

from odoo import fields
from odoo.tests import tagged

from .common import MikrotikCase


@tagged("post_install", "-at_install")
class TestSyncNow(MikrotikCase):
    def test_sync_now_runs_and_tells_the_result(self):
        subscription = self._subscription("+255717000001")
        self.assertEqual(self.router.sync_state, "never")
        action = self.router.action_sync_now()
        params = action["params"]
        self.assertEqual(params["type"], "success")
        self.assertIn("in sync", params["message"])
        # the form reloads after the notification: the new state shows without F5
        self.assertEqual(params["next"], {"type": "ir.actions.client", "tag": "soft_reload"})
        self.assertEqual(self.router.sync_state, "ok")
        self.assertTrue(self.router.last_sync)
        self.assertEqual(self.router.state, "online")
        self.assertIn(subscription.login, self._users())
        self.assertFalse(self._pending())

    def test_sync_now_shows_the_routers_refusal(self):
        subscription = self._subscription("+255717000002")
        self.sim.trap_on_add = {subscription.login}
        params = self.router.action_sync_now()["params"]
        self.assertEqual(params["type"], "danger")
        self.assertIn("could not add user (injected fault)", params["message"])
        self.assertEqual(self.router.sync_state, "error")
        self.assertIn("could not add user (injected fault)", self.router.sync_message)
        self.assertIn(subscription.login, self.router.sync_message)

    def test_sync_now_reports_an_unreachable_router_and_skips_the_backoff(self):
        self._subscription("+255717000003")
        self.sim.set_refuse(True)
        params = self.router.action_sync_now()["params"]
        self.assertEqual(params["type"], "danger")
        self.assertIn("Connection refused", params["message"])
        self.assertEqual(self.router.state, "offline")
        self.assertGreater(self.router.next_retry, fields.Datetime.now())
        # the operator fixed it and asks again, in the middle of the backoff
        self.sim.set_refuse(False)
        params = self.router.action_sync_now()["params"]
        self.assertEqual(params["type"], "success", params["message"])
        self.assertEqual((self.router.state, self.router.sync_state), ("online", "ok"))
