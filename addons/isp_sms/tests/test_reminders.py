from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from .common import IspSmsCase


@tagged("post_install", "-at_install")
class TestReminders(IspSmsCase):
    def _reminders(self, partner):
        return self._sms_of(partner).filtered(lambda s: s.body.startswith(("Reminder", "Kumbusho")))

    def _at(self, moment):
        return patch.object(fields.Datetime, "now", return_value=moment.replace(microsecond=0))

    def test_hotspot_reminder_once(self):
        due = self._subscription("+255712400001", self.daily, timedelta(minutes=90))
        later = self._subscription("+255712400002", self.daily, timedelta(hours=3))
        self._run_reminders()
        self._run_reminders()
        reminders = self._reminders(due.partner_id)
        self.assertEqual(len(reminders), 1)
        self.assertEqual(
            reminders.body,
            f"Reminder: your internet access ends on {due.isp_sms_expiry}. "
            "Renew early to stay connected.",
        )
        self.assertFalse(self._reminders(later.partner_id))
        self.assertEqual(due.isp_sms_reminder_ids.kind, "h2")
        self._run_sms_queue()
        self.assertEqual(
            len([a for a in self.nextsms.accepted if a["text"].startswith("Reminder")]), 1
        )

    def test_swahili_reminder(self):
        due = self._subscription("+255712400003", self.daily, timedelta(minutes=30), lang="sw")
        self._run_reminders()
        self.assertTrue(self._reminders(due.partner_id).body.startswith("Kumbusho: huduma yako"))

    def test_pppoe_offsets_each_once(self):
        now = self._now()
        subscription = self._subscription("+255712400004", self.pppoe, timedelta(days=6.5))
        partner = subscription.partner_id
        for days in (0, 0, 4, 4, 5.6, 5.6):
            with self._at(now + timedelta(days=days)):
                self._run_reminders()
        self.assertEqual(
            sorted(subscription.isp_sms_reminder_ids.mapped("kind")), ["d1", "d3", "d7"]
        )
        self.assertEqual(len(self._reminders(partner)), 3)

    def test_no_expiry_reminder_when_billed_monthly(self):
        # A monthly-billed PPPoE subscription's access follows its invoices: "your access
        # ends" would be wrong (post-paid customers owe nothing yet).
        billed = self._subscription("+255712400014", self.pppoe, timedelta(days=2))
        billed.recurring_next_date = fields.Date.today() + timedelta(days=2)
        bought = self._subscription("+255712400015", self.pppoe, timedelta(days=2))
        self._run_reminders()
        self.assertFalse(self._reminders(billed.partner_id))
        self.assertFalse(billed.isp_sms_reminder_ids)
        self.assertEqual(len(self._reminders(bought.partner_id)), 1)

    def test_company_offsets(self):
        self.company.isp_reminder_pppoe_days = "10"
        self.company.isp_reminder_hotspot_hours = 0
        pppoe = self._subscription("+255712400005", self.pppoe, timedelta(days=9))
        hotspot = self._subscription("+255712400006", self.daily, timedelta(minutes=30))
        self._run_reminders()
        self.assertEqual(pppoe.isp_sms_reminder_ids.kind, "d10")
        self.assertFalse(hotspot.isp_sms_reminder_ids)

    def test_renewal_cancels_queued_reminder_and_later_ones(self):
        subscription = self._subscription("+255712400007", self.daily, timedelta(minutes=60))
        partner = subscription.partner_id
        self._run_reminders()
        reminder = self._reminders(partner)
        self.assertEqual(reminder.state, "outgoing")
        self._fulfil(partner, self.weekly, "TX-RENEW-7")
        self.assertEqual(reminder.state, "canceled")
        self._run_reminders()
        self.assertEqual(len(self._reminders(partner)), 1, "no reminder after the renewal")
        self._run_sms_queue()
        texts = [a["text"] for a in self.nextsms.accepted if a["to"] == "255712400007"]
        self.assertFalse([t for t in texts if t.startswith("Reminder")])
        self.assertTrue([t for t in texts if t.startswith("Renewal confirmed!")])

    def test_renewal_cancels_reminder_waiting_for_retry(self):
        subscription = self._subscription("+255712400009", self.daily, timedelta(minutes=60))
        self._run_reminders()
        reminder = self._reminders(subscription.partner_id)
        self.nextsms.fail_next("http503")
        self._run_sms_queue()
        self.assertEqual(reminder.state, "process")
        self._fulfil(subscription.partner_id, self.weekly, "TX-RENEW-9")
        self.assertEqual(reminder.state, "canceled")
        self._make_due(reminder)
        self._run_sms_queue()
        self.assertFalse([a for a in self.nextsms.accepted if a["text"].startswith("Reminder")])

    def test_no_reminder_for_period_started_inside_window(self):
        self._subscription(
            "+255712400008", self.daily, timedelta(minutes=60), started_ago=timedelta(minutes=30)
        )
        self._run_reminders()
        self.assertFalse(self.env["isp.sms.reminder"].search([]))

    def test_batches_are_committed(self):
        subscriptions = self.env["isp.subscription"]
        for i in range(5):
            subscriptions |= self._subscription(
                f"+2557124001{i:02d}", self.daily, timedelta(minutes=30 + i)
            )
        reports = []
        with self._commit_patch(reports):
            self.env["isp.subscription"]._cron_isp_sms_reminders(batch_size=2)
        self.assertEqual(reports, [(2, 3), (2, 1), (1, 0), (0, 0)])
        self.assertEqual(len(subscriptions.isp_sms_reminder_ids), 5)
        self.assertTrue(all(subscriptions.isp_sms_reminder_ids.mapped("message_id")))
