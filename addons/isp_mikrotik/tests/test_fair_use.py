from unittest.mock import patch

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import HOTSPOT_ACTIVE, HOTSPOT_PROFILES, PPP_PROFILES, PPP_SECRETS, MikrotikCase

PPP_ACTIVE = "/ppp/active"
MIB = 1024 * 1024


@tagged("post_install", "-at_install")
class TestFairUse(MikrotikCase):
    """A fair-use bundle slows its customers down after the data cap instead of cutting them
    off: no byte limit on the router, the fair-use profile once the poll sees the cap."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fair = cls._bundle(
            "Daily 1 GB Fair",
            700,
            1,
            "days",
            isp_data_cap_mb=1024,
            isp_upload_kbps=1024,
            isp_download_kbps=4096,
            isp_fair_use_download_kbps=256,
            isp_fair_use_upload_kbps=128,
        )
        cls.fair_pppoe = cls._bundle(
            "Home 1 GB Fair",
            30000,
            1,
            "months",
            service_type="pppoe",
            isp_data_cap_mb=1024,
            isp_download_kbps=10240,
            isp_fair_use_download_kbps=512,
        )

    def _profiles(self, path=HOTSPOT_PROFILES):
        return {row["name"]: row for row in self.sim.rows(path)}

    def _names(self, bundle):
        template = bundle.product_tmpl_id
        return template.isp_mikrotik_profile, f"isp-billing-b{template.id}-fair_use"

    def test_hotspot_slowed_down_at_the_cap_and_restored_by_more_data(self):
        full, slow = self._names(self.fair)
        subscription = self._subscription("+255717000001", bundle=self.fair)
        self._full_sync()
        user = self._users()[subscription.login]
        self.assertNotIn("limit-bytes-total", user, "not cut off at the cap by the router")
        self.assertEqual(user["profile"], full)
        profiles = self._profiles()
        self.assertEqual(profiles[full]["rate-limit"], "1M/4M")
        self.assertEqual(profiles[slow]["rate-limit"], "128k/256k")
        self.assertEqual(profiles[slow]["session-timeout"], profiles[full]["session-timeout"])

        session = self.sim.connect_client(subscription.login, "10.5.50.31", "AA:BB:CC:17:00:01")
        self._poll()
        self.sim.set_traffic(session, 100 * MIB, 1000 * MIB)
        self._poll()
        self.assertEqual(subscription.state, "active", "not suspended: slowed down")
        self.assertTrue(subscription.fair_use_active)
        self.assertEqual(self._users()[subscription.login]["profile"], slow)
        self.assertFalse(self.sim.rows(HOTSPOT_ACTIVE), "logged out: the slower rate applies")
        self.assertIn("slowed down", subscription.message_ids[0].body)
        self.assertIn("slowed down after the data cap", subscription._portal_speed())
        self.assertIn("256 kbit/s down", subscription._portal_speed())

        # back online in the slow profile: later polls and syncs change nothing
        again = self.sim.connect_client(subscription.login, "10.5.50.31", "AA:BB:CC:17:00:01")
        self._poll()
        self.sim.set_traffic(again, 10 * MIB, 10 * MIB)
        self.sim.reset_counters()
        self._poll()
        self._full_sync()
        self.assertEqual(self.sim.writes, 0)
        self.assertEqual(len(self.sim.rows(HOTSPOT_ACTIVE)), 1)
        notes = subscription.message_ids.filtered(lambda m: "slowed down" in (m.body or ""))
        self.assertEqual(len(notes), 1, "one note, not one per poll")

        # more data bought (an extension adds its cap): the full rate again
        self._fulfil(subscription.partner_id, self.fair, "FAIR-MORE-1")
        self.assertEqual(subscription.data_cap_mb, 2048)
        self.assertFalse(subscription.fair_use_active)
        self._run_queue()
        self.assertEqual(self._users()[subscription.login]["profile"], full)
        self.assertFalse(self.sim.rows(HOTSPOT_ACTIVE), "logged out: the full rate applies")
        self.assertNotIn("slowed down", subscription._portal_speed())

    def test_pppoe_slowed_down_and_a_new_period_restores(self):
        full, slow = self._names(self.fair_pppoe)
        subscription = self._subscription("+255717000011", bundle=self.fair_pppoe)
        self._full_sync()
        profiles = self._profiles(PPP_PROFILES)
        self.assertEqual(profiles[slow]["rate-limit"], "512k/512k", "upload: the download value")
        connection = self.sim.connect_client(
            subscription.login, "10.0.0.51", "AA:BB:CC:17:00:11", service="pppoe"
        )
        self._poll()
        self.sim.set_traffic(connection, 24 * MIB, 1000 * MIB)
        self._poll()
        self.assertEqual(subscription.state, "active")
        secret = self._users(path=PPP_SECRETS)[subscription.login]
        self.assertEqual((secret["profile"], secret["disabled"]), (slow, "false"))
        self.assertFalse(self.sim.rows(PPP_ACTIVE))

        # the period ends; the next one starts with the data used at zero and the full rate
        self.sim.connect_client(
            subscription.login, "10.0.0.51", "AA:BB:CC:17:00:11", service="pppoe"
        )
        subscription.write({"state": "expired"})
        self._run_queue()
        self._fulfil(subscription.partner_id, self.fair_pppoe, "FAIR-PPPOE-2")
        self.assertEqual(subscription.data_used_mb, 0.0)
        self._run_queue()
        secret = self._users(path=PPP_SECRETS)[subscription.login]
        self.assertEqual((secret["profile"], secret["disabled"]), (full, "false"))

    def test_a_router_down_during_the_switch_converges(self):
        """The polled router switches at once; another router of the company that is down
        gets its switch when it is back."""
        _full, slow = self._names(self.fair)
        other_sim = self._simulator()
        other = self._router(other_sim, name="Tower B")
        subscription = self._subscription("+255717000021", bundle=self.fair)
        self._full_sync()
        self._full_sync(other)
        session = self.sim.connect_client(subscription.login, "10.5.50.41", "AA:BB:CC:17:00:21")
        self._poll()
        other_sim.set_refuse(True)
        self.sim.set_traffic(session, 0, 1100 * MIB)
        self._poll()
        self.assertEqual(self._users()[subscription.login]["profile"], slow)
        job = self._pending(other)
        self.assertEqual((job.subscription_id, job.reason), (subscription, "fair_use"))
        self._run_queue()
        self.assertEqual(other.state, "offline")
        self.assertNotEqual(self._users(other_sim)[subscription.login]["profile"], slow)
        other_sim.set_refuse(False)
        other.next_retry = False
        self._pending(other).write({"next_attempt": other.create_date})
        self._run_queue()
        self.assertFalse(self._pending(other))
        self.assertEqual(self._users(other_sim)[subscription.login]["profile"], slow)

    def test_without_fair_use_the_cap_still_suspends(self):
        subscription = self._subscription("+255717000031", bundle=self.capped)
        self._full_sync()
        self.assertEqual(self._users()[subscription.login]["limit-bytes-total"], str(1024 * MIB))
        session = self.sim.connect_client(subscription.login, "10.5.50.51", "AA:BB:CC:17:00:31")
        self._poll()
        self.sim.set_traffic(session, 0, 1100 * MIB)
        self._poll()
        self.assertEqual(subscription.state, "suspended")
        self.assertFalse(subscription.fair_use_active)

    def test_poll_tells_billing_the_usage_once_per_batch(self):
        """The usage SMS (isp_sms) hangs on isp_billing's hook: the poll calls it once, with
        every subscription whose use grew and its use before."""
        first = self._subscription("+255717000041", bundle=self.capped)
        second = self._subscription("+255717000042", bundle=self.capped)
        idle = self._subscription("+255717000043", bundle=self.capped)
        self._full_sync()
        self.sim.connect_client(first.login, "10.5.50.71", "AA:BB:CC:17:00:41", bytes_out=5 * MIB)
        self.sim.connect_client(second.login, "10.5.50.72", "AA:BB:CC:17:00:42", bytes_out=7 * MIB)
        self.sim.connect_client(idle.login, "10.5.50.73", "AA:BB:CC:17:00:43")
        calls = []
        Subscription = type(self.env["isp.subscription"])
        original = Subscription._data_usage_changed

        def record(subscriptions, previous):
            calls.append(
                (set(subscriptions.ids), dict(previous), subscriptions.mapped("data_used_mb"))
            )
            return original(subscriptions, previous)

        with patch.object(Subscription, "_data_usage_changed", record):
            self._poll()
            self._poll()  # nothing new: no call
        self.assertEqual(len(calls), 1)
        ids, previous, _used = calls[0]
        self.assertEqual(ids, {first.id, second.id})
        self.assertEqual(previous, {first.id: 0.0, second.id: 0.0})
        self.assertAlmostEqual(first.data_used_mb, 5.0)

    def test_fair_use_upload_needs_a_download_speed(self):
        with self.assertRaises(ValidationError):
            self.capped.product_tmpl_id.write({"isp_fair_use_upload_kbps": 128})
