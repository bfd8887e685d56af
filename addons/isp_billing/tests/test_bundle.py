from psycopg2.errors import CheckViolation

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import IspBillingCase


@tagged("post_install", "-at_install")
class TestBundle(IspBillingCase):
    def test_saving_against_shortest_bundle(self):
        # seed: weekly TSh 6,000 saves TSh 1,000 over 7 x daily TSh 1,000
        self.assertEqual(self.weekly.isp_saving, 1000)
        self.assertEqual(self.monthly.isp_saving, 5000)  # 30 x 1,000 - 25,000
        self.assertEqual(self.daily.isp_saving, 0)
        # PPPoE plans compare only with PPPoE plans
        self.assertEqual(self.pppoe.isp_saving, 0)

    def test_saving_rounds_up_to_whole_bundles(self):
        hours = self._bundle("36 hours", 1200, 36, "hours")
        # 36 h needs two daily bundles (24 h each): 2 x 1,000 - 1,200
        self.assertEqual(hours.isp_saving, 800)
        self.assertEqual(self.weekly.isp_saving, 1000)

    def test_no_negative_saving(self):
        pricey = self._bundle("Pricey week", 9000, 7, "days")
        self.assertEqual(pricey.isp_saving, 0)

    def test_duration(self):
        # the upload / download speeds' RouterOS text: isp_mikrotik's test_profiles.py
        self.assertEqual(self.weekly.isp_duration_hours, 168)
        self.assertEqual(self.pppoe.isp_duration_hours, 720)

    def test_bundle_is_a_service_with_a_duration(self):
        self.assertEqual(self.daily.type, "service")
        with self.assertRaises(ValidationError):
            self.daily.product_tmpl_id.type = "consu"
        with self.assertRaises(CheckViolation), self.cr.savepoint():
            self._bundle("Zero", 100, 0, "days")
        with self.assertRaises(CheckViolation), self.cr.savepoint():
            self._bundle("Negative cap", 100, 1, "days", isp_data_cap_mb=-1)
