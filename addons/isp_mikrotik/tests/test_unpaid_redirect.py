from datetime import timedelta

from odoo.tests import tagged

from ..models.isp_router_setup import UNPAID_PROXY_PORT
from .common import HOTSPOT_ACTIVE, PPP_PROFILES, PPP_SECRETS, MikrotikCase

PPP_ACTIVE = "/ppp/active"
UNPAID = "isp-unpaid"


@tagged("post_install", "-at_install")
class TestUnpaidRedirect(MikrotikCase):
    """Expired and suspended PPPoE customers land on the pay page: their secret moves to the
    restricted profile the set-up script made, their session is dropped so that they
    reconnect into it; paid, they go back to their bundle's profile."""

    def setUp(self):
        super().setUp()
        self.router.unpaid_redirect = True
        # what the set-up script makes (with its address-list, which the API never writes)
        self.sim.add_row(PPP_PROFILES, name=UNPAID)
        self.bundle_profile = self.pppoe.product_tmpl_id.isp_mikrotik_profile

    def _secret(self, subscription):
        return self._users(path=PPP_SECRETS)[subscription.login]

    def _online(self):
        return {row["name"] for row in self.sim.rows(PPP_ACTIVE)}

    def _api_writes(self):
        return [c for c in self.sim.commands if not c[0].endswith(("/print", "/login"))]

    def test_suspended_customer_moves_to_the_pay_page_and_back_when_resumed(self):
        customer = self._subscription("+255716000001", bundle=self.pppoe)
        neighbour = self._subscription("+255716000002", bundle=self.pppoe)
        self._full_sync()
        self.sim.connect_client(customer.login, "10.0.0.11", "AA:BB:CC:16:00:01", service="pppoe")
        self.sim.connect_client(neighbour.login, "10.0.0.12", "AA:BB:CC:16:00:02", service="pppoe")
        self.sim.record_commands = True

        customer.action_suspend()
        self._run_queue()

        secret = self._secret(customer)
        self.assertEqual(secret["profile"], UNPAID)
        self.assertEqual(secret["disabled"], "false", "kept enabled: it reaches the pay page")
        self.assertEqual(self._online(), {neighbour.login}, "its session is dropped, no other")
        self.assertEqual(self._secret(neighbour)["profile"], self.bundle_profile)
        # the API wrote only what the reference has: the secret's profile, the session
        for command in self._api_writes():
            self.assertNotIn("address-list", " ".join(command))
        self.assertEqual(
            sorted(c[0] for c in self._api_writes()), ["/ppp/active/remove", "/ppp/secret/set"]
        )
        self.assertEqual(self.router.sync_state, "ok")

        # the customer reconnects into the restricted profile; resumed, back to the bundle
        self.sim.connect_client(customer.login, "10.0.0.13", "AA:BB:CC:16:00:01", service="pppoe")
        customer.action_resume()
        self._run_queue()
        self.assertEqual(self._secret(customer)["profile"], self.bundle_profile)
        self.assertEqual(self._online(), {neighbour.login}, "dropped: the bundle's rate applies")
        # and nothing more to write
        self.sim.reset_counters()
        self._full_sync()
        self.assertEqual(self.sim.writes, 0)

    def test_expired_customer_pays_and_gets_the_bundle_back(self):
        customer = self._subscription("+255716000011", bundle=self.pppoe)
        self._full_sync()
        self.sim.connect_client(customer.login, "10.0.0.21", "AA:BB:CC:16:00:11", service="pppoe")
        customer.write({"date_start": self._now() - timedelta(days=31), "date_expiry": self._now()})
        self._run_expiry_cron()
        self.assertEqual(customer.state, "expired")
        self._run_queue()
        self.assertEqual(self._secret(customer)["profile"], UNPAID)
        self.assertFalse(self._online())
        # a full reconciliation keeps it there, writing nothing
        self.sim.reset_counters()
        self._full_sync()
        self.assertEqual(self.sim.writes, 0)
        self.assertEqual(self._secret(customer)["profile"], UNPAID)

        # from the pay page: the payment renews the subscription
        self.sim.connect_client(customer.login, "10.0.0.22", "AA:BB:CC:16:00:11", service="pppoe")
        self._fulfil(customer.partner_id, self.pppoe, "PPPOE-PAID-1")
        self.assertEqual(customer.state, "active")
        self._run_queue()
        secret = self._secret(customer)
        self.assertEqual((secret["profile"], secret["disabled"]), (self.bundle_profile, "false"))
        self.assertFalse(self._online(), "the session in the restricted profile is dropped")

    def test_off_keeps_disabling(self):
        self.router.unpaid_redirect = False
        customer = self._subscription("+255716000021", bundle=self.pppoe)
        self._full_sync()
        customer.action_suspend()
        self._run_queue()
        secret = self._secret(customer)
        self.assertEqual((secret["profile"], secret["disabled"]), (self.bundle_profile, "true"))

    def test_without_the_profile_the_secret_is_disabled_and_the_sync_says_why(self):
        """A profile made over the API would lack the address list (and give unpaid customers
        the internet): the reconciler never makes it, it disables until the script ran."""
        self.sim.menus[PPP_PROFILES].rows = {
            row_id: row
            for row_id, row in self.sim.menus[PPP_PROFILES].rows.items()
            if row["name"] != UNPAID
        }
        customer = self._subscription("+255716000031", bundle=self.pppoe)
        self._full_sync()
        customer.action_suspend()
        self._full_sync()
        self.assertEqual(self._secret(customer)["disabled"], "true")
        self.assertNotIn(UNPAID, {row["name"] for row in self.sim.rows(PPP_PROFILES)})
        self.assertEqual(self.router.sync_state, "error")
        self.assertIn("set-up script", self.router.sync_message)
        # the operator runs the script: the next pass moves the customer to the pay page
        self.sim.add_row(PPP_PROFILES, name=UNPAID)
        self._full_sync()
        secret = self._secret(customer)
        self.assertEqual((secret["profile"], secret["disabled"]), (UNPAID, "false"))
        self.assertEqual(self.router.sync_state, "ok")

    def test_router_down_during_the_switch_converges(self):
        customer = self._subscription("+255716000041", bundle=self.pppoe)
        self._full_sync()
        self.sim.connect_client(customer.login, "10.0.0.41", "AA:BB:CC:16:00:41", service="pppoe")
        self.sim.set_refuse(True)
        customer.action_suspend()
        self._run_queue()
        self.assertEqual(self.router.state, "offline")
        self.assertEqual(self._secret(customer)["profile"], self.bundle_profile)
        self.assertEqual(len(self._pending()), 1)
        # back up, past the backoff: the switch is made, the session dropped
        self.sim.set_refuse(False)
        self.router.next_retry = False
        self._pending().write({"next_attempt": self.router.create_date})
        self._run_queue()
        self.assertFalse(self._pending())
        self.assertEqual(self._secret(customer)["profile"], UNPAID)
        self.assertFalse(self._online())

    def test_cancelled_is_removed_not_redirected(self):
        customer = self._subscription("+255716000051", bundle=self.pppoe)
        self._full_sync()
        customer.action_cancel()
        self._run_queue()
        self.assertNotIn(customer.login, self._users(path=PPP_SECRETS))

    def test_expired_hotspot_user_is_logged_out_and_disabled(self):
        """Hotspot: the router's login page is the way to the captive page (which tells the
        bundle expired): the user is disabled and logged out, whatever the PPPoE option."""
        customer = self._subscription("+255716000061")
        self._full_sync()
        session = self.sim.connect_client(customer.login, "10.5.50.61", "AA:BB:CC:16:00:61")
        customer.write({"date_start": self._now() - timedelta(days=1), "date_expiry": self._now()})
        self._run_expiry_cron()
        self._run_queue()
        user = self._users()[customer.login]
        self.assertEqual(user["disabled"], "true")
        self.assertEqual(user["profile"], self.daily.product_tmpl_id.isp_mikrotik_profile)
        self.assertNotIn(session, {row[".id"] for row in self.sim.rows(HOTSPOT_ACTIVE)})

    def test_setup_script_makes_the_pay_page(self):
        base = self.router.get_base_url().rstrip("/")
        host = self.router._walled_garden_hosts()[0]
        script = self.router._setup_script()
        tag = '"isp-billing:unpaid"'
        # said in the header
        self.assertIn(f'# - the PPP profile "{UNPAID}" (added when missing', script)
        self.assertIn(f"# - the web proxy: enabled on port {UNPAID_PROXY_PORT}", script)
        # the profile and its address list (RouterOS has it; written here only)
        self.assertIn(
            f':if ([:len [/ppp profile find name="{UNPAID}"]] = 0) do={{ '
            f'/ppp profile add name="{UNPAID}" }}',
            script,
        )
        self.assertIn(f'/ppp profile set [find name="{UNPAID}"] address-list="{UNPAID}"', script)
        # the hosts they may reach
        self.assertIn(
            f'/ip firewall address-list add list="isp-portal" address="{host}" comment={tag}',
            script,
        )
        # DNS and the portal accepted, the rest dropped, in this order, put first
        lines = script.splitlines()
        rules = [
            "protocol=udp dst-port=53 action=accept",
            "protocol=tcp dst-port=53 action=accept",
            'dst-address-list="isp-portal" action=accept',
            f'src-address-list="{UNPAID}" action=drop',
        ]
        positions = [
            next(
                i
                for i, line in enumerate(lines)
                if "/ip firewall filter add" in line and rule in line
            )
            for rule in rules
        ]
        self.assertEqual(positions, sorted(positions, reverse=True), "added first-to-top")
        self.assertTrue(all("place-before=" in lines[i] for i in positions))
        self.assertIn(f"/ip firewall filter remove [find comment={tag}]", script)
        # web pages to the proxy, which sends them to the portal
        self.assertIn(
            f'chain=dstnat src-address-list="{UNPAID}" dst-address-list=!isp-portal '
            f"protocol=tcp dst-port=80 action=redirect to-ports={UNPAID_PROXY_PORT}",
            script,
        )
        self.assertIn(
            f'local-port={UNPAID_PROXY_PORT} action=redirect action-data="{base}/my/subscriptions"',
            script,
        )
        # off (or no PPPoE): none of it
        self.router.unpaid_redirect = False
        self.assertNotIn(UNPAID, self.router._setup_script())
        self.router.write({"unpaid_redirect": True, "service_pppoe": False})
        self.assertNotIn(UNPAID, self.router._setup_script())
