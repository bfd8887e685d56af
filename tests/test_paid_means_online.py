"""Paid means online, end to end, against the strict emulators: a customer pays on the captive
page's API (isp_hotspot) with mobile money (isp_mpesa's ClickPesa on its simulator, the
provider's webhook delivered twice), the router (isp_mikrotik, the strict RouterOS simulator
spoken to by librouteros) gets the user and its profile, and the device is logged in; then the
period ends while the device is online; a router that is down converges when it is back; and
what an operator changes by hand on the router is repaired by the periodic sync."""

from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields
from odoo.tests import tagged

from odoo.addons.isp_mikrotik import routeros
from odoo.addons.isp_mikrotik.tests.routeros_sim import RouterOSSimulator
from odoo.addons.isp_mpesa.tests.common import MpesaCase

USERS = "/ip/hotspot/user"
PROFILES = "/ip/hotspot/user/profile"
ACTIVE = "/ip/hotspot/active"
MAC = "3A:1F:6C:88:21:D4"
IP = "10.5.50.23"


@tagged("post_install", "-at_install")
class TestPaidMeansOnline(MpesaCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        website = cls.env["website"].get_current_website()
        website.company_id = cls.tz_company
        cls.clickpesa.is_published = True
        cls.Job = cls.env["isp.router.job"]
        cls.tzs_bundle.product_tmpl_id.write({"isp_upload_kbps": 512, "isp_download_kbps": 2048})

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
                "company_id": self.tz_company.id,
                "service_hotspot": True,
            }
        )

    # ------------------------------------------------------------------ helpers

    def _run_cron(self, method):
        """A cron method run as the cron worker would, its commits recorded, not done."""
        with patch.object(type(self.env["ir.cron"]), "_commit_progress", lambda *a, **k: 60.0):
            method()
        self.env.invalidate_all()

    def _run_router_queue(self):
        self._run_cron(self.Job._cron_process_queue)

    def _router_login(self, subscription):
        """The captive page's hand-off (isp_hotspot, through isp_hotspot_mikrotik)."""
        return self.env["isp.hotspot.router.login"]._router_login(
            subscription, str(self.router.id), IP, MAC
        )

    def _users(self):
        return {row["name"]: row for row in self.sim.rows(USERS)}

    def _pay(self, phone):
        """The captive page's API: push, then the provider's webhook twice (a retry)."""
        response = self.url_open(
            "/api/initiate-payment/",
            json={
                "phone": phone,
                "bundle_id": self.tzs_bundle.id,
                "mac": MAC,
                "ip": IP,
                "nas": str(self.router.id),
            },
            method="POST",
        )
        self.assertEqual(response.status_code, 201, response.text)
        tx = self.env["payment.transaction"].search(
            [("reference", "=", response.json()["reference"])]
        )
        self.assertEqual(self._clickpesa_webhook(tx).status_code, 200)
        # the provider delivers it again: acknowledged as already ended, nothing applied twice
        self.assertIn(self._clickpesa_webhook(tx).status_code, (200, 409))
        self.assertEqual(tx.state, "done")
        self.assertEqual(
            self.env["isp.purchase"].search_count([("reference", "=", tx.reference)]), 1
        )
        return tx.isp_subscription_id

    # ------------------------------------------------------------------ tests

    def test_paid_customer_is_on_the_router_and_logged_in(self):
        subscription = self._pay("0754123470")
        self.assertEqual(subscription.state, "active")
        # the payment queued the router's update; the queue runs it against the strict router
        self._run_router_queue()
        user = self._users()[subscription.login]
        self.assertEqual(user["password"], subscription.sudo().password)
        self.assertEqual(user["disabled"], "false")
        self.assertEqual(user["limit-uptime"], "1d")
        self.assertTrue(user["profile"].startswith(routeros.PROFILE_PREFIX), user["profile"])
        self.assertIn(user["profile"], {row["name"] for row in self.sim.rows(PROFILES)})
        self.assertEqual(self.router.sync_state, "ok")
        self.assertFalse(
            self.Job.search([("router_id", "=", self.router.id), ("state", "!=", "done")]),
            "nothing left to retry",
        )
        # the captive page's hand-off: the router logs this device in, and only then "online"
        result = self._router_login(subscription)
        self.assertEqual(result["state"], "online", result)
        self.assertEqual(
            [(r["user"], r["address"], r["mac-address"]) for r in self.sim.rows(ACTIVE)],
            [(subscription.login, IP, MAC)],
        )

        # the period ends while the device is online: the router disables the user and
        # drops the session
        now = fields.Datetime.now()
        subscription.write(
            {"date_start": now - timedelta(days=1), "date_expiry": now - timedelta(minutes=1)}
        )
        self._run_cron(self.env["isp.subscription"]._cron_expire_subscriptions)
        self.assertEqual(subscription.state, "expired")
        self._run_router_queue()
        user = self._users().get(subscription.login)
        self.assertTrue(user is None or user["disabled"] == "true", user)
        self.assertFalse(self.sim.rows(ACTIVE), "the expired customer's session was dropped")

    def test_router_down_then_back(self):
        self.sim.set_refuse(True)
        subscription = self._pay("0754123471")
        self.assertEqual(subscription.state, "active", "paid: access is granted in billing")
        self._run_router_queue()
        self.assertNotIn(subscription.login, self._users())
        pending = self.Job.search([("router_id", "=", self.router.id), ("state", "=", "pending")])
        self.assertIn(subscription, pending.subscription_id, "the update waits for the router")
        # the captive page says the access is paid and will follow, never "online"
        result = self._router_login(subscription)
        self.assertEqual(result["state"], "pending", result)

        self.sim.set_refuse(False)
        with freeze_time(fields.Datetime.now() + timedelta(hours=1)):
            self._run_router_queue()
        self.assertEqual(self._users()[subscription.login]["disabled"], "false")
        result = self._router_login(subscription)
        self.assertEqual(result["state"], "online", result)

    def test_periodic_sync_repairs_what_was_changed_by_hand(self):
        first = self._pay("0754123472")
        second = self._pay("0754123473")
        self._run_router_queue()
        users = self._users()
        profile = users[first.login]["profile"]
        # by hand on the router: one user deleted, another moved to the default profile and
        # disabled, the suite's profile slowed down; the operator's own user and profile
        self.sim.add_row(USERS, name="guest", password="x", profile="default")
        self.sim.add_row(PROFILES, name="vip", **{"rate-limit": "10M/10M"})
        with self.sim.lock:
            menu = self.sim.menus[USERS]
            menu.rows.pop(users[first.login][".id"])
            menu.rows[users[second.login][".id"]].update(profile="default", disabled="true")
            for row in self.sim.menus[PROFILES].rows.values():
                if row["name"] == profile:
                    row["rate-limit"] = "64k/64k"

        self._run_cron(self.Job._cron_schedule_full_sync)
        with freeze_time(fields.Datetime.now() + timedelta(minutes=1)):
            self._run_router_queue()
        users = self._users()
        self.assertEqual(users[first.login]["profile"], profile, "recreated")
        self.assertEqual(
            (users[second.login]["profile"], users[second.login]["disabled"]), (profile, "false")
        )
        profiles = {row["name"]: row for row in self.sim.rows(PROFILES)}
        self.assertEqual(profiles[profile]["rate-limit"], "512k/2M")
        # what the operator made is left as it is
        self.assertEqual(users["guest"]["profile"], "default")
        self.assertEqual(profiles["vip"]["rate-limit"], "10M/10M")
