import json
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.sql_db import db_connect
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import get_db_name

from ..models import isp_voucher_batch_cards as voucher_batch_module
from .common import IspBillingCase


class IspResellerCase(IspBillingCase):
    """Two resellers of the operator with portal logins (10% commission), one topped up with
    TZS 20,000 by a payment staff recorded."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.isp_reseller_commission_percent = 10.0
        cls.reseller = cls._reseller("Duka la Mama", "reseller_a")
        cls.other_reseller = cls._reseller("Kibanda Shop", "reseller_b")
        cls._top_up(cls.reseller, 20000)

    @classmethod
    def _reseller(cls, name, login):
        partner = cls.env["res.partner"].create(
            {
                "name": name,
                "isp_is_reseller": True,
                "company_id": cls.company.id,
                "email": f"{login}@example.com",
            }
        )
        cls._portal_user(partner, login)
        return partner

    @classmethod
    def _top_up(cls, reseller, amount):
        payment = (
            cls.env["account.payment"]
            .with_context(force_payment_move=True)
            .create(
                {
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": reseller.id,
                    "amount": amount,
                    "journal_id": cls.journal.id,
                }
            )
        )
        payment.action_post()
        return payment

    def _buy(self, reseller, quantity, key, bundle=None):
        return self.env["isp.reseller.purchase"]._buy(reseller, bundle or self.daily, quantity, key)

    def _counts(self, reseller):
        return (
            self.env["isp.reseller.purchase"].search_count([("reseller_id", "=", reseller.id)]),
            self.env["isp.voucher.batch"].search_count([("reseller_id", "=", reseller.id)]),
            self.env["account.move"].search_count(
                [("partner_id", "=", reseller.id), ("move_type", "=", "out_invoice")]
            ),
        )


@tagged("post_install", "-at_install")
class TestResellerAccount(IspResellerCase):
    def test_top_up_is_the_balance(self):
        self.assertEqual(self.reseller._isp_reseller_balance_amount(), 20000)
        self.assertEqual(self.reseller.isp_reseller_balance, 20000)
        self.assertEqual(self.other_reseller._isp_reseller_balance_amount(), 0)

    def test_purchase_debits_the_reseller_price_and_makes_the_batch(self):
        purchase = self._buy(self.reseller, 10, "req-1")
        self.assertEqual(purchase.amount_face, 10000)
        self.assertEqual(purchase.amount, 9000, "face value less 10%")
        self.assertEqual(purchase.amount_commission, 1000)
        self.assertEqual(self.reseller._isp_reseller_balance_amount(), 11000)
        batch = purchase.batch_id
        self.assertEqual(batch.reseller_id, self.reseller)
        self.assertEqual(batch.count_total, 10)
        self.assertEqual(batch.bundle_id, self.daily)
        self.assertEqual(set(batch.voucher_ids.mapped("price")), {1000.0})
        invoice = purchase.invoice_id
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.payment_state, "paid", "paid from the credit")
        self.reseller.invalidate_recordset()
        self.assertEqual(self.reseller.isp_reseller_commission_total, 1000)

    def test_same_request_debits_once(self):
        first = self._buy(self.reseller, 10, "req-dup")
        again = self._buy(self.reseller, 10, "req-dup")
        self.assertEqual(first, again)
        self.assertEqual(self._counts(self.reseller), (1, 1, 1))
        self.assertEqual(self.reseller._isp_reseller_balance_amount(), 11000)

    def test_short_balance_is_refused_and_changes_nothing(self):
        self._buy(self.reseller, 20, "req-big")  # 18,000: 2,000 left
        before = self._counts(self.reseller)
        with self.assertRaisesRegex(UserError, "balance is .*2,000.* cost .*2,700"):
            self._buy(self.reseller, 3, "req-short")
        self.assertEqual(self._counts(self.reseller), before)
        self.assertEqual(self.reseller._isp_reseller_balance_amount(), 2000)
        with self.assertRaises(UserError):
            self._buy(self.other_reseller, 1, "req-empty")
        self.assertEqual(self._counts(self.other_reseller), (0, 0, 0))

    def test_bad_requests_are_refused(self):
        for quantity in (0, -3, 1001, "many"):
            with self.assertRaises(UserError):
                self._buy(self.reseller, quantity, f"req-q-{quantity}")
        with self.assertRaisesRegex(UserError, "bundles offered"):
            self._buy(self.reseller, 1, "req-pppoe", bundle=self.pppoe)
        with self.assertRaisesRegex(UserError, "no key"):
            self._buy(self.reseller, 1, " ")
        customer = self._customer("+255712900001")
        with self.assertRaisesRegex(UserError, "Only resellers"):
            self._buy(customer, 1, "req-cust")
        other_company = self.env["res.company"].create({"name": "Other ISP"})
        foreign = self.env["product.template"].create(
            {
                "name": "Foreign Daily",
                "is_isp_bundle": True,
                "list_price": 500,
                "company_id": other_company.id,
            }
        )
        with self.assertRaisesRegex(UserError, "bundles offered"):
            self._buy(self.reseller, 1, "req-foreign", bundle=foreign.product_variant_id)
        self.assertEqual(self._counts(self.reseller), (0, 0, 0))
        self.assertEqual(self.reseller._isp_reseller_balance_amount(), 20000)

    def test_customers_and_sales(self):
        purchase = self._buy(self.reseller, 3, "req-sales")
        codes = purchase.batch_id.voucher_ids.mapped("code")
        Voucher = self.env["isp.voucher"]
        Voucher._redeem(codes[0], "+255712900010")
        Voucher._redeem(codes[1], "+255712900011")
        customers = self.env["isp.reseller.purchase"]._reseller_customers(self.reseller)
        self.assertEqual(len(customers), 2)
        self.assertTrue(all("*" in c["phone"] for c in customers), "phones are masked")
        customer_ids = self.env["res.partner"].search(
            [("isp_voucher_reseller_ids", "in", self.reseller.ids)]
        )
        self.assertEqual(set(customer_ids.mapped("phone")), {"+255712900010", "+255712900011"})
        self.assertFalse(
            self.env["res.partner"].search(
                [("isp_voucher_reseller_ids", "in", self.other_reseller.ids)]
            )
        )
        [month] = self.env["isp.reseller.purchase"]._reseller_sales(self.reseller)
        self.assertEqual(
            (month["quantity"], month["amount"], month["amount_commission"], month["redeemed"]),
            (3, 2700, 300, 2),
        )

    def test_staff_of_another_company_see_no_reseller_purchase(self):
        purchase = self._buy(self.reseller, 2, "req-company")
        other_company = self.env["res.company"].create({"name": "Other ISP"})
        staff = new_test_user(
            self.env,
            login="other_isp_user",
            groups="isp_billing.group_isp_user",
            company_id=other_company.id,
            company_ids=[(6, 0, other_company.ids)],
        )
        Purchase = self.env["isp.reseller.purchase"].with_user(staff)
        self.assertFalse(Purchase.search([]))
        self.assertFalse(self.env["isp.voucher.batch"].with_user(staff).search([]))
        self.assertTrue(
            self.env["isp.reseller.purchase"].search([("id", "=", purchase.id)]),
            "the operator's own staff see it",
        )


class IspResellerHttpCase(HttpCase, IspResellerCase):
    def _login(self, login):
        self.authenticate(login, login + "-pass-1234")

    def _form_value(self, page, name):
        marker = f'name="{name}" value="'
        start = page.index(marker) + len(marker)
        return page[start : page.index('"', start)]

    def _post_buy(self, quantity, key=None, bundle=None):
        page = self.url_open("/my/reseller").text
        data = {
            "csrf_token": self._form_value(page, "csrf_token"),
            "request_key": key or self._form_value(page, "request_key"),
            "bundle_id": (bundle or self.daily).id,
            "quantity": quantity,
        }
        return self.url_open("/my/reseller/buy", data=data)


@tagged("post_install", "-at_install")
class TestResellerPortal(IspResellerHttpCase):
    def test_every_reseller_page_renders(self):
        purchase = self._buy(self.reseller, 2, "req-pages")
        self.env["isp.voucher"]._redeem(purchase.batch_id.voucher_ids[0].code, "+255712900020")
        self._login("reseller_a")
        home = self.url_open("/my")
        self.assertEqual(home.status_code, 200)
        self.assertIn("/my/reseller", home.text)
        dashboard = self.url_open("/my/reseller")
        self.assertEqual(dashboard.status_code, 200)
        self.assertIn("18,200.00", dashboard.text)  # balance after 1,800
        self.assertIn(purchase.batch_id.name, dashboard.text)
        for url, expected in (
            ("/my/reseller/batches", purchase.batch_id.name),
            (f"/my/reseller/batches/{purchase.batch_id.id}", "Download codes (CSV)"),
            ("/my/reseller/customers", "+25571****020"),
            ("/my/reseller/sales", "200.00"),  # the commission
        ):
            response = self.url_open(url)
            self.assertEqual(response.status_code, 200, url)
            self.assertIn(expected, response.text, url)

    def test_rpc_gives_a_reseller_no_customer_phone(self):
        """The portal masks customers' phones; JSON-RPC on the reseller's own codes must not
        hand them out in clear."""
        purchase = self._buy(self.reseller, 2, "req-rpc")
        code = purchase.batch_id.voucher_ids[0].code
        self.env["isp.voucher"]._redeem(code, "+255712900030")
        self._login("reseller_a")

        def call(method, args, kwargs):
            return self.make_jsonrpc_request(
                "/web/dataset/call_kw",
                {"model": "isp.voucher", "method": method, "args": args, "kwargs": kwargs},
            )

        rows = call("search_read", [[("code", "=", code)]], {})
        self.assertEqual([r["code"] for r in rows], [code], "its own code, still readable")
        self.assertNotIn("+255712900030", json.dumps(rows, default=str))
        for fields_ in (["phone"], ["partner_id"], ["mac", "ip"]):
            with self.subTest(fields=fields_), self.assertRaises(Exception) as caught:
                call("search_read", [[("code", "=", code)]], {"fields": fields_})
            self.assertIn("AccessError", str(caught.exception))
        with self.assertRaises(Exception) as caught:  # nor found by searching on it
            call("search_count", [[("phone", "=", "+255712900030")]], {})
        self.assertIn("AccessError", str(caught.exception))

    def test_buy_through_the_portal_once(self):
        self._login("reseller_a")
        page = self.url_open("/my/reseller").text
        key = self._form_value(page, "request_key")
        response = self._post_buy(5, key=key)
        self.assertEqual(response.status_code, 200)
        self.assertIn("Batch bought", response.text)
        self.assertIn("/my/reseller/batches/", response.url)
        again = self._post_buy(5, key=key)  # the same form submitted twice
        self.assertEqual(again.url, response.url)
        self.assertEqual(self._counts(self.reseller), (1, 1, 1))
        self.assertEqual(self.reseller._isp_reseller_balance_amount(), 15500)

    def test_short_balance_shows_the_reason(self):
        self._login("reseller_b")
        response = self._post_buy(5)
        self.assertEqual(response.status_code, 200)
        self.assertIn("top up first", response.text)
        self.assertEqual(self._counts(self.other_reseller), (0, 0, 0))

    def test_downloads(self):
        purchase = self._buy(self.reseller, 3, "req-dl")
        codes = purchase.batch_id.voucher_ids.mapped("code")
        self._login("reseller_a")
        csv = self.url_open(f"/my/reseller/batches/{purchase.batch_id.id}/download/csv")
        self.assertEqual(csv.status_code, 200)
        self.assertIn("attachment", csv.headers["Content-Disposition"])
        for code in codes:
            self.assertIn(code, csv.text)
        pdf = self.url_open(f"/my/reseller/batches/{purchase.batch_id.id}/download/pdf")
        self.assertEqual(pdf.status_code, 200)
        # the cards of the batch's codes; in Odoo's test mode reports come as HTML
        if pdf.headers["Content-Type"] == "application/pdf":
            self.assertTrue(pdf.content.startswith(b"%PDF"))
        else:
            self.assertTrue(pdf.headers["Content-Type"].startswith("text/html"))
            for code in codes:
                self.assertIn(code, pdf.text)
        self.assertEqual(
            self.url_open(f"/my/reseller/batches/{purchase.batch_id.id}/download/zip").status_code,
            404,
        )

    def test_card_pdfs_are_bounded_in_size_and_one_at_a_time(self):
        purchase = self._buy(self.reseller, 3, "req-parts")
        batch = purchase.batch_id
        codes = batch.voucher_ids.sorted("id").mapped("code")
        url = f"/my/reseller/batches/{batch.id}/download/pdf"
        self._login("reseller_a")
        # a render of this reseller's still running (its lock held by another transaction):
        # refused at once, not queued. (First: the test's own transaction then keeps the lock.)
        with db_connect(get_db_name()).cursor() as cr:  # another connection (the test's is shared)
            cr.execute(
                "SELECT pg_try_advisory_xact_lock(hashtext('isp_billing.portal_cards'), %s)",
                [self.reseller.id],
            )
            self.assertTrue(cr.fetchone()[0])
            busy = self.url_open(url)
            self.assertEqual(busy.status_code, 429)
            self.assertIn("try again", busy.text)
            self.assertNotIn(codes[0], busy.text)
        with patch.object(voucher_batch_module, "PORTAL_CARDS_PER_PDF", 2):
            page = self.url_open(f"/my/reseller/batches/{batch.id}").text
            self.assertIn(f"{url}?part=2", page)
            self.assertIn("Print cards 1–2 (PDF)", page)
            first, second = self.url_open(f"{url}?part=1"), self.url_open(f"{url}?part=2")
            self.assertEqual((first.status_code, second.status_code), (200, 200))
            if first.headers["Content-Type"].startswith("text/html"):  # Odoo's test mode
                self.assertEqual([c in first.text for c in codes], [True, True, False])
                self.assertEqual([c in second.text for c in codes], [False, False, True])
            for part in ("3", "0", "-1", "abc", "9" * 40, "²", "٣"):
                with self.subTest(part=part):
                    self.assertEqual(self.url_open(f"{url}?part={part}").status_code, 404)

    def test_others_batches_are_refused(self):
        purchase = self._buy(self.reseller, 2, "req-mine")
        batch = purchase.batch_id
        self._login("reseller_b")
        for url in (
            f"/my/reseller/batches/{batch.id}",
            f"/my/reseller/batches/{batch.id}/download/csv",
            f"/my/reseller/batches/{batch.id}/download/pdf",
        ):
            # another reseller's batch and a missing one answer alike: ids reveal nothing
            response = self.url_open(url)
            self.assertEqual(response.status_code, 404, url)
            self.assertNotIn(batch.voucher_ids[0].code, response.text)
        self.assertEqual(self.url_open("/my/reseller/batches/999999999").status_code, 404)
        self.assertNotIn(batch.name, self.url_open("/my/reseller/batches").text)

    def test_customers_are_refused_reseller_pages(self):
        customer = self._customer("+255712900030", email="cust@example.com")
        new_test_user(
            self.env,
            login="plain_customer",
            password="plain_customer-pass-1234",
            groups="base.group_portal",
            partner_id=customer.id,
        )
        self.authenticate("plain_customer", "plain_customer-pass-1234")
        for url in ("/my/reseller", "/my/reseller/batches", "/my/reseller/customers"):
            self.assertEqual(self.url_open(url).status_code, 403, url)
        self.assertNotIn("/my/reseller", self.url_open("/my").text)

    def test_online_top_up_goes_to_the_payment_page(self):
        self._login("reseller_a")
        response = self.url_open("/my/reseller/topup?amount=5000", allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        location = response.headers["Location"]
        self.assertIn("/payment/pay?", location)
        self.assertIn(f"partner_id={self.reseller.id}", location)
        self.assertIn("access_token=", location)
        for amount in ("-5", "nan", "inf", "-inf", "1e999"):
            with self.subTest(amount=amount):
                refused = self.url_open(f"/my/reseller/topup?amount={amount}")
                self.assertEqual(refused.status_code, 200)
                self.assertIn("error=", refused.url)


@tagged("post_install", "-at_install")
class TestResellerTour(IspResellerHttpCase):
    def test_reseller_buys_and_downloads_a_batch(self):
        self.start_tour("/my/reseller", "isp_reseller_buy_batch", login="reseller_a")
        purchase = self.env["isp.reseller.purchase"].search(
            [("reseller_id", "=", self.reseller.id)]
        )
        self.assertEqual(len(purchase), 1)
        self.assertEqual(purchase.quantity, 4)
        self.assertEqual(purchase.batch_id.count_total, 4)
        self.assertEqual(self.reseller._isp_reseller_balance_amount(), 16400)
