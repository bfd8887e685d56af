from datetime import timedelta

from odoo.tests import tagged

from .common import (
    HOTSPOT_ACTIVE,
    HOTSPOT_PROFILES,
    HOTSPOT_USERS,
    PPP_PROFILES,
    PPP_SECRETS,
    MikrotikCase,
)

N = 25


@tagged("post_install", "-at_install")
class TestSync(MikrotikCase):
    def test_first_sync_creates_exactly_the_users_and_profiles(self):
        hotspot = self._subscriptions(N)
        capped = self._subscription("+255713000001", bundle=self.capped)
        pppoe = self._subscription("+255713000002", bundle=self.pppoe)
        self._subscription("+255713000003", activate=False)  # draft: nothing on routers
        self.sim.add_row(HOTSPOT_USERS, name="operator-guest", password="x", profile="default")

        self._full_sync()

        users = self._users()
        managed = {name for name, row in users.items() if name != "operator-guest"}
        self.assertEqual(managed, set((hotspot | capped).mapped("login")))
        first = hotspot[0]
        row = users[first.login]
        self.assertEqual(row["password"], first.sudo().password)
        self.assertEqual(row["profile"], self.daily.product_tmpl_id.isp_mikrotik_profile)
        self.assertEqual(row["server"], "all")
        self.assertEqual(row["limit-uptime"], "1d")
        self.assertEqual(row["disabled"], "false")
        self.assertTrue(row["comment"].startswith(f"isp-billing:s{first.id}:p"))
        self.assertNotIn("limit-bytes-total", row)
        self.assertEqual(users[capped.login]["limit-bytes-total"], str(1024 * 1024 * 1024))

        profiles = {row["name"]: row for row in self.sim.rows(HOTSPOT_PROFILES)}
        daily = profiles[self.daily.product_tmpl_id.isp_mikrotik_profile]
        self.assertEqual(daily["rate-limit"], "512k/2M")  # rx/tx: upload/download
        self.assertEqual(daily["shared-users"], "2")
        self.assertEqual(daily["session-timeout"], "1d")
        self.assertEqual(
            profiles[self.capped.product_tmpl_id.isp_mikrotik_profile]["shared-users"], "3"
        )  # the company's default device limit
        hotspot_bundles = self.env["product.template"].search(
            [
                ("is_isp_bundle", "=", True),
                ("isp_service_type", "=", "hotspot"),
                ("company_id", "in", [False, self.router.company_id.id]),
            ]
        )
        self.assertEqual(
            set(profiles) - {"default"},
            {t.isp_mikrotik_profile for t in hotspot_bundles},
        )
        secrets = self._users(path=PPP_SECRETS)
        self.assertEqual(set(secrets), {pppoe.login})
        self.assertEqual(secrets[pppoe.login]["service"], "pppoe")
        ppp_profiles = {row["name"] for row in self.sim.rows(PPP_PROFILES)}
        self.assertIn(self.pppoe.product_tmpl_id.isp_mikrotik_profile, ppp_profiles)

        self.assertEqual(self.router.sync_state, "ok")
        self.assertEqual(self.router.state, "online")
        self.assertEqual(self.router.ros_version, "7.16 (stable)")
        self.assertFalse(self._pending())

    def test_second_sync_writes_nothing(self):
        self._subscriptions(N)
        self._subscription("+255713000002", bundle=self.pppoe)
        self._subscription("+255713000001", bundle=self.capped)
        self._full_sync()
        self.sim.reset_counters()
        self.sim.record_commands = True
        self._full_sync()
        writes = [c for c in self.sim.commands if not c[0].endswith(("/print", "/login"))]
        self.assertEqual(writes, [])
        self.assertEqual(self.sim.writes, 0)
        self.assertEqual(self.router.last_sync_writes, 0)
        # login + 2 status reads + per service: profiles and users read
        self.assertLessEqual(self.sim.sentences, 7)

    def test_state_change_queues_and_syncs_that_subscription(self):
        subscription = self._subscription("+255713000010", activate=False)
        self.assertFalse(self._pending())
        subscription.action_activate()
        job = self._pending()
        self.assertEqual(len(job), 1)
        self.assertEqual(
            (job.kind, job.subscription_id, job.reason), ("subscription", subscription, "state")
        )
        cron = self.env.ref("isp_mikrotik.ir_cron_isp_router_sync_queue")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))
        self.sim.record_commands = True
        self._run_queue()
        self.assertIn(subscription.login, self._users())
        self.assertEqual(job.state, "done")
        # targeted: only this user is read, not the whole menu
        prints = [c for c in self.sim.commands if c[0] == "/ip/hotspot/user/print"]
        self.assertIn(f"?=name={subscription.login}", prints[0])

    def test_expiry_disables_and_drops_the_session(self):
        subscription = self._subscription("+255713000020")
        other = self._subscription("+255713000021")
        self._full_sync()
        session = self.sim.connect_client(subscription.login, "10.5.50.10", "AA:BB:CC:00:00:01")
        self.sim.connect_client(other.login, "10.5.50.11", "AA:BB:CC:00:00:02")
        subscription.write(
            {"date_start": self._now() - timedelta(days=1), "date_expiry": self._now()}
        )
        self._run_expiry_cron()
        self.assertEqual(subscription.state, "expired")
        self._run_queue()
        self.assertEqual(self._users()[subscription.login]["disabled"], "true")
        self.assertEqual(self._users()[other.login]["disabled"], "false")
        active = {row[".id"]: row["user"] for row in self.sim.rows(HOTSPOT_ACTIVE)}
        self.assertNotIn(session, active)
        self.assertEqual(list(active.values()), [other.login])
        # and it stays that way, with nothing written again
        self.sim.reset_counters()
        self._full_sync()
        self.assertEqual(self.sim.writes, 0)

    def test_a_company_without_a_policy_disables(self):
        """A company created before this module was loaded (or by a module loaded after it)
        has no policy stored: the column is not NOT NULL, and empty means disable."""
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_company SET isp_mikrotik_inactive_action = NULL WHERE id = %s",
            [self.company.id],
        )
        self.company.invalidate_recordset()
        self.assertFalse(self.company.isp_mikrotik_inactive_action)
        subscription = self._subscription("+255713000025")
        self._full_sync()
        subscription.action_suspend()
        self._run_queue()
        self.assertEqual(self._users()[subscription.login]["disabled"], "true")

    def test_remove_policy_and_cancel_remove_users(self):
        self.company.isp_mikrotik_inactive_action = "remove"
        suspended = self._subscription("+255713000030")
        cancelled = self._subscription("+255713000031", bundle=self.pppoe)
        self._full_sync()
        self.sim.connect_client(cancelled.login, "10.0.0.9", "AA:BB:CC:00:00:09", service="pppoe")
        suspended.action_suspend()
        cancelled.action_cancel()
        self._run_queue()
        self.assertNotIn(suspended.login, self._users())
        self.assertNotIn(cancelled.login, self._users(path=PPP_SECRETS))
        self.assertFalse(self.sim.rows("/ppp/active"))

    def test_foreign_objects_are_never_touched(self):
        subscription = self._subscription("+255713000040")
        clash = self._subscription("+255713000041")
        foreign_user = self.sim.add_row(
            HOTSPOT_USERS, name="staff-laptop", password="p", profile="default", disabled="yes"
        )
        foreign_clash = self.sim.add_row(
            HOTSPOT_USERS, name=clash.login, password="theirs", profile="default"
        )
        # profiles have no comment: the operator's own (Mikhmon keeps its data in on-login),
        # and ones merely resembling the suite's, are not carrying the reserved prefix
        foreign_profile = self.sim.add_row(
            HOTSPOT_PROFILES,
            name="weekly",
            **{"rate-limit": "1M/1M", "on-login": ':put (",rem,6000,7d,6000,,Enable,")'},
        )
        self.sim.add_row(HOTSPOT_PROFILES, name=f"isp-weekly-{self.weekly.product_tmpl_id.id}")
        self.sim.add_row(HOTSPOT_PROFILES, name="isp-billing-bx")
        self.sim.add_row(PPP_PROFILES, name="branch", **{"only-one": "yes"})
        self.sim.add_row(PPP_SECRETS, name="branch-office", password="p", comment="VPN")
        before = {
            path: {row[".id"]: row for row in self.sim.rows(path)}
            for path in (HOTSPOT_USERS, HOTSPOT_PROFILES, PPP_SECRETS, PPP_PROFILES)
        }
        self._full_sync()
        after = {
            path: {row[".id"]: row for row in self.sim.rows(path)}
            for path in (HOTSPOT_USERS, HOTSPOT_PROFILES, PPP_SECRETS, PPP_PROFILES)
        }
        for path, rows in before.items():
            for row_id, row in rows.items():
                self.assertEqual(after[path][row_id], row, f"{path} {row_id} was changed")
        self.assertEqual(after[HOTSPOT_USERS][foreign_clash]["password"], "theirs")
        self.assertEqual(after[HOTSPOT_USERS][foreign_user]["disabled"], "true")
        self.assertEqual(after[HOTSPOT_PROFILES][foreign_profile]["rate-limit"], "1M/1M")
        self.assertIn(subscription.login, self._users())
        # the suite's own profile for the same bundle is there beside the operator's
        self.assertTrue(
            self.sim.find(HOTSPOT_PROFILES, name=self.weekly.product_tmpl_id.isp_mikrotik_profile)
        )
        self.assertEqual(self.router.sync_state, "error")
        self.assertIn("not made by the suite", self.router.sync_message)
        self.assertIn(clash.login, self.router.sync_message)
        # the clashing subscription keeps a pending job with the reason
        job = self._pending().filtered(lambda j: j.subscription_id == clash)
        self.assertIn("not made by the suite", job.last_error)

    def test_new_period_and_extension(self):
        subscription = self._subscription("+255713000050", bundle=self.capped)
        subscription.write(
            {
                "date_start": self._now() - timedelta(hours=12),
                "date_expiry": self._now() + timedelta(hours=12),
            }
        )
        self._full_sync()
        row = self._users()[subscription.login]
        # an extension adds time and data: the user is updated in place
        self._fulfil(subscription.partner_id, self.capped, "EXT-1")
        self.assertEqual(self._pending().subscription_id, subscription)
        self._run_queue()
        updated = self._users()[subscription.login]
        self.assertEqual(updated[".id"], row[".id"])
        self.assertEqual(updated["limit-uptime"], "2d")
        self.assertEqual(updated["limit-bytes-total"], str(2048 * 1024 * 1024))
        # a new period after expiry: the user is made again, its counters restart
        subscription.write({"state": "expired"})
        self._run_queue()
        self._fulfil(subscription.partner_id, self.capped, "NEW-1")
        self._run_queue()
        renewed = self._users()[subscription.login]
        self.assertNotEqual(renewed[".id"], row[".id"])
        self.assertEqual(renewed["disabled"], "false")
        self.assertEqual(renewed["uptime"], "0s")
        self.sim.reset_counters()
        self._full_sync()
        self.assertEqual(self.sim.writes, 0)

    def test_bundle_change_updates_profile(self):
        self._subscription("+255713000060")
        self._full_sync()
        self.daily.product_tmpl_id.isp_download_kbps = 4096
        self.sim.reset_counters()
        self._full_sync()
        self.assertEqual(self.sim.writes, 1)
        profile = self.sim.find(
            HOTSPOT_PROFILES, name=self.daily.product_tmpl_id.isp_mikrotik_profile
        )
        self.assertEqual(profile[0]["rate-limit"], "512k/4M")
