"""Hypothesis against /api/openapi.json: every documented operation gets generated requests,
valid by the document (typed values, known phone numbers, real voucher codes and bundles, so
that the business code runs) and invalid (wrong types, missing or extra fields, any JSON,
raw bytes, a wrong content type, odd path and query values). None may answer a 5xx; every
answer of a documented status is JSON, errors as {"error": {"code", "message"}}.

The strategies are built here from the document with hypothesis alone (pinned in
requirements-dev.txt): schemathesis 3.39 cannot generate with it (hypothesis-jsonschema
0.23.1 calls ``many.more()``, gone from hypothesis 6.170). Bounded: EXAMPLES per
operation (about 300 requests, well under a minute). The rate limits are lifted so the
fuzzing reaches the business code."""

import json
from unittest.mock import patch
from urllib.parse import quote, urlencode

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from odoo.tests import tagged

from ..models import isp_hotspot
from .common import HotspotCase

EXAMPLES = 20
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


@tagged("post_install", "-at_install")
class TestHotspotApiFuzz(HotspotCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager_key = cls._api_key("fuzz-manager", "isp_billing.group_isp_manager")
        batch = cls.env["isp.voucher.batch"].create(
            {"name": "HS-FUZZ", "quantity": 5, "bundle_id": cls.daily.id}
        )
        batch.action_generate()
        cls.known = {
            "phone": ["0713987654", "+255713987654", "0754210987", "0655000111"],
            "code": batch.voucher_ids.mapped("code"),
            "mac": ["3A:1F:6C:88:21:D4", "00-1b-63-4c-9a-10"],
            "ip": ["10.5.50.21"],
            "bundle_id": [cls.daily.id, cls.weekly.id],
            "duration_hours": [5],
            "batch_id": [batch.id],
            "reference": ["HS-1"],
        }
        cls.startClassPatcher(
            patch.dict(isp_hotspot.RATE_LIMITS, {k: (10**6, 60) for k in isp_hotspot.RATE_LIMITS})
        )

    # ------------------------------------------------------------------ strategies

    def value(self, name, schema):
        """A value of ``schema``: mostly valid, sometimes a known real one."""
        kind = schema.get("type")
        if "enum" in schema:
            valid = st.sampled_from(schema["enum"])
        elif kind == "integer":
            valid = st.integers(schema.get("minimum", -(2**31)), schema.get("maximum", 2**31))
        elif kind == "number":
            valid = st.floats(schema.get("minimum", -1e9), 1e9, allow_nan=False)
        else:
            valid = st.text(max_size=schema.get("maxLength", 64))
            if schema.get("format") == "date":
                valid = st.dates().map(str) | valid
        if name in self.known:
            valid = st.sampled_from(self.known[name]) | valid
        return valid

    def invalid(self, schema):
        """A value ``schema`` refuses (or may refuse): any JSON, a too long text."""
        return JSON_VALUES | st.text(min_size=257, max_size=300)

    def body(self, schema):
        properties = schema["properties"]
        required = schema.get("required", [])
        valid = st.fixed_dictionaries(
            {name: self.value(name, properties[name]) for name in required},
            optional={
                name: self.value(name, spec)
                for name, spec in properties.items()
                if name not in required
            },
        )

        @st.composite
        def mutated(draw):
            data = draw(valid)
            name = draw(st.sampled_from(list(properties)))
            if draw(st.booleans()):
                data[name] = draw(self.invalid(properties[name]))
            else:
                data.pop(name, None)
            if draw(st.booleans()):
                data[draw(st.text(max_size=8))] = draw(JSON_VALUES)
            return data

        as_json = (valid | mutated() | JSON_VALUES).map(json.dumps)
        return st.tuples(
            as_json | st.binary(max_size=64),
            st.sampled_from(["application/json"] * 4 + ["text/plain", ""]),
        )

    def request(self, path, method, operation):
        """A strategy of (method, url, data, headers) for the operation."""
        params = operation.get("parameters", [])

        @st.composite
        def build(draw):
            url = path
            query, headers = {}, {}
            for param in params:
                schema = param["schema"]
                if param["in"] == "path":
                    value = draw(self.value(param["name"], schema) | st.text(max_size=30))
                    url = url.replace("{%s}" % param["name"], quote(str(value), safe="") or "x")
                elif param["in"] == "header":
                    if param["required"] or draw(st.booleans()):
                        value = draw(st.from_regex(r"[ -~]{0,40}", fullmatch=True))
                        headers[param["name"]] = value
                elif param["required"] or draw(st.booleans()):
                    value = draw(self.value(param["name"], schema) | st.text(max_size=12))
                    query[param["name"]] = value
            if query:
                url = f"{url}?{urlencode(query)}"
            data = None
            if "requestBody" in operation:
                schema = operation["requestBody"]["content"]["application/json"]["schema"]
                data, content_type = draw(self.body(schema))
                if content_type:
                    headers["Content-Type"] = content_type
            if "security" in operation and draw(st.integers(0, 4)):
                headers["Authorization"] = f"Bearer {self.manager_key}"
            return method.upper(), url, data, headers

        return build()

    # ------------------------------------------------------------------ the test

    def fuzz(self, path, method, operation, statuses):
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(request=self.request(path, method, operation))
        def check(request):
            method, url, data, headers = request
            response = self.url_open(url, data=data, headers=headers, method=method, timeout=30)
            statuses.append(response.status_code)
            where = f"{method} {url} {data!r}"
            self.assertLess(response.status_code, 500, f"{where}: {response.text[:300]}")
            self.assertNotIn("Traceback", response.text)
            if str(response.status_code) in operation["responses"]:
                answer = response.json()
                if response.status_code >= 400:
                    self.assertEqual(set(answer), {"error"}, where)
                    self.assertTrue(answer["error"]["code"] and answer["error"]["message"])

        check()

    def test_no_server_error_on_any_operation(self):
        document = self.url_open("/api/openapi.json").json()
        # the customer routes as a signed-in customer, the admin ones with a manager's key
        self.sign_in_api("0713987654")
        seen = {}
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                statuses = seen[method.upper(), path] = []
                with self.subTest(operation=f"{method.upper()} {path}"):
                    self.fuzz(path, method, operation, statuses)
        self.assertEqual(len(seen), 15)
        for operation, statuses in seen.items():
            self.assertTrue(statuses, operation)
        self.assertGreaterEqual(sum(len(statuses) for statuses in seen.values()), 200)
        # the fuzzing reached the business code behind the checks, not only the 4xx
        success = {op for op, statuses in seen.items() if any(s < 300 for s in statuses)}
        self.assertLessEqual(
            {
                ("GET", "/api/bundles/"),
                ("POST", "/api/vouchers/redeem/"),
                ("POST", "/api/vouchers/generate/"),
                ("GET", "/api/vouchers/"),
                ("GET", "/api/user-status/{phone}/"),
                ("POST", "/api/login-code/"),
            },
            success,
        )
