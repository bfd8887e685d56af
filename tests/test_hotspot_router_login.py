"""The captive page tells the truth about the router: "You are online" only when the router
(isp_hotspot_mikrotik's server-side login through isp_mikrotik, against the strict RouterOS
simulator through librouteros) accepted this device; paid-and-pending when the router cannot
be reached; the router's or the device limit's refusal in plain words otherwise."""

from datetime import timedelta
from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo import fields
from odoo.tests import tagged
from odoo.tools import config

from odoo.addons.isp_hotspot.tests.common import HotspotCase, csrf
from odoo.addons.isp_mikrotik.tests.routeros_sim import RouterOSSimulator

MAC = "3A:1F:6C:88:21:D4"
IP = "10.5.50.21"


@tagged("post_install", "-at_install")
class TestHotspotRouterLogin(HotspotCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(
            patch.dict(config.options, {"isp_credential_key": Fernet.generate_key().decode()})
        )
        cls.subscription = cls.amina.isp_subscription_ids  # HS Weekly: 2 devices at once

    def setUp(self):
        super().setUp()
        self.sim = RouterOSSimulator().start()
        self.addCleanup(self.sim.stop)
        self.router = self.env["isp.router"].create(
            {
                "name": "Tower",
                "host": "127.0.0.1",
                "port": self.sim.port,
                "username": self.sim.username,
                "password": self.sim.password,
                "timeout": 2,
                "company_id": self.company.id,
            }
        )
        self.params = {
            "mac": MAC,
            "ip": IP,
            "link-login-only": "http://10.5.50.1/login",
            "link-orig": "http://example.com/",
            "nas": str(self.router.id),
        }

    def status_page(self):
        """Sign Amina in with an SMS code on the captive page: it lands on the status view,
        whose connect form (POST) logs this device in."""
        response = self.sign_in_page(self.params)
        # the status view only reads; its connect form (POST, CSRF) submits itself
        self.assertRegex(response.text, r'id="hs-connect"[^>]*data-auto="1"')
        response = self.url_open(
            "/hotspot/status",
            data={**self.params, "csrf_token": csrf(response.text)},
            method="POST",
        )
        self.assertEqual(response.status_code, 200, response.text[:300])
        return response.text

    def test_online_when_the_router_accepted(self):
        html = self.status_page()
        self.assertIn("You are online", html)
        self.assertNotIn('id="hs-login"', html)
        active = self.sim.rows("/ip/hotspot/active")
        self.assertEqual(
            [(row["user"], row["address"], row["mac-address"]) for row in active],
            [(self.subscription.login, IP, MAC)],
        )

    def test_unreachable_router_says_paid_and_retries(self):
        self.sim.set_refuse(True)
        html = self.status_page()
        self.assertNotIn("You are online", html)
        self.assertIn("Your access is paid", html)
        self.assertIn('id="hs-pending"', html)
        # the page tries again by itself, and the router's own login stays at hand
        self.assertRegex(html, r'id="hs-connect"[^>]*data-retry="20"')
        self.assertIn('id="hs-login"', html)
        self.assertNotIn('data-auto="1"', html)
        # and the router gets the user as soon as it answers
        jobs = self.env["isp.router.job"].search(
            [("router_id", "=", self.router.id), ("state", "=", "pending")]
        )
        self.assertIn(self.subscription, jobs.subscription_id)

    def test_router_refusal_is_shown_in_plain_words(self):
        # both devices the bundle allows are already online on the router
        for index in range(2):
            self.sim.connect_client(
                self.subscription.login, f"10.5.50.3{index}", f"AA:00:00:00:00:0{index}"
            )
        html = self.status_page()
        self.assertNotIn("You are online", html)
        self.assertIn("This device is not connected", html)
        self.assertIn("as many devices as it allows at once", html)
        self.assertNotIn('id="hs-login"', html)
        self.assertEqual(len(self.sim.rows("/ip/hotspot/active")), 2)

    def test_device_limit_refused_before_the_router(self):
        Device = self.env["isp.device"]
        for mac in ("02:00:00:00:00:01", "02:00:00:00:00:02"):
            self.assertTrue(Device._isp_register(self.amina, mac)["granted"])
        html = self.status_page()
        self.assertNotIn("You are online", html)
        self.assertIn("This device is not connected", html)
        self.assertIn("hs-err", html)
        self.assertEqual(self.sim.sentences, 0)  # the router was not asked

    # ------------------------------------------------------------------ review findings

    def connect_again(self, html, params=None):
        return self.url_open(
            "/hotspot/status",
            data={**(params or self.params), "csrf_token": csrf(html)},
            method="POST",
        ).text

    def test_router_has_no_default_login_address(self):
        """Any rogue hotspot can use RouterOS' proposed 10.5.50.1: a router's address is
        empty until staff set it."""
        self.assertFalse(self.router.hotspot_address)
        self.router.hotspot_address = "10.5.50.1"
        hosts = self.env["isp.hotspot.router.login"]._router_login_hosts
        self.assertEqual(hosts(self.company, nas=str(self.router.id)), ["10.5.50.1"])
        # a page naming no router gets none of the routers' addresses
        self.assertEqual(hosts(self.company), [])
        self.assertEqual(hosts(self.company, nas="0"), [])

    def test_rogue_hotspot_without_nas_gets_no_password(self):
        """A fake router at a router's address, leaving out nas and chap-id: no login, no
        password, nothing auto-posted."""
        self.company.isp_hotspot_login_hosts = False
        self.router.hotspot_address = "10.5.50.1"
        self.params.pop("nas")
        html = self.status_page()
        self.assertIn('id="hs-unknown-router"', html)
        self.assertNotIn('id="hs-login"', html)
        self.assertNotIn('name="password"', html)
        self.assertNotIn(self.subscription.sudo().password, html)
        self.assertNotIn('data-auto="1"', html)

    def test_cleartext_password_only_to_listed_http_addresses(self):
        """PAP (no chap-id) to a router's own http:// address not in the company setting:
        the router's login form, the customer types the password, no auto-submit."""
        self.company.isp_hotspot_login_hosts = False
        self.router.hotspot_address = "10.5.50.1"
        self.sim.set_refuse(True)  # pending: the router's own form is offered
        html = self.status_page()
        self.assertIn("Your access is paid", html)
        self.assertIn('id="hs-login"', html)
        self.assertIn('action="http://10.5.50.1/login"', html)
        self.assertRegex(html, r'<input type="password" name="password" id="hs-login-password"')
        self.assertNotIn(self.subscription.sudo().password, html)
        self.assertNotIn('data-auto="1"', html)
        # CHAP: the router's challenge answer, as before (never the password itself)
        chap = {**self.params, "chap-id": "\\101", "chap-challenge": "\\061\\062\\063"}
        html = self.connect_again(html, chap)
        self.assertIn('id="hs-login"', html)
        self.assertNotIn('id="hs-login-password"', html)
        self.assertNotIn(self.subscription.sudo().password, html)
        self.assertRegex(html, r'name="password" value="[0-9a-f]{32}"')
        # listed by staff in the company setting: the page posts the password itself
        self.company.isp_hotspot_login_hosts = "10.5.50.1"
        html = self.connect_again(html)
        self.assertIn(f'name="password" value="{self.subscription.sudo().password}"', html)

    def test_router_backing_off_is_not_contacted(self):
        """While the router is known offline and its backoff runs, the connect POST answers
        pending at once (no connection) and logs nothing new per retry."""
        self.router.sudo().write(
            {
                "state": "offline",
                "failure_count": 3,
                "next_retry": fields.Datetime.now() + timedelta(minutes=2),
            }
        )
        html = self.status_page()
        self.assertIn("Your access is paid", html)
        self.assertRegex(html, r'id="hs-connect"[^>]*data-retry="20"')
        self.assertEqual(self.sim.connections, 0)
        Log = self.env["isp.access.log"]
        count = Log.search_count([("partner_id", "=", self.amina.id)])
        for _retry in range(2):
            html = self.connect_again(html)
            self.assertIn("Your access is paid", html)
        self.assertEqual(self.sim.connections, 0)
        self.assertEqual(Log.search_count([("partner_id", "=", self.amina.id)]), count)
        # the backoff is over: the router is asked again, and the device gets online
        self.router.sudo().next_retry = fields.Datetime.now() - timedelta(seconds=1)
        html = self.connect_again(html)
        self.assertIn("You are online", html)
        self.assertTrue(self.sim.connections)

    def test_typed_password_prompt_in_swahili(self):
        self.env["res.lang"]._activate_lang("sw")
        self.env["ir.module.module"]._load_module_terms(["isp_hotspot"], ["sw"], overwrite=True)
        self.company.isp_hotspot_login_hosts = False
        self.router.hotspot_address = "10.5.50.1"
        self.sim.set_refuse(True)
        html = self.status_page()
        html = self.connect_again(html, {**self.params, "lang": "sw"})
        self.assertIn("Andika nenosiri lako la hotspot", html)
