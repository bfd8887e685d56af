from odoo.tests import tagged

from .common import HOTSPOT_ACTIVE, PPP_SECRETS, MikrotikCase

PPP_ACTIVE = "/ppp/active"
INTERFACES = "/interface"

MIB = 1024 * 1024


@tagged("post_install", "-at_install")
class TestSessions(MikrotikCase):
    def test_poll_updates_devices_and_usage(self):
        subscription = self._subscription("+255715000001", bundle=self.capped)
        partner = subscription.partner_id
        self._full_sync()
        session = self.sim.connect_client(
            subscription.login,
            "10.5.50.20",
            "aa:bb:cc:00:10:01",
            bytes_in=10 * MIB,
            bytes_out=20 * MIB,
        )
        self.sim.connect_client("walk-in-guest", "10.5.50.99", "AA:BB:CC:00:10:99")
        self._poll()
        device = self.env["isp.device"].search([("partner_id", "=", partner.id)])
        self.assertEqual((device.mac, device.ip), ("AA:BB:CC:00:10:01", "10.5.50.20"))
        self.assertAlmostEqual(subscription.data_used_mb, 30.0)
        self.assertEqual(self.router.active_sessions, 2)
        recorded = self.env["isp.router.session"].search([("router_id", "=", self.router.id)])
        self.assertEqual(len(recorded), 2)
        self.assertEqual(recorded.filtered("subscription_id").subscription_id, subscription)
        # counters grow: only the difference is added; the same poll twice adds nothing
        self.sim.set_traffic(session, 15 * MIB, 25 * MIB)
        self._poll()
        self._poll()
        self.assertAlmostEqual(subscription.data_used_mb, 40.0)
        self.assertEqual(len(device.search([("partner_id", "=", partner.id)])), 1)
        # session gone: its record goes
        self.sim.menus[HOTSPOT_ACTIVE].rows.pop(session)
        self._poll()
        self.assertEqual(len(recorded.exists()), 1)

    def test_data_cap_suspends_and_drops_the_session(self):
        subscription = self._subscription("+255715000002", bundle=self.capped)
        self._full_sync()
        session = self.sim.connect_client(subscription.login, "10.5.50.21", "AA:BB:CC:00:10:02")
        self._poll()
        self.sim.set_traffic(session, 200 * MIB, 900 * MIB)
        self._poll()
        self.assertEqual(subscription.state, "suspended")
        self.assertFalse(self.sim.rows(HOTSPOT_ACTIVE))
        log = self.env["isp.access.log"].search(
            [("partner_id", "=", subscription.partner_id.id), ("reason", "=", "data_cap")]
        )
        self.assertEqual(len(log), 1)
        self._run_queue()
        self.assertEqual(self._users()[subscription.login]["disabled"], "true")

    def test_data_cap_can_end_the_subscription(self):
        self.capped.product_tmpl_id.isp_data_cap_action = "expire"
        subscription = self._subscription("+255715000003", bundle=self.capped)
        self._full_sync()
        self.sim.connect_client(
            subscription.login, "10.5.50.22", "AA:BB:CC:00:10:03", bytes_out=1100 * MIB
        )
        self._poll()
        self.assertEqual(subscription.state, "expired")
        self.assertFalse(self.sim.rows(HOTSPOT_ACTIVE))

    def _pppoe_capped(self):
        return self._bundle(
            "Home 1 GB", 30000, 1, "months", service_type="pppoe", isp_data_cap_mb=1024
        )

    def test_pppoe_usage_from_the_dynamic_interfaces(self):
        subscription = self._subscription("+255715000011", bundle=self.pppoe)
        other = self._subscription("+255715000012", bundle=self.pppoe)
        self._full_sync()
        connection = self.sim.connect_client(
            subscription.login,
            "10.0.0.11",
            "AA:BB:CC:00:11:01",
            bytes_in=4 * MIB,
            bytes_out=6 * MIB,
            service="pppoe",
        )
        self.sim.connect_client(
            other.login, "10.0.0.12", "AA:BB:CC:00:11:02", bytes_out=MIB, service="pppoe"
        )
        interface = self.sim.find(INTERFACES, name=f"<pppoe-{subscription.login}>")
        self.assertEqual(interface[0]["type"], "pppoe-in")
        self.sim.record_commands = True
        self._poll()
        self.assertAlmostEqual(subscription.data_used_mb, 10.0)
        self.assertAlmostEqual(other.data_used_mb, 1.0)
        # both connections' counters came in one print of the pppoe-in interfaces
        prints = [c for c in self.sim.commands if c[0] == "/interface/print"]
        self.assertEqual(len(prints), 1)
        self.assertIn("=.proplist=name,type,rx-byte,tx-byte", prints[0])
        self.assertIn("?=type=pppoe-in", prints[0])
        session = self.env["isp.router.session"].search(
            [("router_id", "=", self.router.id), ("subscription_id", "=", subscription.id)]
        )
        self.assertEqual((session.service, session.bytes_total), ("pppoe", 10 * MIB))
        # counters grow: only the growth is added; polling again adds nothing
        self.sim.set_traffic(connection, 10 * MIB, 30 * MIB)
        self._poll()
        self._poll()
        self.assertAlmostEqual(subscription.data_used_mb, 40.0)
        self.assertAlmostEqual(other.data_used_mb, 1.0)

    def test_pppoe_counter_reset_is_not_double_counted(self):
        subscription = self._subscription("+255715000013", bundle=self.pppoe)
        self._full_sync()
        connection = self.sim.connect_client(
            subscription.login,
            "10.0.0.13",
            "AA:BB:CC:00:11:03",
            bytes_out=50 * MIB,
            service="pppoe",
        )
        self._poll()
        self.assertAlmostEqual(subscription.data_used_mb, 50.0)
        # the client reconnects: a new connection and interface, counters from zero
        self.sim.disconnect_client(connection)
        self.assertFalse(self.sim.find(INTERFACES, type="pppoe-in"))
        connection = self.sim.connect_client(
            subscription.login, "10.0.0.13", "AA:BB:CC:00:11:03", bytes_out=5 * MIB, service="pppoe"
        )
        self._poll()
        self.assertAlmostEqual(subscription.data_used_mb, 55.0)
        self.sim.set_traffic(connection, 0, 8 * MIB)
        self._poll()
        self.assertAlmostEqual(subscription.data_used_mb, 58.0)
        # the same connection's counters start again (lower than last time): the new count
        # is added, never a negative difference
        self.sim.set_traffic(connection, 0, 2 * MIB)
        self._poll()
        self.assertAlmostEqual(subscription.data_used_mb, 60.0)
        sessions = self.env["isp.router.session"].search([("router_id", "=", self.router.id)])
        self.assertEqual(len(sessions), 1)
        self.assertEqual(sessions.bytes_total, 2 * MIB)

    def test_pppoe_data_cap_suspends_and_drops_the_connection(self):
        subscription = self._subscription("+255715000014", bundle=self._pppoe_capped())
        self._full_sync()
        connection = self.sim.connect_client(
            subscription.login, "10.0.0.14", "AA:BB:CC:00:11:04", service="pppoe"
        )
        self._poll()
        self.assertEqual(subscription.state, "active")
        self.sim.set_traffic(connection, 100 * MIB, 1000 * MIB)
        self._poll()
        self.assertEqual(subscription.state, "suspended")
        self.assertAlmostEqual(subscription.data_used_mb, 1100.0)
        self.assertFalse(self.sim.rows(PPP_ACTIVE))
        self.assertFalse(self.sim.find(INTERFACES, type="pppoe-in"))
        self.assertFalse(
            self.env["isp.router.session"].search([("router_id", "=", self.router.id)])
        )
        log = self.env["isp.access.log"].search(
            [("partner_id", "=", subscription.partner_id.id), ("reason", "=", "data_cap")]
        )
        self.assertEqual(len(log), 1)
        self._run_queue()
        secret = self._users(path=PPP_SECRETS)[subscription.login]
        self.assertEqual(secret["disabled"], "true")

    def test_poll_without_change_writes_nothing(self):
        subscription = self._subscription("+255715000015", bundle=self._pppoe_capped())
        hotspot = self._subscription("+255715000016", bundle=self.capped)
        self._full_sync()
        self.sim.connect_client(
            subscription.login, "10.0.0.15", "AA:BB:CC:00:11:05", bytes_out=MIB, service="pppoe"
        )
        self.sim.connect_client(hotspot.login, "10.5.50.40", "AA:BB:CC:00:11:06", bytes_out=MIB)
        self._poll()
        self.sim.reset_counters()
        self._poll()
        self.assertEqual(self.sim.writes, 0)
        self.assertEqual(subscription.state, "active")
        self.assertAlmostEqual(subscription.data_used_mb, 1.0)
        self.assertEqual(len(self.sim.rows(PPP_ACTIVE)), 1)
        # login, /ip/hotspot/active, /ppp/active and /interface: four sentences, no writes
        self.assertEqual(self.sim.sentences, 4)
