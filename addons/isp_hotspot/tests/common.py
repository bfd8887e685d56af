from datetime import timedelta
from unittest.mock import patch

from odoo import Command, fields
from odoo.tests import HttpCase, get_db_name
from odoo.tools import config


class HotspotCase(HttpCase):
    """The website's company sells two hotspot bundles; sign-in codes are captured at the
    isp_billing hook (the SMS channel is isp_sms's business, tested there and in tests/)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # one database for the test server (no X-Odoo-Database header: requests carrying it
        # are stateless, and the captive page keeps its customer in the session)
        cls.startClassPatcher(patch.dict(config.options, {"dbfilter": f"^{get_db_name()}$"}))
        cls.company = cls.env["website"].get_current_website().company_id
        # the routers' login address of the tests' link-login-only (the page posts the
        # hotspot login to no other host)
        cls.company.isp_hotspot_login_hosts = "10.5.50.1"
        cls.env = cls.env(context=dict(cls.env.context, allowed_company_ids=[cls.company.id]))
        cls.daily = cls._bundle("HS Daily", 1000, 1, "days", 1)
        cls.weekly = cls._bundle("HS Weekly", 6000, 7, "days", 2, devices=2)
        cls.amina = cls.env["res.partner"].create(
            {
                "name": "Amina",
                "phone": "+255713987654",
                "is_isp_customer": True,
                "company_id": cls.company.id,
            }
        )
        cls.env["isp.subscription"]._isp_fulfil(cls.amina, cls.weekly, "manual", "HS-SETUP-1")
        cls.baraka = cls.env["res.partner"].create(
            {
                "name": "Baraka",
                "phone": "+255754210987",
                "is_isp_customer": True,
                "company_id": cls.company.id,
            }
        )
        cls.sent_codes = sent = []

        def send_login_code(partner, code):
            if partner:
                sent.append((partner.phone, code))
            return True

        cls.startClassPatcher(
            patch.object(cls.registry["res.partner"], "_isp_send_login_code", send_login_code)
        )

    @classmethod
    def _bundle(cls, name, price, value, unit, sequence, devices=0):
        return (
            cls.env["product.template"]
            .create(
                {
                    "name": name,
                    "is_isp_bundle": True,
                    "isp_service_type": "hotspot",
                    "list_price": price,
                    "isp_duration_value": value,
                    "isp_duration_unit": unit,
                    "sequence": sequence,
                    "isp_device_limit": devices,
                    "taxes_id": [Command.clear()],
                    "company_id": cls.company.id,
                }
            )
            .product_variant_id
        )

    def setUp(self):
        super().setUp()
        self.sent_codes.clear()

    def api(self, method, path, body=None, headers=None, raw=None):
        headers = dict(headers or {})
        data = raw
        if body is not None:
            import json  # noqa: PLC0415

            data = json.dumps(body)
        if data is not None:
            headers.setdefault("Content-Type", "application/json")
        return self.url_open(path, data=data, headers=headers, method=method)

    @classmethod
    def _api_key(cls, login, group):
        """An Odoo API key of a new user of the website's company in ``group``."""
        user = cls.env["res.users"].create(
            {
                "name": login,
                "login": login,
                "password": f"{login}-pass",
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
                "group_ids": [Command.link(cls.env.ref(group).id)],
            }
        )
        return (
            cls.env["res.users.apikeys"]
            .with_user(user)
            .sudo()
            ._generate(None, "hotspot test", fields.Datetime.now() + timedelta(days=1))
        )

    def assertError(self, response, status, code=None):
        """A JSON error {"error": {"code", "message"}} with ``status``; returns it."""
        self.assertEqual(response.status_code, status, response.text)
        self.assertTrue(
            response.headers["Content-Type"].startswith("application/json"), response.text
        )
        error = response.json()["error"]
        self.assertTrue(error["message"])
        if code:
            self.assertEqual(error["code"], code)
        self.assertNotIn("Traceback", response.text)
        return error

    def sign_in_api(self, phone):
        response = self.api("POST", "/api/login-code/", {"phone": phone})
        self.assertEqual(response.status_code, 202, response.text)
        code = self.sent_codes[-1][1]
        response = self.api("POST", "/api/login/", {"phone": phone, "code": code})
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()
