"""The public operator sign-up page over HTTP: a valid application, every bad field, a
repeated submission, the honeypot and the per-address limit."""

import re

from odoo.tests import HttpCase, tagged

from odoo.addons.isp_hotspot.tests.common import CaptivePageSession, csrf

from .test_platform_approval_common import platform_product


@tagged("post_install", "-at_install")
class TestPlatformSignup(CaptivePageSession, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.platform = cls.env.ref("base.main_company")
        cls.plan = cls.env["isp.platform.plan"].create(
            {
                "name": "Signup Test Plan",
                "price": 30000,
                "company_id": cls.platform.id,
                "product_id": platform_product(cls.env, cls.platform).id,
            }
        )
        cls.ke = cls.env.ref("base.ke")
        cls.Application = cls.env["isp.platform.application"].sudo()

    def _form(self, **values):
        data = {
            "business_name": "Kericho Connect",
            "contact_name": "Wanjiru",
            "email": "wanjiru@kericho.example",
            "phone": "0712 345 678",
            "country_id": str(self.ke.id),
            "currency_id": "",
            "plan_id": str(self.plan.id),
            "domain": "",
        }
        data.update(values)
        return data

    def _post(self, **values):
        html = self.url_open("/platform/signup").text
        data = {**self._form(**values), "csrf_token": csrf(html)}
        self.env.flush_all()
        response = self.url_open("/platform/signup", data=data, method="POST")
        self.env.invalidate_all()
        return response

    def _ack_mails(self, email):
        return self.env["mail.mail"].search(
            [("email_to", "=", email), ("subject", "ilike", "received your application")]
        )

    def test_page(self):
        response = self.url_open("/platform/signup")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Signup Test Plan", response.text)
        self.assertIn('name="csrf_token"', response.text)
        for code in ("Kenya", "Tanzania", "Uganda"):
            self.assertIn(code, response.text)

    def test_valid_application(self):
        response = self._post(domain="WiFi.Kericho-Connect.example")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Thank you for your application", response.text)
        app = self.Application.search([("email", "=", "wanjiru@kericho.example")])
        self.assertEqual(len(app), 1)
        self.assertEqual(app.state, "pending")
        self.assertEqual(app.phone, "+254712345678", "normalised in the chosen country")
        self.assertEqual(app.currency_id, self.env.ref("base.KES"), "the country's currency")
        self.assertEqual(app.domain, "wifi.kericho-connect.example")
        self.assertEqual(app.plan_id, self.plan)
        self.assertTrue(app.signup_ip)
        self.assertTrue(self._ack_mails("wanjiru@kericho.example"), "acknowledged by email")
        self.assertTrue(app.activity_ids, "the platform owner has something to review")
        self.assertIn(
            self.env.ref("base.user_admin"), app.activity_ids.user_id, "an activity for each owner"
        )

    def test_bad_fields(self):
        self.env["website"].create(
            {"name": "Taken", "domain": "taken.example.com", "company_id": self.platform.id}
        )
        us = self.env.ref("base.us")
        cases = {
            "business_name": ({"business_name": "  "}, "name of your business"),
            "contact_name": ({"contact_name": ""}, "person we should contact"),
            "email": ({"email": "not-an-email"}, "valid email"),
            "country": ({"country_id": str(us.id)}, "countries we serve"),
            "country_text": ({"country_id": "x"}, "countries we serve"),
            "currency": ({"currency_id": "999999"}, "currencies offered"),
            "phone": ({"phone": "12"}, ""),
            "landline": ({"phone": "+254 20 2222222"}, ""),
            "plan": ({"plan_id": "0"}, "Choose one of the plans"),
            "domain": ({"domain": "http://bad host/x"}, "host name"),
            "domain_ip": ({"domain": "10.0.0.1"}, "host name"),
            "domain_taken": ({"domain": "taken.example.com"}, "already taken"),
            "company_taken": ({"business_name": self.platform.name}, "already on the platform"),
        }
        for label, (values, message) in cases.items():
            with self.subTest(label):
                response = self._post(**values)
                self.assertEqual(response.status_code, 400, response.text[:300])
                alert = re.search(r'class="alert alert-danger"[^>]*>([^<]+)<', response.text)
                self.assertTrue(alert, "a readable message on the page")
                self.assertIn(message, alert.group(1))
                self.assertNotIn("Traceback", response.text)
                self.assertFalse(self.Application.search_count([]) - self._existing)
                # what was typed is kept in the form
                kept = "wanjiru@kericho.example" if label != "email" else "Kericho Connect"
                self.assertIn(f'value="{kept}"', response.text)
        self.assertFalse(self._ack_mails("wanjiru@kericho.example"))

    def setUp(self):
        super().setUp()
        self._existing = self.Application.search_count([])

    def test_duplicate_submission(self):
        self._post()
        response = self._post(contact_name="Wanjiru again")
        self.assertEqual(response.status_code, 200)
        apps = self.Application.search([("email", "=", "wanjiru@kericho.example")])
        self.assertEqual(len(apps), 1, "no second application for a pending email")
        self.assertEqual(apps.contact_name, "Wanjiru")
        self.assertEqual(len(self._ack_mails("wanjiru@kericho.example")), 1)

    def test_honeypot(self):
        response = self._post(company_website="http://spam.example")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Thank you for your application", response.text)
        self.assertFalse(self.Application.search_count([]) - self._existing)

    def test_limit_per_address(self):
        for index in range(3):
            response = self._post(business_name=f"Net {index}", email=f"owner{index}@nets.example")
            self.assertEqual(response.status_code, 200)
        response = self._post(business_name="Net 4", email="owner4@nets.example")
        self.assertEqual(response.status_code, 429)
        self.assertIn("Too many applications", response.text)
        self.assertFalse(self.Application.search([("email", "=", "owner4@nets.example")]))

    def test_csrf_required(self):
        self.env.flush_all()
        response = self.url_open("/platform/signup", data=self._form(), method="POST")
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.Application.search_count([]) - self._existing)
