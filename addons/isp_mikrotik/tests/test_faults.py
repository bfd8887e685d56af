from odoo.tests import tagged

from ..models import isp_router_job
from .common import HOTSPOT_USERS, MikrotikCase


@tagged("post_install", "-at_install")
class TestFaults(MikrotikCase):
    def _retry_now(self, router=None):
        """As if the backoff delay had passed."""
        router = router or self.router
        router.next_retry = False
        self._pending(router).write({"next_attempt": router.create_date})

    def test_router_down_then_up_converges(self):
        subscriptions = self._subscriptions(5)
        self.sim.set_refuse(True)
        self._run_queue()
        self.assertEqual(self.router.state, "offline")
        self.assertIn("Connection refused", self.router.status_message)
        self.assertTrue(self.router.offline_since)
        jobs = self._pending()
        self.assertEqual(len(jobs), 5)
        self.assertTrue(all(j.attempts == 1 and j.last_error for j in jobs))
        self.assertGreater(min(jobs.mapped("next_attempt")), self.router.last_sync_attempt)
        # in backoff: nothing is tried before next_retry
        self.sim.set_refuse(False)
        self._run_queue()
        self.assertEqual(self.sim.connections, 0)
        # a second failure doubles the delay
        self._retry_now()
        self.sim.set_refuse(True)
        self._run_queue()
        self.assertEqual(self._pending()[0].attempts, 2)
        self.sim.set_refuse(False)
        self._retry_now()
        self._run_queue()
        self.assertFalse(self._pending())
        self.assertEqual(set(self._users()), set(subscriptions.mapped("login")))
        self.assertEqual(self.router.state, "online")
        self.assertFalse(self.router.offline_since)

    def test_wrong_credentials_is_an_auth_error_in_plain_words(self):
        self.router.password = "not-the-password"
        self._subscription("+255714000001")
        self._run_queue()
        self.assertEqual(self.router.state, "auth_error")
        self.assertIn("refused the user name or password", self.router.status_message)
        self.assertIn("isp-billing", self.router.status_message)
        self.assertNotIn("not-the-password", self.router.status_message)
        self.assertIn("refused the user name or password", self._pending().last_error)
        result = self.router.action_test_connection()
        self.assertEqual(result["params"]["type"], "danger")
        self.assertIn("refused the user name or password", result["params"]["message"])

    def test_one_failing_router_does_not_stop_the_other(self):
        down_sim = self._simulator()
        down = self._router(down_sim, name="Tower B")
        down_sim.set_refuse(True)
        subscriptions = self._subscriptions(3)
        self.assertEqual(len(self.Job.search([("state", "=", "pending")])), 6)
        reports = self._run_queue()
        self.assertEqual(len(reports), 2)  # each router committed on its own
        self.assertEqual(set(self._users()), set(subscriptions.mapped("login")))
        self.assertFalse(self._pending())
        self.assertEqual(len(self._pending(down)), 3)
        self.assertEqual(down.state, "offline")
        self.assertEqual(self.router.state, "online")

    def test_dropped_connection_and_slow_router(self):
        self._subscriptions(3)
        self.sim.drop_after = 4  # cut while reading the users
        self._run_queue()
        self.assertEqual(self.router.state, "offline")
        self.assertEqual(len(self._pending()), 3)
        self.sim.drop_after = None
        self.sim.delay = 2.5  # more than the router's 2 s timeout
        self._retry_now()
        self._run_queue()
        self.assertIn("timeout", self.router.status_message)
        self.assertEqual(len(self._pending()), 3)
        self.sim.delay = 0
        self._retry_now()
        self._run_queue()
        self.assertFalse(self._pending())

    def test_trap_on_add_keeps_that_job_only(self):
        subscriptions = self._subscriptions(3)
        bad = subscriptions[1]
        self.sim.trap_on_add = {bad.login}
        self._run_queue()
        self.assertEqual(set(self._users()), set((subscriptions - bad).mapped("login")))
        job = self._pending()
        self.assertEqual(job.subscription_id, bad)
        self.assertIn("injected fault", job.last_error)
        self.assertEqual(self.router.sync_state, "error")
        self.assertEqual(self.router.state, "online")
        self.sim.trap_on_add = set()
        job.next_attempt = job.create_date
        self._run_queue()
        self.assertIn(bad.login, self._users())
        self.assertFalse(self._pending())
        self.assertEqual(self.router.sync_state, "ok")

    def test_time_box_leaves_the_rest_for_the_next_turn(self):
        self._subscriptions(4)
        self.Job._enqueue_full(self.router, now=True)
        original = isp_router_job.ROUTER_TIME_BOX_SECONDS
        isp_router_job.ROUTER_TIME_BOX_SECONDS = -1
        try:
            reports = self._run_queue()
        finally:
            isp_router_job.ROUTER_TIME_BOX_SECONDS = original
        self.assertEqual(reports[-1], (5, 1))  # work left: the cron runs again at once
        self.assertTrue(self._pending())
        self._run_queue()
        self.assertEqual(len(self._users()), 4)
        self.assertFalse(self._pending())

    def test_sessions_of_a_down_router_are_not_polled_during_backoff(self):
        self.sim.set_refuse(True)
        self.router._check_health()
        self.assertEqual(self.router.state, "offline")
        self._poll()
        self.assertEqual(self.router.failure_count, 1)
        self.assertFalse(self.sim.rows(HOTSPOT_USERS))
