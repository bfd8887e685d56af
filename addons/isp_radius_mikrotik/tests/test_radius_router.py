"""A MikroTik router provisioned through RADIUS: no user nor secret pushed by the sync queue,
the suite's users left from API provisioning removed (the operator's kept), no data use from
the session poll (RADIUS accounting has it), health checks as before."""

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from odoo.addons.isp_mikrotik.tests.common import (
    HOTSPOT_PROFILES,
    HOTSPOT_USERS,
    PPP_SECRETS,
    MikrotikCase,
)
from odoo.addons.isp_radius.tests.coa_common import loopback_address

MIB = 1024 * 1024


@tagged("post_install", "-at_install")
class TestRadiusRouter(MikrotikCase):
    def setUp(self):
        super().setUp()
        self.nas = self.env["isp.radius.nas"].create(
            {"name": "Tower R", "address": loopback_address(), "secret": "s3cret-r"}
        )
        self.radius_sim = self._simulator()
        self.radius_router = self._router(
            self.radius_sim, name="Tower R", provisioning="radius", radius_nas_id=self.nas.id
        )
        self.assertFalse(self._pending(self.radius_router))

    def test_a_radius_router_gets_no_user_jobs_nor_users(self):
        subscription = self._subscription("+255716000001")
        self.assertTrue(self._pending(self.router), "the API router is queued")
        self.assertFalse(self._pending(self.radius_router))
        self.Job._enqueue(subscription, reason="manual", routers=self.radius_router)
        self.assertFalse(self._pending(self.radius_router), "not even when named")
        self._run_queue()
        self._full_sync(self.radius_router)
        self.assertIn(subscription.login, self._users())
        self.assertFalse(self.radius_sim.rows(HOTSPOT_USERS))
        self.assertFalse(self.radius_sim.rows(PPP_SECRETS))
        self.assertEqual(self.radius_sim.writes, 0, "nothing written to the RADIUS router")
        self.assertEqual(self.radius_router.state, "online", "contacted all the same")

    def test_switching_to_radius_removes_the_suite_users_only(self):
        hotspot = self._subscription("+255716000002")
        pppoe = self._subscription("+255716000003", bundle=self.pppoe)
        self._full_sync()
        self.sim.add_row(HOTSPOT_USERS, name="operator-guest", password="x", profile="default")
        self.sim.add_row(PPP_SECRETS, name="branch-office", password="p", comment="VPN")
        self.assertIn(hotspot.login, self._users())
        self.assertIn(pppoe.login, self._users(path=PPP_SECRETS))
        profiles = self.sim.rows(HOTSPOT_PROFILES)
        hotspot.action_suspend()  # a job queued before the switch
        self.router.write({"provisioning": "radius", "radius_nas_id": self.nas.id})
        pending = self._pending()
        self.assertIn("full", pending.mapped("kind"))
        self._run_queue()
        self.assertEqual(set(self._users()), {"operator-guest"})
        self.assertEqual(set(self._users(path=PPP_SECRETS)), {"branch-office"})
        self.assertEqual(self.sim.rows(HOTSPOT_PROFILES), profiles, "profiles are left")
        self.assertFalse(self._pending())
        self.assertEqual(self.router.sync_state, "ok")
        # nothing comes back
        self._subscription("+255716000004")
        self._full_sync()
        self.assertEqual(set(self._users()), {"operator-guest"})

    def test_the_poll_counts_sessions_but_adds_no_data_use(self):
        subscription = self._subscription("+255716000005", bundle=self.capped)
        self.radius_sim.connect_client(
            subscription.login,
            "10.5.50.30",
            "AA:BB:CC:00:30:01",
            bytes_in=5 * MIB,
            bytes_out=900 * MIB,
        )
        self._poll()
        self.assertEqual(subscription.data_used_mb, 0.0, "RADIUS accounting counts it")
        self.assertEqual(subscription.state, "active")
        self.assertEqual(self.radius_router.active_sessions, 1)
        self.assertFalse(
            self.env["isp.router.session"].search([("router_id", "=", self.radius_router.id)])
        )

    def test_health_checks_go_on(self):
        self.radius_router._check_health()
        self.assertEqual(self.radius_router.state, "online")
        self.radius_sim.set_refuse(True)
        self.radius_router._check_health()
        self.assertNotEqual(self.radius_router.state, "online")

    def test_radius_needs_its_nas(self):
        with self.assertRaises(ValidationError):
            self.router.write({"provisioning": "radius"})
        self.assertEqual(self.router.provisioning, "api")
