from psycopg2.errors import UniqueViolation

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import IspBillingCase


@tagged("post_install", "-at_install")
class TestPhone(IspBillingCase):
    def test_good_numbers_become_e164(self):
        Partner = self.env["res.partner"]
        tz = self.env.ref("base.tz")
        cases = [
            ("0712 345 678", "+255712345678"),
            ("712345678", "+255712345678"),
            ("+255 712 345 678", "+255712345678"),
            ("255712345678", "+255712345678"),
            ("+255-712-345-678", "+255712345678"),
            ("00255712345678", "+255712345678"),
            ("0754 123 456", "+255754123456"),
            ("0655123456", "+255655123456"),
            # a Kenyan customer of a Tanzanian operator keeps their own country code
            ("+254 712 345 678", "+254712345678"),
        ]
        for given, expected in cases:
            with self.subTest(given=given):
                self.assertEqual(Partner._isp_normalize_phone(given, tz), expected)

    def test_kenyan_operator_reads_national_numbers_in_kenya(self):
        ke = self.env.ref("base.ke")
        Partner = self.env["res.partner"]
        self.assertEqual(Partner._isp_normalize_phone("0712345678", ke), "+254712345678")
        self.assertEqual(Partner._isp_normalize_phone("254712345678", ke), "+254712345678")

    def test_bad_numbers_are_refused_with_a_reason(self):
        Partner = self.env["res.partner"]
        tz = self.env.ref("base.tz")
        cases = [
            ("", "required"),
            ("   ", "required"),
            ("hello", "not a phone number"),
            ("0712", "few digits"),
            ("07123456789012345", "too many digits"),
            ("0712 345 67", "not a valid phone number"),
            ("+999 712 345 678", "country code"),
            ("0222 123 456", "not a mobile number"),  # Dar es Salaam landline
            ("0812 345 678", "not a valid phone number in Tanzania"),
        ]
        for given, reason in cases:
            with self.subTest(given=given), self.assertRaises(ValidationError) as caught:
                Partner._isp_normalize_phone(given, tz)
            message = str(caught.exception)
            self.assertIn(reason, message.lower() if reason.islower() else message)

    def test_customer_phone_is_stored_normalised(self):
        partner = self._customer("0712 345 678")
        self.assertEqual(partner.phone, "+255712345678")
        partner.phone = "255 754 123 456"
        self.assertEqual(partner.phone, "+255754123456")

    def test_invalid_customer_phone_changes_nothing(self):
        partner = self._customer("0712345678")
        with self.assertRaises(ValidationError):
            partner.phone = "12345"
        self.assertEqual(partner.phone, "+255712345678")
        with self.assertRaises(ValidationError):
            self._customer("not a phone")

    def test_one_customer_per_phone_per_company(self):
        self._customer("0712345678")
        with self.assertRaises(UniqueViolation), self.cr.savepoint():
            self._customer("+255 712 345 678")
        other = self.env["res.company"].create(
            {"name": "Other ISP", "country_id": self.env.ref("base.tz").id}
        )
        # the same phone may be a customer of another operator
        self.assertTrue(self._customer("0712345678", company=other))

    def test_non_customers_keep_their_phone_as_typed(self):
        contact = self.env["res.partner"].create({"name": "Supplier", "phone": "022 211 0000"})
        self.assertEqual(contact.phone, "022 211 0000")

    def test_find_or_create_customer(self):
        Partner = self.env["res.partner"]
        first = Partner._isp_find_or_create_customer("0712345678", self.company)
        again = Partner._isp_find_or_create_customer("+255 712 345 678", self.company)
        self.assertEqual(first, again)
        self.assertTrue(first.is_isp_customer)
        self.assertEqual(first.isp_device_limit, 3)
