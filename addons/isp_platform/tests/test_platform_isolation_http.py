"""Isolation between operators over HTTP: files (/web/content, exports, reseller downloads,
router scripts), reports (/report/...), the customer portal (/my) and each operator's captive
page and JSON API, which sell and reveal only their own operator's bundles and vouchers."""

import json
import re
from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .isolation_common import PASSWORD, IsolationCase


@tagged("post_install", "-at_install")
class TestPlatformIsolationHttp(IsolationCase):
    def _login(self, op, role):
        user = self.ops[op][role]
        self.authenticate(user.login, user.login + PASSWORD)

    def _get(self, url, **kw):
        self.env.flush_all()
        response = self.url_open(url, allow_redirects=kw.pop("allow_redirects", False), **kw)
        self.env.invalidate_all()
        return response

    def assertRefused(self, response, *markers):
        """Not served: an error status or a redirect (to the login or /my), and none of
        ``markers`` in the answer."""
        self.assertNotEqual(response.status_code, 200, response.text[:300])
        for marker in markers:
            self.assertNotIn(marker, response.text)

    def _base(self, op):
        return f"http://{self.ops[op]['host']}:{self.http_port()}"

    # ------------------------------------------------------------------ files

    def test_files_of_b_are_not_served_to_a(self):
        b = self.ops["b"]
        codes = b["vouchers"].mapped("code")
        urls = [
            (f"/web/content/{b['attachment'].id}", "CONTRACT-b-CONFIDENTIAL"),
            (f"/web/content/{b['invoice_attachment'].id}", "INVOICE-b-CONFIDENTIAL"),
            (f"/web/content/ir.attachment/{b['attachment'].id}/datas", "CONTRACT-b-CONFIDENTIAL"),
            (b["voucher_export_url"], codes[0]),
            (b["revenue_export_url"], "PK\x03\x04"),
        ]
        for role in ("admin", "staff", "portal", "reseller"):
            self._login("a", role)
            for url, marker in urls:
                with self.subTest(user=role, url=url):
                    self.assertRefused(self._get(url), marker, *codes)
        # B's administrator gets its own files (the URLs are right)
        self._login("b", "admin")
        response = self._get(b["voucher_export_url"])
        self.assertEqual(response.status_code, 200)
        self.assertIn(codes[0], response.text)

    def test_reseller_of_a_cannot_open_batches_of_b(self):
        b = self.ops["b"]
        batch = b["reseller_batch"]
        codes = batch.voucher_ids.mapped("code")
        self._login("a", "reseller")
        for url in (
            f"/my/reseller/batches/{batch.id}",
            f"/my/reseller/batches/{batch.id}/download/csv",
            f"/my/reseller/batches/{batch.id}/download/pdf",
        ):
            with self.subTest(url=url):
                self.assertRefused(self._get(url), *codes, batch.name)
        # nor buy B's bundle (from its own balance)
        page = self._get("/my/reseller", allow_redirects=True)
        csrf = re.search(r'csrf_token: "([^"]+)"', page.text).group(1)
        batches = self.env["isp.voucher.batch"].sudo().search_count([])
        response = self._get(
            "/my/reseller/buy",
            data={
                "csrf_token": csrf,
                "bundle_id": b["product"].id,
                "quantity": 1,
                "request_key": "iso-buy-1",
            },
        )
        self.assertIn("error", response.headers.get("Location", ""))
        self.assertEqual(self.env["isp.voucher.batch"].sudo().search_count([]), batches)
        listing = self._get("/my/reseller/batches")
        self.assertEqual(listing.status_code, 200)
        self.assertNotIn(batch.name, listing.text)
        self.assertIn(self.ops["a"]["reseller_batch"].name, listing.text)

    def test_reports_of_b_over_http(self):
        b = self.ops["b"]
        reports = (
            (
                "isp_billing.report_isp_voucher_cards_a4",
                b["batch"].voucher_ids,
                b["vouchers"][0].code,
            ),
            ("isp_billing.report_isp_counter_sale_receipt", b["counter_sale"], b["customer"].name),
            ("account.report_invoice", b["invoice"], b["customer"].name),
        )
        for role in ("admin", "staff", "portal"):
            self._login("a", role)
            for report_name, records, marker in reports:
                ids = ",".join(map(str, records.ids))
                for kind in ("html", "pdf"):
                    url = f"/report/{kind}/{report_name}/{ids}"
                    with self.subTest(user=role, url=url):
                        self.assertRefused(self._get(url), marker)

    def test_router_scripts_of_b(self):
        if not self.has_model("isp.router"):
            self.skipTest("isp_mikrotik is not installed")
        a, b = self.ops["a"], self.ops["b"]
        self._login("a", "admin")
        for url in (
            f"/isp_mikrotik/router/{b['router'].id}/setup.rsc",
            f"/isp_mikrotik/router/{b['router'].id}/login.html",
        ):
            with self.subTest(url=url):
                self.assertRefused(self._get(url), b["router"].host, b["name"])
        # A's own set-up token does not open B's router's page
        script = self._get(f"/isp_mikrotik/router/{a['router'].id}/setup.rsc")
        self.assertEqual(script.status_code, 200)
        token = re.search(r"token=([A-Za-z0-9_\-]+)", script.text).group(1)
        self.assertEqual(
            self._get(
                f"/isp_mikrotik/router/{a['router'].id}/login.html?token={token}"
            ).status_code,
            200,
        )
        self.assertRefused(
            self._get(f"/isp_mikrotik/router/{b['router'].id}/login.html?token={token}")
        )

    # ------------------------------------------------------------------ portal

    def test_portal_customer_of_a_sees_nothing_of_b(self):
        a, b = self.ops["a"], self.ops["b"]
        self._login("a", "portal")
        for url in (
            f"/my/subscriptions/{b['subscription'].id}",
            f"/my/invoices/{b['portal_invoice'].id}",
            f"/my/invoices/{b['invoice'].id}",
            f"/my/invoices/{b['portal_invoice'].id}?report_type=pdf&download=true",
        ):
            with self.subTest(url=url):
                self.assertRefused(self._get(url), b["portal_partner"].name, b["customer"].name)
        for url in ("/my", "/my/subscriptions", "/my/invoices"):
            with self.subTest(url=url):
                page = self._get(url, allow_redirects=True)
                self.assertEqual(page.status_code, 200)
                self.assertNotIn(b["name"], page.text)
                # (invoice numbers repeat between companies: each has its own sequence)
                for invoice in b["portal_invoice"] | b["invoice"]:
                    self.assertNotIn(f"/my/invoices/{invoice.id}?", page.text)
                self.assertNotIn(f"/my/subscriptions/{b['subscription'].id}", page.text)
        self.assertIn(f"/my/invoices/{a['portal_invoice'].id}?", self._get("/my/invoices").text)
        # changing plan to B's bundle is refused, nothing requested
        activities = len(a["subscription"].sudo().activity_ids)
        page = self._get(f"/my/subscriptions/{a['subscription'].id}")
        csrf = re.search(r'csrf_token: "([^"]+)"', page.text).group(1)
        response = self._get(
            f"/my/subscriptions/{a['subscription'].id}/change_plan",
            data={"csrf_token": csrf, "bundle_id": b["product"].id, "note": "x"},
        )
        self.assertIn("plan_error", response.headers.get("Location", ""))
        a["subscription"].invalidate_recordset()
        self.assertEqual(len(a["subscription"].sudo().activity_ids), activities)

    # ------------------------------------------------------------------ captive page / API

    def test_each_website_sells_its_own_bundles_only(self):
        a, b = self.ops["a"], self.ops["b"]
        for op, other in (("a", "b"), ("b", "a")):
            mine, theirs = self.ops[op], self.ops[other]
            with self.subTest(website=op):
                response = self._get(f"{self._base(op)}/api/bundles/")
                self.assertEqual(response.status_code, 200, response.text[:300])
                body = response.json()
                ids = [bundle["id"] for bundle in body["bundles"]]
                names = json.dumps(body)
                self.assertIn(mine["bundle"].name, names)
                self.assertNotIn(theirs["bundle"].name, names)
                self.assertNotIn(theirs["product"].id, ids)
                page = self._get(f"{self._base(op)}/hotspot")
                self.assertEqual(page.status_code, 200)
                self.assertIn(mine["bundle"].name, page.text)
                self.assertNotIn(theirs["bundle"].name, page.text)
        # A's API does not start a payment for B's bundle
        Tx = self.env["payment.transaction"].sudo()
        before = Tx.search_count([])
        response = self._get(
            f"{self._base('a')}/api/initiate-payment/",
            data=json.dumps({"phone": "+255712000111", "bundle_id": b["product"].id}),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        self.assertGreaterEqual(response.status_code, 400, response.text[:300])
        self.assertLess(response.status_code, 500, response.text[:300])
        self.assertEqual(Tx.search_count([]), before)
        # nor redeem B's voucher
        voucher = b["batch"].voucher_ids[0]
        response = self._get(
            f"{self._base('a')}/api/vouchers/redeem/",
            data=json.dumps({"code": voucher.code, "phone": "+255712000111"}),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        self.assertGreaterEqual(response.status_code, 400, response.text[:300])
        self.assertLess(response.status_code, 500, response.text[:300])
        self.assertNotIn(b["name"], response.text)
        voucher.invalidate_recordset()
        self.assertEqual(voucher.state, "available")
        self.assertTrue(a["batch"].voucher_ids)

    def test_api_key_of_a_works_on_a_only(self):
        """An operator's API key (ISP manager) lists and makes vouchers on its own website
        only: on B's website it is refused, and B's bundle cannot be used on A's."""
        a, b = self.ops["a"], self.ops["b"]
        key = (
            self.env["res.users.apikeys"]
            .with_user(a["admin"])
            .sudo()
            ._generate(None, "isolation", fields.Datetime.now() + timedelta(days=1))
        )
        headers = {"Authorization": f"Bearer {key}"}
        mine = self._get(f"{self._base('a')}/api/vouchers/?limit=1000", headers=headers)
        self.assertEqual(mine.status_code, 200, mine.text[:300])
        codes = json.dumps(mine.json())
        self.assertIn(a["vouchers"][0].code, codes)
        for voucher in b["vouchers"]:
            self.assertNotIn(voucher.code, codes)
        theirs = self._get(f"{self._base('b')}/api/vouchers/", headers=headers)
        self.assertEqual(theirs.status_code, 403, theirs.text[:300])
        for voucher in b["vouchers"]:
            self.assertNotIn(voucher.code, theirs.text)
        batches = self.env["isp.voucher.batch"].sudo().search_count([])
        for base, bundle in (("a", b["product"]), ("b", a["product"])):
            with self.subTest(website=base):
                response = self._get(
                    f"{self._base(base)}/api/vouchers/generate/",
                    data=json.dumps({"bundle_id": bundle.id, "quantity": 1}),
                    headers={**headers, "Content-Type": "application/json"},
                    method="POST",
                )
                self.assertGreaterEqual(response.status_code, 400, response.text[:300])
                self.assertLess(response.status_code, 500, response.text[:300])
        self.assertEqual(self.env["isp.voucher.batch"].sudo().search_count([]), batches)

    def test_radius_downloads_of_b(self):
        if not self.has_model("isp.radius.nas"):
            self.skipTest("isp_radius is not installed")
        b = self.ops["b"]
        for role in ("admin", "staff"):
            self._login("a", role)
            for url in (
                f"/isp_radius/nas/{b['nas'].id}/routeros.rsc",
                "/isp_radius/freeradius.zip",
            ):
                with self.subTest(user=role, url=url):
                    self.assertRefused(self._get(url), "radius-b-SECRET", b["nas"].address)
