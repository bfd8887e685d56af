from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import tagged

from .common import IspBillingCase


@tagged("post_install", "-at_install")
class TestExpiry(IspBillingCase):
    _phones = 0

    def _make_subscriptions(self, count, expiry):
        first = TestExpiry._phones
        TestExpiry._phones += count
        partners = self.env["res.partner"].create(
            [
                {
                    "name": f"C{i}",
                    "phone": f"+2557130{i:05d}",
                    "is_isp_customer": True,
                    "company_id": self.company.id,
                }
                for i in range(first, first + count)
            ]
        )
        subs = self.env["isp.subscription"].create(
            [{"partner_id": p.id, "bundle_id": self.daily.id} for p in partners]
        )
        subs.action_activate()
        subs.write({"date_start": expiry - timedelta(days=1), "date_expiry": expiry})
        return subs

    def test_cron_expires_only_what_is_due_in_batches(self):
        now = self._now()
        due = self._make_subscriptions(300, now - timedelta(minutes=5))
        running = self._make_subscriptions(50, now + timedelta(hours=3))
        suspended = self._make_subscriptions(10, now - timedelta(hours=1))
        suspended.action_suspend()
        changes = []
        original = type(due)._state_changed

        def spy(records, previous):
            changes.append((len(records), set(previous.values()), set(records.mapped("state"))))
            return original(records, previous)

        with patch.object(type(due), "_state_changed", spy):
            commits = self._run_expiry_cron(batch_size=128)
        self.assertEqual(set(due.mapped("state")), {"expired"})
        self.assertEqual(set(running.mapped("state")), {"active"})
        self.assertEqual(set(suspended.mapped("state")), {"suspended"})
        self.assertEqual(commits, [(128, 172), (128, 44), (44, 0)])
        self.assertEqual([c[0] for c in changes], [128, 128, 44])
        self.assertTrue(all(c[1] == {"active"} and c[2] == {"expired"} for c in changes))
        self.assertFalse(due.partner_id.filtered("isp_access_until"))
        # every expired subscription keeps a note of it in its chatter
        notes = self.env["mail.message"].search(
            [
                ("model", "=", "isp.subscription"),
                ("res_id", "in", due.ids),
                ("body", "ilike", "Access expired."),
            ]
        )
        self.assertEqual(set(notes.mapped("res_id")), set(due.ids))
        # a second run has nothing to do
        self.assertEqual(self._run_expiry_cron(), [])

    def test_cron_stops_when_its_time_is_up(self):
        due = self._make_subscriptions(30, self._now() - timedelta(minutes=1))
        self._run_expiry_cron(batch_size=10, seconds_left=0)
        self.assertEqual(len(due.filtered(lambda s: s.state == "expired")), 10)

    def test_expiry_boundary(self):
        with freeze_time("2026-05-01 12:00:00"):
            sub = self._fulfil(self._customer("0712345678"), self.daily, "TX-B").subscription_id
        with freeze_time("2026-05-02 11:59:59"):
            self._run_expiry_cron()
            self.assertEqual(sub.state, "active")
        with freeze_time("2026-05-02 12:00:00"):
            self._run_expiry_cron()
            self.assertEqual(sub.state, "expired")

    def test_cron_is_scheduled(self):
        cron = self.env.ref("isp_billing.ir_cron_isp_expire_subscriptions")
        self.assertTrue(cron.active)
        self.assertEqual((cron.interval_number, cron.interval_type), (1, "minutes"))

    def test_access_log_retention(self):
        Log = self.env["isp.access.log"]
        customer = self._customer("0712345678")
        self.company.isp_access_log_retention_days = 30
        old = Log._log(True, "known_device", customer)
        old.date = self._now() - timedelta(days=31)
        recent = Log._log(False, "device_limit", customer)
        recent.date = self._now() - timedelta(days=29)
        # another company keeps its log 60 days
        other = self.env["res.company"].create(
            {"name": "Other ISP", "isp_access_log_retention_days": 60}
        )
        kept = Log._log(True, "known_device", customer)
        kept.write({"company_id": other.id, "date": self._now() - timedelta(days=31)})
        gone = Log._log(True, "known_device", customer)
        gone.write({"company_id": other.id, "date": self._now() - timedelta(days=61)})
        self.assertEqual(Log._gc_expired(limit=10), (2, False))
        self.assertFalse(old.exists())
        self.assertTrue(recent.exists())
        self.assertTrue(kept.exists(), "31 days old, within the other company's 60")
        self.assertFalse(gone.exists())
        # a full batch says more may be left: ir.autovacuum calls the method again
        for _i in range(2):
            Log._log(True, "known_device", customer).date = self._now() - timedelta(days=40)
        self.assertEqual(Log._gc_expired(limit=1), (1, True))
        left = Log.search_count([("date", "<", self._now() - timedelta(days=39))])
        self.assertEqual(left, 1, "one batch of one deleted, the other left for the next run")
