"""The captive page's server-side login through the router's API (isp_hotspot's
isp.hotspot.router.login, isp_mikrotik's router): online only when the router accepted it;
paid and pending when the router cannot be reached; the refusal in plain words."""

from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from odoo.addons.isp_mikrotik.tests.common import HOTSPOT_ACTIVE, MikrotikCase


@tagged("post_install", "-at_install")
class TestCaptiveLogin(MikrotikCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Login = cls.env["isp.hotspot.router.login"]

    def test_online_only_when_the_router_accepted(self):
        subscription = self._subscription("+255717000010")
        result = self.Login._router_login(
            subscription, str(self.router.id), "10.5.50.40", "AA:BB:CC:00:20:01"
        )
        self.assertEqual((result["ok"], result["state"]), (True, "online"))
        self.assertEqual(
            [row["user"] for row in self.sim.rows(HOTSPOT_ACTIVE)], [subscription.login]
        )
        # the same device again: the router says it is logged in already, as this user
        again = self.Login._router_login(
            subscription, str(self.router.id), "10.5.50.40", "AA:BB:CC:00:20:01"
        )
        self.assertEqual(again["state"], "online")

    def test_device_limit_on_the_router_is_told_in_plain_words(self):
        subscription = self._subscription("+255717000011")  # daily: 2 devices at once
        for index in range(2):
            self.sim.connect_client(
                subscription.login, f"10.5.50.5{index}", f"AA:00:00:00:00:0{index}"
            )
        result = self.Login._router_login(
            subscription, str(self.router.id), "10.5.50.59", "AA:BB:CC:00:20:02"
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
        result = self.Login._router_login(
            subscription, str(self.router.id), "10.5.50.60", "AA:BB:CC:00:20:03"
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
        result = self.Login._router_login(
            subscription, str(self.router.id), "10.5.50.61", "AA:BB:CC:00:20:04"
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
        self.env["ir.module.module"]._load_module_terms(
            ["isp_hotspot_mikrotik"], ["sw"], overwrite=True
        )
        subscription = self._subscription("+255717000014")
        self._run_queue()
        self.sim.set_refuse(True)
        result = self.Login.with_context(lang="sw")._router_login(
            subscription, str(self.router.id), "10.5.50.62", "AA:BB:CC:00:20:05"
        )
        self.assertEqual(result["state"], "pending")
        self.assertIn("Umeshalipia huduma", result["message"])

    def test_the_page_finds_the_router_named_by_nas(self):
        # the captive page passes the router's "nas" parameter (the router's id)
        subscription = self._subscription("+255715000006")
        result = self.Login._router_login(
            subscription, str(self.router.id), "10.5.50.33", "AA:BB:CC:00:10:07"
        )
        self.assertTrue(result["ok"], result["message"])
        self.assertEqual(
            [(row["user"], row["address"]) for row in self.sim.rows(HOTSPOT_ACTIVE)],
            [(subscription.login, "10.5.50.33")],
        )
        # an unknown, malformed or other company's router: no server-side login (the page
        # posts to the router's login URL instead), and the router is not told anything
        other_company = self.env["res.company"].create({"name": "Other ISP"})
        foreign = self.router.copy({"company_id": other_company.id, "name": "Foreign"})
        sentences = self.sim.sentences
        for nas in ("999999", "abc", None, str(foreign.id)):
            with self.subTest(nas=nas):
                self.assertIsNone(
                    self.Login._router_login(subscription, nas, "10.5.50.34", "AA:BB:CC:00:10:08")
                )
        self.assertEqual(self.sim.sentences, sentences)

    def test_server_side_login(self):
        subscription = self._subscription("+255715000004")
        # not yet provisioned (queue not run): the login provisions it first
        result = self.router._hotspot_login(subscription, "10.5.50.30", "AA:BB:CC:00:10:04")
        self.assertTrue(result["ok"], result["message"])
        active = self.sim.rows(HOTSPOT_ACTIVE)
        self.assertEqual(
            (active[0]["user"], active[0]["address"], active[0]["mac-address"]),
            (subscription.login, "10.5.50.30", "AA:BB:CC:00:10:04"),
        )
        device = self.env["isp.device"].search([("partner_id", "=", subscription.partner_id.id)])
        self.assertEqual(device.mac, "AA:BB:CC:00:10:04")
        # an unpaid (expired) customer is not let in
        subscription.action_suspend()
        result = self.router._hotspot_login(subscription, "10.5.50.31", "AA:BB:CC:00:10:05")
        self.assertFalse(result["ok"])
        # a router that is down gives a plain answer
        other = self._subscription("+255715000005")
        self.sim.set_refuse(True)
        result = self.router._hotspot_login(other, "10.5.50.32", "AA:BB:CC:00:10:06")
        self.assertFalse(result["ok"])
        self.assertEqual(result["state"], "pending")
        self.assertIn("Your access is paid", result["message"])

    def test_login_address_of_the_named_router_only(self):
        """The router's *Hotspot Login Address* counts only for a page naming that router,
        of the same company, serving hotspot."""
        Login, company = self.Login, self.router.company_id
        self.assertEqual(Login._router_login_hosts(company, nas=str(self.router.id)), [])
        self.router.hotspot_address = " 10.5.50.1 "
        self.assertEqual(Login._router_login_hosts(company, nas=str(self.router.id)), ["10.5.50.1"])
        for nas in (None, "", "0", "abc", "999999"):
            with self.subTest(nas=nas):
                self.assertEqual(Login._router_login_hosts(company, nas=nas), [])
        other_company = self.env["res.company"].create({"name": "Other ISP"})
        self.assertEqual(Login._router_login_hosts(other_company, nas=str(self.router.id)), [])
        self.router.service_hotspot = False
        self.assertEqual(Login._router_login_hosts(company, nas=str(self.router.id)), [])
