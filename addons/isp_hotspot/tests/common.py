import json
import re
from datetime import timedelta
from unittest.mock import patch
from urllib.parse import urlsplit

from odoo import Command, fields
from odoo.tests import HttpCase, get_db_name
from odoo.tools import config


def csrf(html):
    """The CSRF token of the page's forms."""
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


class CaptivePageSession:
    """Mixin of HttpCase tests using the captive page and the API as a browser does: one
    database for the test server and no X-Odoo-Database header (requests carrying it are
    stateless, and the page keeps its customer and payments in the session)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(patch.dict(config.options, {"dbfilter": f"^{get_db_name()}$"}))

    def url_open(self, url, *args, headers=None, **kwargs):
        return HttpCase.url_open(self, url, *args, headers=headers, **kwargs)

    def api(self, method, path, body=None, headers=None, raw=None):
        headers = dict(headers or {})
        data = json.dumps(body) if body is not None else raw
        if data is not None:
            headers.setdefault("Content-Type", "application/json")
        self.env.flush_all()
        response = self.url_open(path, data=data, headers=headers, method=method)
        self.env.invalidate_all()
        return response


class HotspotCase(CaptivePageSession, HttpCase):
    """The website's company sells two hotspot bundles; sign-in codes are captured at the
    isp_billing hook (the SMS channel is isp_sms's business, tested there and in tests/)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
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
        cls.env["isp.purchase"]._fulfil(cls.amina, cls.weekly, "manual", "HS-SETUP-1")
        cls.baraka = cls.env["res.partner"].create(
            {
                "name": "Baraka",
                "phone": "+255754210987",
                "is_isp_customer": True,
                "company_id": cls.company.id,
            }
        )
        cls.sent_codes = sent = []

        def deliver(codes, partner, code):
            sent.append((partner.phone, code))
            return True

        LoginCode = cls.registry["isp.hotspot.login.code"]
        cls.startClassPatcher(patch.object(LoginCode, "_deliver", deliver))
        cls.startClassPatcher(patch.object(LoginCode, "_can_deliver", lambda codes: True))

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

    def sign_in_page(self, params, phone="0713987654", e164="+255713987654"):
        """Sign in with an SMS code on the captive page: the status view it lands on."""
        html = self.url_open("/hotspot", params=params).text
        response = self.url_open(
            "/hotspot/signin",
            data={**params, "phone": phone, "csrf_token": csrf(html)},
            method="POST",
        )
        self.assertEqual(response.status_code, 200, response.text[:300])
        response = self.url_open(
            "/hotspot/signin/verify",
            data={
                **params,
                "phone": e164,
                "code": self.sent_codes[-1][1],
                "csrf_token": csrf(response.text),
            },
            method="POST",
        )
        self.assertEqual(response.status_code, 200, response.text[:300])
        self.assertEqual(urlsplit(response.url).path, "/hotspot/status")
        return response
