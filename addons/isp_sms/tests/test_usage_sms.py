from datetime import timedelta

from psycopg2.errors import CheckViolation

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import IspSmsCase


@tagged("post_install", "-at_install")
class TestUsageSms(IspSmsCase):
    """One SMS per period (and data cap) when a customer has used the company's share of the
    cap; the router poll (isp_mikrotik) adds the data used and calls isp_billing's
    ``_data_usage_changed`` hook, as ``_use`` does here."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.five_gb = cls._bundle("Daily 5 GB", 2000, 1, "days", isp_data_cap_mb=5120)
        cls.home = cls._bundle(
            "Home 2 GB", 30000, 1, "months", service_type="pppoe", isp_data_cap_mb=2048
        )

    def _use(self, subscriptions, megabytes):
        """As a router poll does: add the use, then tell billing (one call per batch)."""
        previous = {sub.id: sub.data_used_mb for sub in subscriptions}
        for subscription in subscriptions:
            subscription.data_used_mb += megabytes
        subscriptions._data_usage_changed(previous)

    def _alerts(self, partner):
        return self._sms_of(partner).filtered(
            lambda s: s.body.startswith(("You have used", "Umetumia"))
        )

    def _bought(self, phone, bundle=None, **vals):
        partner = self._customer(phone, **vals)
        return self._fulfil(partner, bundle or self.five_gb, f"TX-{phone}").subscription_id

    def test_one_sms_at_80_percent_with_what_is_left(self):
        subscription = self._bought("+255712400001")
        partner = subscription.partner_id
        self._use(subscription, 3000)  # 58 %
        self.assertFalse(self._alerts(partner))
        self._use(subscription, 1200)  # 4200 MB of 5120: 82 %, 920 MB left
        alerts = self._alerts(partner)
        self.assertEqual(len(alerts), 1)
        base = subscription.get_base_url().rstrip("/")
        self.assertEqual(
            alerts.body,
            f"You have used 82% of your 5 GB data: 920 MB left. Buy more at {base}/hotspot",
        )
        # in the subscription's chatter, to the customer
        message = alerts.mail_message_id
        self.assertEqual((message.model, message.res_id), (subscription._name, subscription.id))
        # more use, the same poll twice, a duplicate call: nothing more
        self._use(subscription, 100)
        subscription._data_usage_changed({subscription.id: 4200.0})
        subscription._data_usage_changed({subscription.id: 4200.0})
        self.assertEqual(len(self._alerts(partner)), 1)
        # through the gateway, as written
        self._run_sms_queue()
        self.assertEqual(
            [m["text"] for m in self.nextsms.accepted if "You have used" in m["text"]],
            [alerts.body],
        )

    def test_a_new_period_or_more_data_allows_the_next_one(self):
        subscription = self._bought("+255712400002")
        partner = subscription.partner_id
        self._use(subscription, 4200)
        self.assertEqual(len(self._alerts(partner)), 1)
        # more data bought during the period: the cap grows, 4200 of 10240 is 41 %
        self._fulfil(partner, self.five_gb, "TX-MORE-2")
        self.assertEqual(subscription.data_cap_mb, 10240)
        self._use(subscription, 10)
        self.assertEqual(len(self._alerts(partner)), 1)
        self._use(subscription, 4000)  # 8210 of 10240: 80 %
        self.assertEqual(len(self._alerts(partner)), 2)
        self.assertIn("80% of your 10 GB data: 2 GB left", self._alerts(partner)[-1].body)
        # a new period (renewal after expiry): the data used starts again, so does the alert
        subscription.write(
            {
                "date_start": self._now() - timedelta(days=2),
                "date_expiry": self._now() - timedelta(minutes=1),
            }
        )
        self._run_expiry_cron()
        self._fulfil(partner, self.five_gb, "TX-RENEW-2")
        self.assertEqual((subscription.state, subscription.data_used_mb), ("active", 0.0))
        self._use(subscription, 4500)
        self.assertEqual(len(self._alerts(partner)), 3)

    def test_swahili_customer_and_pppoe_link(self):
        subscription = self._bought("+255712400003", bundle=self.home, lang="sw")
        self._use(subscription, 1700)  # 83 % of 2 GB, 348 MB left
        base = subscription.get_base_url().rstrip("/")
        self.assertEqual(
            self._alerts(subscription.partner_id).body,
            f"Umetumia 83% ya data yako ya 2 GB: zimebaki 348 MB. Nunua zaidi kwenye "
            f"{base}/my/subscriptions",
        )

    def test_batch_only_those_over_the_threshold(self):
        over = self._bought("+255712400004") | self._bought("+255712400005")
        under = self._bought("+255712400006")
        unlimited = self._bought("+255712400007", bundle=self.daily)
        batch = over | under | unlimited
        previous = {sub.id: 0.0 for sub in batch}
        for subscription in over:
            subscription.data_used_mb = 4500
        under.data_used_mb = 1000
        unlimited.data_used_mb = 90000
        batch._data_usage_changed(previous)
        for subscription in over:
            self.assertEqual(len(self._alerts(subscription.partner_id)), 1)
        for subscription in under | unlimited:
            self.assertFalse(self._alerts(subscription.partner_id))

    def test_the_cap_reached_at_once_and_inactive_get_none(self):
        """At the cap, the suspension notice (or the fair-use slow-down) speaks instead."""
        subscription = self._bought("+255712400008")
        self._use(subscription, 5200)
        self.assertFalse(self._alerts(subscription.partner_id))
        suspended = self._bought("+255712400009")
        suspended.action_suspend()
        self._use(suspended, 4500)
        self.assertFalse(self._alerts(suspended.partner_id))

    def test_off_and_the_setting_checked(self):
        self.company.isp_usage_alert_percent = 0
        subscription = self._bought("+255712400010")
        self._use(subscription, 5000)
        self.assertFalse(self._alerts(subscription.partner_id))
        # 90 %: the alert waits for 90 % of the cap
        self.company.isp_usage_alert_percent = 90
        other = self._bought("+255712400011")
        self._use(other, 4500)  # 87 %
        self.assertFalse(self._alerts(other.partner_id))
        self._use(other, 200)  # 91 %
        self.assertEqual(len(self._alerts(other.partner_id)), 1)
        with mute_logger("odoo.sql_db"), self.assertRaises(CheckViolation):
            self.company.isp_usage_alert_percent = 100
            self.env.flush_all()

    def test_customer_without_phone_changes_nothing_else(self):
        subscription = self._bought("+255712400012")
        subscription.partner_id.phone = False
        self._use(subscription, 4500)
        self.assertAlmostEqual(subscription.data_used_mb, 4500.0)
        self.assertTrue(subscription.isp_usage_alert_key, "not tried again at every poll")
