from odoo.tests import tagged

from .common import MikrotikCase

MIB = 1024 * 1024


@tagged("post_install", "-at_install")
class TestPortalSessions(MikrotikCase):
    def test_portal_hook_lists_the_customers_polled_sessions(self):
        subscription = self._subscription("+255715000091", bundle=self.capped)
        other = self._subscription("+255715000092", bundle=self.capped)
        self._full_sync()
        self.sim.connect_client(
            subscription.login, "10.5.50.31", "AA:BB:CC:00:20:01", bytes_in=MIB, bytes_out=2 * MIB
        )
        self.sim.connect_client(other.login, "10.5.50.32", "AA:BB:CC:00:20:02")
        self._poll()
        sessions = subscription._portal_sessions()
        self.assertEqual(len(sessions), 1)
        self.assertEqual(sessions[0]["ip"], "10.5.50.31")
        self.assertAlmostEqual(sessions[0]["data_mb"], 3.0)
        self.assertTrue(sessions[0]["online"])
