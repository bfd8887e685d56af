import json

from freezegun import freeze_time

from odoo.tests import HttpCase, tagged

from .test_recurring import IspRecurringCase


class IspPortalCase(HttpCase, IspRecurringCase):
    """Two PPPoE customers with portal logins, each with a billed subscription."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pppoe.product_tmpl_id.write({"isp_download_kbps": 10240, "isp_upload_kbps": 5120})
        cls.prepaid.product_tmpl_id.write({"isp_download_kbps": 10240, "isp_upload_kbps": 5120})
        cls.faster = cls._bundle(
            "Home 20 Mbps",
            80000,
            1,
            "months",
            service_type="pppoe",
            isp_recurring_invoicing_type="pre-paid",
        )
        cls.sub_a = cls._portal_subscription("+255712800001", "portal_a")
        cls.sub_b = cls._portal_subscription("+255712800002", "portal_b")
        cls.user_a = cls.sub_a.partner_id.user_ids
        cls.invoice_a = cls.sub_a.recurring_invoice_ids
        cls.invoice_b = cls.sub_b.recurring_invoice_ids

    @classmethod
    def _portal_subscription(cls, phone, login):
        partner = cls._customer(phone, email=f"{login}@example.com")
        cls._portal_user(partner, login)
        subscription = cls.env["isp.subscription"].create(
            {"partner_id": partner.id, "bundle_id": cls.prepaid.id}
        )
        subscription.action_activate()
        subscription.data_used_mb = 1234
        with freeze_time(subscription.date_start):
            subscription._invoice_period(subscription._today())
        return subscription

    def _login(self, login):
        self.authenticate(login, login + "-pass-1234")


@tagged("post_install", "-at_install")
class TestCustomerPortal(IspPortalCase):
    def test_subscriptions_list_shows_only_mine(self):
        self._login("portal_a")
        response = self.url_open("/my/subscriptions")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.sub_a.name, response.text)
        self.assertNotIn(self.sub_b.name, response.text)

    def test_subscription_page_shows_status_speed_usage_invoices(self):
        self._login("portal_a")
        response = self.url_open(f"/my/subscriptions/{self.sub_a.id}")
        self.assertEqual(response.status_code, 200)
        page = response.text
        self.assertIn("10 Mbit/s down, 5 Mbit/s up", page)
        self.assertIn("1234 MB", page)
        self.assertIn("Next invoice", page)
        self.assertIn(self.invoice_a.name, page)
        self.assertIn(self.invoice_a.get_portal_url(), page)
        self.assertIn("Pay now", page)
        self.assertIn("Home 20 Mbps", page, "the plans one may move to are offered")
        self.assertIn("No session recorded", page)

    def test_home_counts_and_profile(self):
        self._login("portal_a")
        self.assertEqual(self.url_open("/my").status_code, 200)
        response = self.url_open(
            "/my/counters",
            data=json.dumps({"params": {"counters": ["isp_subscription_count"]}}),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.json()["result"]["isp_subscription_count"], 1)
        account = self.url_open("/my/account")
        self.assertEqual(account.status_code, 200)
        self.assertIn(self.sub_a.partner_id.phone, account.text)

    def test_others_subscription_is_refused(self):
        self._login("portal_a")
        # someone else's and a missing subscription answer alike: ids reveal nothing
        response = self.url_open(f"/my/subscriptions/{self.sub_b.id}")
        self.assertEqual(response.status_code, 404)
        self.assertNotIn(self.sub_b.login, response.text)
        self.assertEqual(self.url_open("/my/subscriptions/999999999").status_code, 404)
        response = self.url_open(
            f"/my/subscriptions/{self.sub_b.id}/change_plan",
            data={"bundle_id": self.faster.id, "csrf_token": self._csrf()},
        )
        self.assertEqual(response.status_code, 404)
        self.assertFalse(self.sub_b.activity_ids)

    def test_others_invoice_is_refused(self):
        self._login("portal_a")
        mine = self.url_open(self.invoice_a.get_portal_url())
        self.assertEqual(mine.status_code, 200)
        self.assertIn(self.invoice_a.name, mine.text)
        other = self.url_open(f"/my/invoices/{self.invoice_b.id}")
        # account's controller sends a stranger back to /my
        self.assertNotIn(self.invoice_b.name, other.text)
        self.assertTrue(other.url.endswith("/my"), other.url)

    def test_anonymous_is_sent_to_login(self):
        response = self.url_open(f"/my/subscriptions/{self.sub_a.id}")
        self.assertIn("/web/login", response.url)

    def _csrf(self):
        page = self.url_open(f"/my/subscriptions/{self.sub_a.id}").text
        marker = 'name="csrf_token" value="'
        start = page.index(marker) + len(marker)
        return page[start : page.index('"', start)]

    def test_change_plan_request_recorded_once_for_staff(self):
        self._login("portal_a")
        token = self._csrf()
        url = f"/my/subscriptions/{self.sub_a.id}/change_plan"
        data = {"bundle_id": self.faster.id, "note": "Working from home now", "csrf_token": token}
        response = self.url_open(url, data=data)
        self.assertEqual(response.status_code, 200)
        self.assertIn("Your request to change plan was sent", response.text)
        self.url_open(url, data=data)  # the same request again
        activities = self.sub_a.activity_ids
        self.assertEqual(len(activities), 1)
        self.assertIn("Home 20 Mbps", activities.summary)
        self.assertFalse(activities.user_id.share, "staff get the request")
        message = self.sub_a.message_ids.filtered(lambda m: "asks to move" in (m.body or ""))
        self.assertEqual(len(message), 1)
        self.assertIn("Working from home now", message.body)
        self.assertEqual(self.sub_a.bundle_id, self.prepaid, "the plan itself is not changed")

    def test_change_plan_to_a_foreign_bundle_is_refused(self):
        self._login("portal_a")
        hotspot = self.daily
        response = self.url_open(
            f"/my/subscriptions/{self.sub_a.id}/change_plan",
            data={"bundle_id": hotspot.id, "csrf_token": self._csrf()},
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("Choose one of the plans offered", response.text)
        self.assertFalse(self.sub_a.activity_ids)
