"""Dates and times customers read (SMS, /my) are in the company's time zone: a Tanzanian
company without a time zone of its own is on Africa/Dar_es_Salaam (EAT, UTC+3), so an expiry
at 21:00 UTC is at 00:00 the next day."""

import re
from datetime import datetime

from odoo.tests import HttpCase, tagged

from .common import IspSmsCase

EXPIRY_UTC = datetime(2030, 6, 10, 21, 0)
DATE_RE = re.compile(r"\d\d/\d\d/2030 \d\d:\d\d:\d\d [AP]M")


@tagged("post_install", "-at_install")
class TestCustomerTimeZone(HttpCase, IspSmsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # no time zone on the company: its country decides
        cls.company.partner_id.tz = False
        cls.partner = cls._customer("+255712600001", tz=False, email="zawadi@example.com")
        cls.user = cls._portal_user(cls.partner, "isp_tz_customer")
        cls.user.tz = False
        cls.subscription = cls.env["isp.subscription"].create(
            {"partner_id": cls.partner.id, "bundle_id": cls.monthly.id}
        )
        cls.subscription.action_activate()
        cls.subscription.date_expiry = EXPIRY_UTC

    def test_company_time_zone_from_its_country(self):
        self.assertEqual(self.company._isp_tz_name(), "Africa/Dar_es_Salaam")
        kenya = self.env["res.company"].create(
            {"name": "Kenyan ISP", "country_id": self.env.ref("base.ke").id}
        )
        self.assertEqual(kenya._isp_tz_name(), "Africa/Nairobi")
        kenya.partner_id.tz = "Africa/Kampala"
        self.assertEqual(kenya._isp_tz_name(), "Africa/Kampala")

    def test_sms_prints_the_expiry_in_east_africa_time(self):
        self.assertEqual(self.subscription.isp_sms_expiry, "11/06/2030 00:00")
        self.subscription._sms_post("isp_sms.sms_template_isp_expiry_warning")
        (sms,) = self._sms_of(self.partner).filtered(lambda s: "Reminder" in s.body)
        self.assertIn("11/06/2030 00:00", sms.body)
        self.assertNotIn("21:00", sms.body)

    def test_portal_prints_the_expiry_in_east_africa_time(self):
        self.authenticate("isp_tz_customer", "isp_tz_customer-pass-1234")
        for url in ("/my/subscriptions", f"/my/subscriptions/{self.subscription.id}"):
            page = self.url_open(url)
            self.assertEqual(page.status_code, 200, url)
            # English (US) writes times on 12 hours
            self.assertEqual(set(DATE_RE.findall(page.text)), {"06/11/2030 12:00:00 AM"}, url)

    def test_own_time_zone_wins(self):
        self.user.tz = "Europe/London"  # UTC+1 in June
        self.authenticate("isp_tz_customer", "isp_tz_customer-pass-1234")
        page = self.url_open(f"/my/subscriptions/{self.subscription.id}")
        self.assertEqual(set(DATE_RE.findall(page.text)), {"06/10/2030 10:00:00 PM"})
