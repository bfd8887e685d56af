import inspect
import re
from unittest.mock import patch

from odoo.tests import tagged

from ..controllers.api import IspHotspotApi
from ..controllers.openapi import openapi_document
from ..models.isp_hotspot_login_code import IspHotspotLoginCode
from .common import HotspotCase, csrf


@tagged("post_install", "-at_install")
class TestHotspotApi(HotspotCase):
    def test_bundles(self):
        response = self.api("GET", "/api/bundles/")
        self.assertEqual(response.status_code, 200)
        bundles = {b["id"]: b for b in response.json()["bundles"]}
        ids = [b["id"] for b in response.json()["bundles"]]
        self.assertLess(ids.index(self.daily.id), ids.index(self.weekly.id))
        weekly = bundles[self.weekly.id]
        self.assertEqual(weekly["price"], 6000)
        self.assertEqual(weekly["duration_text"], "7 days")
        self.assertEqual(weekly["saving"], 1000)
        self.assertEqual(weekly["currency"], self.company.currency_id.name)

    def test_initiate_payment_bad_input(self):
        cases = [
            ({"phone": "12", "bundle_id": self.daily.id}, 400, "invalid"),
            ({"phone": "0712345678", "bundle_id": 999999}, 400, "invalid"),
            ({"phone": "0712345678", "bundle_id": "1"}, 400, "wrong_type"),
            ({"phone": 712345678, "bundle_id": self.daily.id}, 400, "wrong_type"),
            ({"bundle_id": self.daily.id}, 400, "missing_field"),
            ({"phone": "0712345678", "bundle_id": True}, 400, "wrong_type"),
            ({"phone": "0712345678", "bundle_id": self.daily.id, "mac": "zz"}, 400, "invalid"),
        ]
        txs = self.env["payment.transaction"].search_count([])
        for body, status, code in cases:
            with self.subTest(body=body):
                self.assertError(self.api("POST", "/api/initiate-payment/", body), status, code)
        # no provider can push in this database without a payment module: a clear 400
        self.assertError(
            self.api(
                "POST",
                "/api/initiate-payment/",
                {"phone": "0712345678", "bundle_id": self.daily.id},
            ),
            400,
        )
        self.assertEqual(self.env["payment.transaction"].search_count([]), txs)

    def test_malformed_bodies(self):
        for path in (
            "/api/initiate-payment/",
            "/api/verify-access/",
            "/api/login-code/",
            "/api/login/",
            "/api/vouchers/redeem/",
            "/api/devices/remove/",
        ):
            with self.subTest(path=path):
                self.assertError(self.api("POST", path, raw="{not json"), 400, "invalid_json")
                self.assertError(self.api("POST", path, raw="[1, 2]"), 400, "invalid_json")
                self.assertError(self.api("POST", path, raw="x" * 20000), 413, "too_large")
                # deeper than Python's parser goes, and constants JSON does not have
                self.assertError(self.api("POST", path, raw="[" * 5000), 400, "invalid_json")
                self.assertError(
                    self.api("POST", path, raw='{"phone": NaN, "price": Infinity}'),
                    400,
                    "invalid_json",
                )
                self.assertError(
                    self.url_open(path, data="phone=1", method="POST"),
                    415,
                    "unsupported_media_type",
                )

    def test_unknown_api_paths_answer_json(self):
        for method, path in (
            ("GET", "/api/nope/"),
            ("POST", "/api/vouchers/redeem/extra/"),
            ("GET", "/api/payment-status/a%2Fb/?access_token=x"),
            ("GET", "/api/user-status/07%2F13/"),
        ):
            with self.subTest(path=path):
                self.assertError(self.api(method, path), 404, "not_found")

    def test_payment_status_needs_token(self):
        # a token in the URL (where logs keep it) is refused, not looked at
        self.assertError(
            self.api("GET", "/api/payment-status/HS-1/?access_token=nope"), 400, "token_in_url"
        )
        self.assertError(self.api("GET", "/api/payment-status/HS-1/"), 404, "not_found")
        self.assertError(
            self.api("GET", "/api/payment-status/HS-1/", headers={"X-Access-Token": "1.x"}),
            404,
            "not_found",
        )

    def test_oversized_bodies_refused_before_parsing(self):
        big = "x" * (100 * 1024)
        for content_type, data in (
            ("application/json", '{"phone": "%s"}' % big),
            ("application/x-www-form-urlencoded", f"phone={big}"),
        ):
            with self.subTest(content_type=content_type):
                response = self.api(
                    "POST", "/api/login-code/", raw=data, headers={"Content-Type": content_type}
                )
                self.assertError(response, 413, "too_large")
        self.assertFalse(self.sent_codes)
        page = self.url_open("/hotspot/signin", data={"phone": big}, method="POST")
        self.assertEqual(page.status_code, 413)

    def test_sign_in_by_code_without_a_channel(self):
        """isp_hotspot alone has no way to send a code (isp_hotspot_sms sends them by SMS):
        the API and the page say plainly that sign-in by code is not available, for a
        customer's number as for any other."""
        LoginCode = self.registry["isp.hotspot.login.code"]
        with (
            patch.object(LoginCode, "_can_deliver", IspHotspotLoginCode._can_deliver),
            patch.object(LoginCode, "_deliver", IspHotspotLoginCode._deliver),
        ):
            for phone in ("0713987654", "0713000999"):
                with self.subTest(phone=phone):
                    response = self.api("POST", "/api/login-code/", {"phone": phone})
                    error = self.assertError(response, 400, "invalid")
                    self.assertIn("Sign-in by SMS is not available here", error["message"])
                    html = self.url_open("/hotspot").text
                    page = self.url_open(
                        "/hotspot/signin",
                        data={"phone": phone, "csrf_token": csrf(html)},
                        method="POST",
                    )
                    self.assertEqual(page.status_code, 400)
                    self.assertIn("Sign-in by SMS is not available here", page.text)
        self.assertFalse(self.sent_codes)

    def test_login_code_creates_no_partner_and_answers_alike(self):
        partners = self.env["res.partner"].with_context(active_test=False).search_count([])
        known = self.api("POST", "/api/login-code/", {"phone": "0713987654"})
        unknown = self.api("POST", "/api/login-code/", {"phone": "0713000999"})
        self.assertEqual((known.status_code, unknown.status_code), (202, 202))
        self.assertEqual(
            known.json()["message"].replace("+255713987654", "N"),
            unknown.json()["message"].replace("+255713000999", "N"),
        )
        self.assertEqual([phone for phone, _code in self.sent_codes], ["+255713987654"])
        self.assertEqual(
            self.env["res.partner"].with_context(active_test=False).search_count([]), partners
        )

    def test_customer_data_needs_sign_in(self):
        for method, path, body in (
            ("GET", "/api/user-status/0713987654/", None),
            ("GET", "/api/devices/0713987654/", None),
            ("POST", "/api/devices/remove/", {"phone": "0713987654", "mac": "02:00:00:00:00:01"}),
            ("POST", "/api/verify-access/", {"phone": "0713987654", "mac": "02:00:00:00:00:01"}),
        ):
            with self.subTest(path=path):
                self.assertError(self.api(method, path, body), 401, "unauthorized")
        self.assertError(
            self.api(
                "GET", "/api/user-status/0713987654/", headers={"Authorization": "Bearer wrong"}
            ),
            401,
        )

    def test_sign_in_by_code_and_own_data_only(self):
        # an unknown number gets the same answer and no code
        response = self.api("POST", "/api/login-code/", {"phone": "0655000111"})
        self.assertEqual(response.status_code, 202)
        self.assertFalse(self.sent_codes)
        # a wrong code is refused, and the code dies after five tries
        self.api("POST", "/api/login-code/", {"phone": "0713987654"})
        code = self.sent_codes[-1][1]
        wrong = "000000" if code != "000000" else "111111"
        self.assertError(
            self.api("POST", "/api/login/", {"phone": "0713987654", "code": wrong}), 400
        )
        status = self.sign_in_api("0713987654")
        self.assertTrue(status["active"])
        self.assertEqual(status["phone"], "+255713987654")
        # the used code does not work twice
        self.assertError(
            self.api("POST", "/api/login/", {"phone": "0713987654", "code": code}), 400
        )
        # own data: yes; someone else's number: no
        self.assertEqual(self.api("GET", "/api/user-status/+255713987654/").status_code, 200)
        self.assertError(self.api("GET", "/api/user-status/0754210987/"), 403, "forbidden")
        self.assertError(self.api("GET", "/api/devices/0754210987/"), 403, "forbidden")

    def test_code_dies_after_five_wrong_tries(self):
        self.api("POST", "/api/login-code/", {"phone": "0713987654"})
        code = self.sent_codes[-1][1]
        wrong = "000000" if code != "000000" else "111111"
        for _i in range(5):
            self.api("POST", "/api/login/", {"phone": "0713987654", "code": wrong})
        self.assertError(
            self.api("POST", "/api/login/", {"phone": "0713987654", "code": code}), 400
        )

    def test_code_rate_limited(self):
        for _i in range(3):
            self.assertEqual(
                self.api("POST", "/api/login-code/", {"phone": "0713987654"}).status_code, 202
            )
        self.assertError(
            self.api("POST", "/api/login-code/", {"phone": "0713987654"}), 429, "rate_limited"
        )
        self.assertEqual(len(self.sent_codes), 3)

    def test_verify_access_and_devices(self):
        self.sign_in_api("0713987654")
        logs = self.env["isp.access.log"].search_count([("partner_id", "=", self.amina.id)])
        response = self.api(
            "POST",
            "/api/verify-access/",
            {"phone": "0713987654", "mac": "3a-1f-6c-88-21-d4", "ip": "10.5.50.21"},
        )
        self.assertEqual(response.json(), {"granted": True, "reason": "new_device", "message": ""})
        self.assertError(
            self.api(
                "POST", "/api/verify-access/", {"phone": "0713987654", "mac": "01:00:5e:00:00:01"}
            ),
            400,
        )
        # Weekly allows 2 devices at once
        self.api("POST", "/api/verify-access/", {"phone": "0713987654", "mac": "00:1B:63:4C:9A:10"})
        denied = self.api(
            "POST", "/api/verify-access/", {"phone": "0713987654", "mac": "6E:02:B1:7F:44:9C"}
        ).json()
        self.assertEqual((denied["granted"], denied["reason"]), (False, "device_limit"))
        self.assertEqual(
            self.env["isp.access.log"].search_count([("partner_id", "=", self.amina.id)]),
            logs + 3,
        )
        devices = self.api("GET", "/api/devices/0713987654/").json()["devices"]
        self.assertEqual(len(devices), 2)
        self.assertError(
            self.api(
                "POST", "/api/devices/remove/", {"phone": "0713987654", "mac": "6E:02:B1:7F:44:9C"}
            ),
            400,
        )
        response = self.api(
            "POST", "/api/devices/remove/", {"phone": "0713987654", "mac": "3A:1F:6C:88:21:D4"}
        )
        self.assertEqual(len(response.json()["devices"]), 1)
        granted = self.api(
            "POST", "/api/verify-access/", {"phone": "0713987654", "mac": "6E:02:B1:7F:44:9C"}
        ).json()
        self.assertTrue(granted["granted"])

    def test_verify_access_without_bundle(self):
        self.sign_in_api("0754210987")
        result = self.api(
            "POST", "/api/verify-access/", {"phone": "0754210987", "mac": "02:11:22:33:44:55"}
        ).json()
        self.assertEqual((result["granted"], result["reason"]), (False, "no_subscription"))
        log = self.env["isp.access.log"].search([("partner_id", "=", self.baraka.id)], limit=1)
        self.assertEqual(
            (log.result, log.reason, log.mac), ("denied", "no_subscription", "02:11:22:33:44:55")
        )

    def test_api_key_reads_any_customer_of_its_company(self):
        key = self._api_key("isp-api", "isp_billing.group_isp_manager")
        headers = {"Authorization": f"Bearer {key}"}
        response = self.api("GET", "/api/user-status/0713987654/", headers=headers)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["bundle"], "HS Weekly")
        self.assertError(self.api("GET", "/api/user-status/0655000999/", headers=headers), 404)
        # a key of a user who is no ISP user reads nothing
        other = self._api_key("not-isp", "base.group_user")
        self.assertError(
            self.api(
                "GET",
                "/api/user-status/0713987654/",
                headers={"Authorization": f"Bearer {other}"},
            ),
            403,
            "forbidden",
        )

    def test_health(self):
        health = self.api("GET", "/api/health/").json()
        self.assertEqual(health["database"], "ok")
        self.assertIn("isp_billing.ir_cron_isp_expire_subscriptions", health["crons"])

    def test_openapi_matches_routes(self):
        document = self.api("GET", "/api/openapi.json").json()
        self.assertEqual(document, openapi_document())
        documented = {
            (path, method.upper()) for path, ops in document["paths"].items() for method in ops
        }
        routes = set()
        for _name, method in inspect.getmembers(IspHotspotApi, callable):
            routing = getattr(method, "original_routing", None)
            if not routing or routing["routes"] == ["/api/<path:path>"]:
                continue
            for route in routing["routes"]:
                path = re.sub(r"<string:(\w+)>", r"{\1}", route)
                routes.update((path, m) for m in routing["methods"])
        self.assertEqual(routes, documented)
