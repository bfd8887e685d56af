"""Router profiles: RouterOS profiles have no comment, so the suite's are named with the
reserved prefix isp-billing-b<bundle id>; nothing without it is touched."""

from datetime import timedelta

from odoo.tests import tagged

from .common import HOTSPOT_PROFILES, HOTSPOT_USERS, PPP_PROFILES, PPP_SECRETS, MikrotikCase


@tagged("post_install", "-at_install")
class TestProfiles(MikrotikCase):
    def test_profile_name_carries_the_prefix_and_the_bundle_id(self):
        template = self.daily.product_tmpl_id
        name = template.isp_mikrotik_profile
        self.assertEqual(template._isp_mikrotik_profile_name(), name)
        self.assertTrue(name.startswith(f"isp-billing-b{template.id}-"), name)
        # renaming the bundle keeps its router profile
        template.name = "Day Pass (new name)"
        self.assertEqual(template.isp_mikrotik_profile, name)
        # a copy is another bundle: its own id
        copy = template.copy()
        self.assertTrue(copy.isp_mikrotik_profile.startswith(f"isp-billing-b{copy.id}-"))
        # a value without the bundle's own prefix (the old naming, a typed one) is replaced
        template.isp_mikrotik_profile = f"isp-daily-{template.id}"
        self.assertTrue(template.isp_mikrotik_profile.startswith(f"isp-billing-b{template.id}-"))

    def test_rate_limit_text(self):
        """RouterOS' rate-limit ``rx/tx`` from the router's side: the bundle's upload, then
        download speed (isp_billing's fields, in kbit/s)."""
        pppoe = self.pppoe.product_tmpl_id
        pppoe.write({"isp_upload_kbps": 2048, "isp_download_kbps": 10240})
        self.assertEqual(pppoe._isp_mikrotik_rate_limit(), "2M/10M")
        self.daily.product_tmpl_id.write({"isp_upload_kbps": 512, "isp_download_kbps": 1024})
        self.assertEqual(self.daily.product_tmpl_id._isp_mikrotik_rate_limit(), "512k/1M")
        self.assertEqual(self.weekly.product_tmpl_id._isp_mikrotik_rate_limit(), "")

    def test_sync_of_a_hotspot_bundle_creates_its_profile_then_the_user(self):
        """Regression: the profile was added with comment=, which RouterOS refuses; every
        user add then failed with 'input does not match any value of profile'."""
        subscription = self._subscription("+255716000001")
        pppoe = self._subscription("+255716000002", bundle=self.pppoe)
        self._full_sync()
        self.assertEqual(self.router.sync_state, "ok", self.router.sync_message)
        self.assertFalse(self._pending())
        name = self.daily.product_tmpl_id.isp_mikrotik_profile
        profile = self.sim.find(HOTSPOT_PROFILES, name=name)[0]
        self.assertNotIn("comment", profile)
        self.assertEqual(
            (profile["rate-limit"], profile["shared-users"], profile["session-timeout"]),
            ("512k/2M", "2", "1d"),
        )
        user = self._users()[subscription.login]
        self.assertEqual(user["profile"], name)
        self.assertTrue(user["comment"].startswith(f"isp-billing:s{subscription.id}:p"))
        ppp_name = self.pppoe.product_tmpl_id.isp_mikrotik_profile
        self.assertNotIn("comment", self.sim.find(PPP_PROFILES, name=ppp_name)[0])
        self.assertEqual(self._users(path=PPP_SECRETS)[pppoe.login]["profile"], ppp_name)

    def test_targeted_sync_of_a_new_customer_creates_profile_and_user(self):
        subscription = self._subscription("+255716000003", bundle=self.capped)
        self._run_queue()
        job = self.Job.search([("subscription_id", "=", subscription.id)])
        self.assertEqual(job.state, "done", job.last_error)
        self.assertEqual(
            self._users()[subscription.login]["profile"],
            self.capped.product_tmpl_id.isp_mikrotik_profile,
        )

    def test_only_prefixed_profiles_are_changed_or_removed(self):
        self.company.isp_mikrotik_inactive_action = "disable"
        expired = self._subscription("+255716000004", bundle=self.capped)
        self._full_sync()
        # the operator's profiles: no prefix, whatever they look like
        operator = {
            self.sim.add_row(HOTSPOT_PROFILES, name="staff", **{"shared-users": "5"}),
            self.sim.add_row(HOTSPOT_PROFILES, name="isp-billing", **{"rate-limit": "1M/1M"}),
            self.sim.add_row(HOTSPOT_PROFILES, name="isp-billing-bonus"),
        }
        # the suite's profile of a bundle that no longer exists: an orphan, removed
        orphan = self.sim.add_row(HOTSPOT_PROFILES, name="isp-billing-b999999-gone")
        # a bundle no longer sold whose profile an expired (disabled) user still names: kept
        self.capped.product_tmpl_id.is_isp_bundle = False
        expired.write({"date_start": self._now() - timedelta(days=2), "date_expiry": self._now()})
        self._run_expiry_cron()
        self._run_queue()
        self.assertEqual(self._users()[expired.login]["disabled"], "true")
        before = {row[".id"]: row for row in self.sim.rows(HOTSPOT_PROFILES)}
        self._full_sync()
        after = {row[".id"]: row for row in self.sim.rows(HOTSPOT_PROFILES)}
        for row_id in operator:
            self.assertEqual(after[row_id], before[row_id])
        self.assertNotIn(orphan, after)
        self.assertTrue(
            self.sim.find(HOTSPOT_PROFILES, name=self.capped.product_tmpl_id.isp_mikrotik_profile)
        )
        self.assertEqual(self.router.sync_state, "ok", self.router.sync_message)

    def test_renamed_bundle_neither_duplicates_nor_orphans_its_profile(self):
        self._subscription("+255716000005")
        self._full_sync()
        before = {row["name"]: row[".id"] for row in self.sim.rows(HOTSPOT_PROFILES)}
        self.daily.product_tmpl_id.name = "Daily Unlimited"
        self.sim.reset_counters()
        self._full_sync()
        self.assertEqual(self.sim.writes, 0)
        after = {row["name"]: row[".id"] for row in self.sim.rows(HOTSPOT_PROFILES)}
        self.assertEqual(after, before)
        self.assertEqual(len(self.sim.rows(HOTSPOT_USERS)), 1)
