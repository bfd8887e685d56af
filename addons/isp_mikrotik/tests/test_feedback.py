"""What staff and customers are told: Sync Now runs and reports at once; the server-side
login of the captive page says online only when the router accepted it."""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import HOTSPOT_ACTIVE, MikrotikCase


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


@tagged("post_install", "-at_install")
class TestCaptiveLogin(MikrotikCase):
    def test_online_only_when_the_router_accepted(self):
        subscription = self._subscription("+255717000010")
        result = subscription._isp_router_hotspot_login(
            str(self.router.id), "10.5.50.40", "AA:BB:CC:00:20:01"
        )
        self.assertEqual((result["ok"], result["state"]), (True, "online"))
        self.assertEqual(
            [row["user"] for row in self.sim.rows(HOTSPOT_ACTIVE)], [subscription.login]
        )
        # the same device again: the router says it is logged in already, as this user
        again = subscription._isp_router_hotspot_login(
            str(self.router.id), "10.5.50.40", "AA:BB:CC:00:20:01"
        )
        self.assertEqual(again["state"], "online")

    def test_device_limit_on_the_router_is_told_in_plain_words(self):
        subscription = self._subscription("+255717000011")  # daily: 2 devices at once
        for index in range(2):
            self.sim.connect_client(
                subscription.login, f"10.5.50.5{index}", f"AA:00:00:00:00:0{index}"
            )
        result = subscription._isp_router_hotspot_login(
            str(self.router.id), "10.5.50.59", "AA:BB:CC:00:20:02"
        )
        self.assertEqual((result["ok"], result["state"]), (False, "refused"))
        self.assertIn("as many devices as it allows", result["message"])
        self.assertEqual(len(self.sim.rows(HOTSPOT_ACTIVE)), 2)
        log = self.env["isp.access.log"].search(
            [("partner_id", "=", subscription.partner_id.id)], order="id desc", limit=1
        )
        self.assertEqual((log.result, log.reason), ("denied", "device_limit"))

    def test_router_refusing_the_user_is_not_online(self):
        subscription = self._subscription("+255717000012")
        self.sim.trap_on_add = {subscription.login}
        result = subscription._isp_router_hotspot_login(
            str(self.router.id), "10.5.50.60", "AA:BB:CC:00:20:03"
        )
        self.assertEqual((result["ok"], result["state"]), (False, "refused"))
        self.assertIn("could not switch your access on", result["message"])
        self.assertFalse(self.sim.rows(HOTSPOT_ACTIVE))
        # the queue keeps trying, and records the router's answer for the staff
        job = self._pending().filtered(lambda j: j.subscription_id == subscription)
        self.assertTrue(job)
        self._run_queue()
        self.assertEqual(self.router.sync_state, "error")
        self.assertIn("injected fault", self.router.sync_message)

    def test_unreachable_router_means_paid_and_pending(self):
        subscription = self._subscription("+255717000013")
        self._run_queue()
        # the router lost the user (reset), and then its API goes down
        with self.sim.lock:
            users = self.sim.menus["/ip/hotspot/user"].rows
            users.pop(next(i for i, row in users.items() if row["name"] == subscription.login))
        self.Job.search([]).unlink()
        self.sim.set_refuse(True)
        result = subscription._isp_router_hotspot_login(
            str(self.router.id), "10.5.50.61", "AA:BB:CC:00:20:04"
        )
        self.assertEqual((result["ok"], result["state"]), (False, "pending"))
        self.assertIn("Your access is paid", result["message"])
        # the access follows: a job is queued for this customer on this router
        self.assertEqual(self._pending().subscription_id, subscription)
        self.sim.set_refuse(False)
        self.router.next_retry = fields.Datetime.now() - timedelta(seconds=1)
        self._pending().next_attempt = fields.Datetime.now() - timedelta(seconds=1)
        self._run_queue()
        self.assertFalse(self._pending())
        self.assertIn(subscription.login, self._users())

    def test_the_customer_is_told_in_swahili(self):
        """The captive page passes the customer's language: what the router hand-off says
        comes in Swahili (i18n/sw.po)."""
        self.env["res.lang"]._activate_lang("sw")
        self.env["ir.module.module"]._load_module_terms(["isp_mikrotik"], ["sw"], overwrite=True)
        subscription = self._subscription("+255717000014")
        self._run_queue()
        self.sim.set_refuse(True)
        result = subscription.with_context(lang="sw")._isp_router_hotspot_login(
            str(self.router.id), "10.5.50.62", "AA:BB:CC:00:20:05"
        )
        self.assertEqual(result["state"], "pending")
        self.assertIn("Umeshalipia huduma", result["message"])
