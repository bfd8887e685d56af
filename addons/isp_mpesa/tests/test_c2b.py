"""M-Pesa Paybill / Till (C2B): URL registration with the strict Daraja simulator, then
validation and confirmation requests delivered by the simulator to the registered URLs, as
M-Pesa posts them, served by the test server."""

import json
import logging
from unittest.mock import patch

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.isp_billing.tests.common import captured_logs

from .common import MpesaCase

SHORTCODE = "600100"


class C2bCase(MpesaCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.daraja.write(
            {
                "daraja_c2b_shortcode": SHORTCODE,
                "daraja_c2b_validation": True,
                "daraja_c2b_response_type": "Completed",
            }
        )
        cls.daraja_sim.c2b_shortcodes = {SHORTCODE}
        Partner = cls.env["res.partner"].with_company(cls.ke_company)
        cls.hotspot = Partner.create(
            {
                "name": "Wanjiru",
                "phone": "+254712000001",
                "is_isp_customer": True,
                "company_id": cls.ke_company.id,
            }
        )
        cls.home = Partner.create(
            {
                "name": "Kamau",
                "phone": "+254712000002",
                "is_isp_customer": True,
                "company_id": cls.ke_company.id,
            }
        )
        cls.pppoe_bundle = (
            cls.env["product.template"]
            .create(
                {
                    "name": "Home 5 Mbps",
                    "is_isp_bundle": True,
                    "isp_service_type": "pppoe",
                    "list_price": 2000,
                    "isp_duration_value": 1,
                    "isp_duration_unit": "months",
                    "taxes_id": [Command.clear()],
                    "company_id": cls.ke_company.id,
                }
            )
            .product_variant_id
        )
        cls.home_sub = (
            cls.env["isp.subscription"]
            .with_company(cls.ke_company)
            .create(
                {
                    "partner_id": cls.home.id,
                    "bundle_id": cls.pppoe_bundle.id,
                    "login": "kamau-home",
                    "company_id": cls.ke_company.id,
                }
            )
        )
        cls.home_sub.action_activate()

    def setUp(self):
        super().setUp()
        self.daraja_sim.c2b_registrations.clear()
        self.daraja.action_daraja_c2b_register()
        self.assertIn(SHORTCODE, self.daraja_sim.c2b_registrations)

    def _invoice(self, partner, amount, due=None, subscription=None):
        move = (
            self.env["account.move"]
            .with_company(self.ke_company)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "company_id": self.ke_company.id,
                    "currency_id": self.kes.id,
                    "invoice_date_due": due,
                    "isp_subscription_id": subscription.id if subscription else False,
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Internet", "quantity": 1, "price_unit": amount, "tax_ids": []}
                        )
                    ],
                }
            )
        )
        move.action_post()
        return move

    def _deliver(self, kind, body, repeat=1, url=None):
        """Post ``body`` as M-Pesa does to the URL registered for the body's number (the
        test server takes requests only through ``url_open``, with its test cookie)."""
        if url is None:
            registrations = self.daraja_sim.c2b_registrations
            registration = (
                registrations.get(str(body["BusinessShortCode"])) or registrations[SHORTCODE]
            )
            url = registration["ValidationURL" if kind == "validation" else "ConfirmationURL"]
        responses = []
        for _i in range(repeat):
            self.env.flush_all()
            responses.append(self.url_open(url, json=body, method="POST"))
            self.env.invalidate_all()
        return responses

    def _confirm(self, repeat=1, book=True, **body):
        """Deliver a confirmation (``repeat`` times), then run the booking cron woken by it."""
        body = self.daraja_sim.c2b_body(**body)
        responses = self._deliver("confirmation", body, repeat=repeat)
        for response in responses:
            self.assertEqual(response.status_code, 200, response.text)
            self.assertEqual(response.json(), {"ResultCode": 0, "ResultDesc": "Success"})
        if book:
            self._book()
        return self._row(body["TransID"]), body

    def _book(self):
        self._book_c2b()

    def _booking_triggered(self):
        cron = self.env.ref("isp_mpesa.ir_cron_isp_mpesa_c2b_book")
        return self.env["ir.cron.trigger"].search_count(
            [("cron_id", "=", cron.id), ("call_at", "<=", fields.Datetime.now())]
        )

    def _validate(self, **body):
        response = self._deliver("validation", self.daraja_sim.c2b_body(**body))[0]
        self.assertEqual(response.status_code, 200, response.text)
        return response.json()

    def _row(self, trans_id):
        return self.env["isp.mpesa.c2b"].search([("trans_id", "=", trans_id)])

    def _rows(self):
        return self.env["isp.mpesa.c2b"].search_count([("company_id", "=", self.ke_company.id)])


@tagged("post_install", "-at_install")
class TestC2bRegistration(C2bCase):
    def test_registration_sends_the_secret_urls_without_forbidden_words(self):
        registration = self.daraja_sim.c2b_registrations[SHORTCODE]
        token = self.daraja._daraja_c2b_token()
        self.assertEqual(registration["ResponseType"], "Completed")
        self.assertEqual(
            registration["ValidationURL"],
            f"{self.base_url()}/payment/daraja/c2b/{token}/validation",
        )
        self.assertTrue(registration["ConfirmationURL"].endswith(f"/{token}/confirmation"))
        self.assertNotIn("mpesa", registration["ConfirmationURL"].lower())
        self.assertTrue(self.daraja.daraja_c2b_registered_at)
        self.assertIn("Success", self.daraja.daraja_c2b_register_result)
        # the loopback URL is not what Safaricom's production reaches: the form warns
        self.assertIn("public https", self.daraja.daraja_c2b_url_warning)

    def test_refused_url_words_are_reported_and_nothing_registered(self):
        self.daraja_sim.c2b_registrations.clear()
        self.daraja.daraja_c2b_registered_at = False
        self.daraja.isp_callback_base_url = f"{self.base_url()}/MPesa"
        self.assertIn("mpesa", self.daraja.daraja_c2b_url_warning)
        with mute_logger("odoo.addons.isp_mpesa.models.payment_provider_c2b"):
            action = self.daraja.action_daraja_c2b_register()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("Invalid ConfirmationURL", action["params"]["message"])
        self.assertFalse(self.daraja_sim.c2b_registrations)
        self.assertFalse(self.daraja.daraja_c2b_registered_at)
        self.assertIn("Invalid", self.daraja.daraja_c2b_register_result)

    def test_production_refuses_plain_http(self):
        self.daraja_sim.sandbox = False
        self.daraja_sim.c2b_registrations.clear()
        try:
            action = self.daraja.action_daraja_c2b_register()
        finally:
            self.daraja_sim.sandbox = True
        self.assertEqual(action["params"]["type"], "danger")
        self.assertFalse(self.daraja_sim.c2b_registrations)

    def test_expired_token_is_refreshed(self):
        self.daraja_sim.expire_tokens()
        issued = self.daraja_sim.tokens_issued
        self.daraja_sim.c2b_registrations.clear()
        action = self.daraja.action_daraja_c2b_register()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assertEqual(self.daraja_sim.tokens_issued, issued + 1)
        self.assertIn(SHORTCODE, self.daraja_sim.c2b_registrations)

    def test_timeout_is_a_clear_error(self):
        self.daraja._isp_bearer()  # a token first: the hang is the registration's
        self.daraja.isp_request_timeout = 1
        self.daraja_sim.hang_seconds = 2
        self.daraja_sim.fail_next("timeout")
        before = self.daraja.daraja_c2b_registered_at
        with self._short_timeouts(), mute_logger("odoo.addons.isp_mpesa"):
            action = self.daraja.action_daraja_c2b_register()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("did not answer in time", action["params"]["message"])
        self.assertEqual(self.daraja.daraja_c2b_registered_at, before)

    def test_claims_and_paybill_number_follow_the_provider(self):
        Purchase = self.env["isp.purchase"]
        self.assertTrue(Purchase._receipt_claim_enabled(self.ke_company))
        self.assertFalse(Purchase._receipt_claim_enabled(self.tz_company))
        self.ke_company.isp_paybill_number = False
        self.daraja.state = "enabled"
        self.assertEqual(self.ke_company._isp_paybill_number(), SHORTCODE)
        # a Buy Goods Till takes no account number: customers are not told to pay it "with
        # their account number"; receipts of a Till are still claimed
        self.daraja.daraja_c2b_type = "till"
        self.assertFalse(self.ke_company._isp_paybill_number())
        self.assertTrue(Purchase._receipt_claim_enabled(self.ke_company))


@tagged("post_install", "-at_install")
class TestC2bValidation(C2bCase):
    def test_accepts_each_match_key(self):
        invoice = self._invoice(self.home, 2000)
        for bill_ref in (
            self.hotspot.isp_account_number,
            f" {self.hotspot.isp_account_number[:3]} {self.hotspot.isp_account_number[3:]} ",
            "KAMAU-HOME",
            invoice.name.lower(),
            "0712 000 001",
        ):
            with self.subTest(bill_ref=bill_ref):
                self.assertEqual(
                    self._validate(bill_ref=bill_ref), {"ResultCode": "0", "ResultDesc": "Accepted"}
                )
        self.assertEqual(self._rows(), 0, "a validation records nothing")

    def test_rejections_with_the_documented_codes(self):
        account = self.hotspot.isp_account_number
        wrong_digit = account[:-1] + str((int(account[-1]) + 1) % 10)
        for body, code in (
            ({"bill_ref": "nobody"}, "C2B00012"),
            ({"bill_ref": wrong_digit}, "C2B00012"),
            ({"bill_ref": ""}, "C2B00012"),
            # the payer's number alone names nobody, even in clear
            ({"bill_ref": "", "msisdn": "254712000001"}, "C2B00012"),
            ({"bill_ref": account, "amount": "0.00"}, "C2B00013"),
            ({"bill_ref": account, "amount": "-5"}, "C2B00013"),
            ({"bill_ref": account, "amount": "NaN"}, "C2B00013"),
            ({"bill_ref": account, "shortcode": "600999"}, "C2B00015"),
        ):
            with self.subTest(body=body):
                self.assertEqual(
                    self._validate(**body), {"ResultCode": code, "ResultDesc": "Rejected"}
                )

    def test_without_validation_every_account_is_accepted(self):
        self.daraja.daraja_c2b_validation = False
        self.assertEqual(self._validate(bill_ref="nobody")["ResultCode"], "0")
        self.assertEqual(self._validate(shortcode="600999")["ResultCode"], "C2B00015")


@tagged("post_install", "-at_install")
class TestC2bConfirmation(C2bCase):
    def _assert_booked(self, row, partner=None):
        payment = row.payment_id
        self.assertIn(payment.state, ("in_process", "paid"))
        self.assertEqual(payment.journal_id, self.daraja.journal_id)
        self.assertEqual(payment.payment_type, "inbound")
        self.assertEqual(payment.amount, row.amount)
        self.assertEqual(payment.memo, row.trans_id)
        self.assertEqual(payment.partner_id, partner or self.env["res.partner"])

    def test_hotspot_customer_paying_a_bundle_price_gets_the_bundle(self):
        row, _body = self._confirm(bill_ref=self.hotspot.isp_account_number, amount="50.00")
        self.assertEqual(row.state, "bundle")
        self._assert_booked(row, self.hotspot)
        purchase = row.purchase_id
        self.assertEqual(purchase.reference, row.trans_id)
        self.assertEqual(purchase.bundle_id, self.kes_bundle)
        self.assertEqual(purchase.subscription_id.state, "active")
        self.assertIn(purchase.invoice_id.payment_state, ("paid", "in_payment"))
        self.assertEqual(row.invoice_ids, purchase.invoice_id)
        self.assertTrue(row.payment_id.is_reconciled)

    def test_open_invoices_are_paid_oldest_first_and_reconnect(self):
        today = fields.Date.today()
        newer = self._invoice(self.home, 2000, due=today, subscription=self.home_sub)
        older = self._invoice(
            self.home, 2000, due=fields.Date.subtract(today, days=40), subscription=self.home_sub
        )
        self.home_sub.write({"state": "suspended", "recurring_suspended": True})
        row, _body = self._confirm(bill_ref="kamau-home", amount="3000.00")
        self.assertEqual(row.state, "invoice")
        self._assert_booked(row, self.home)
        self.assertIn(older.payment_state, ("paid", "in_payment"))
        self.assertEqual(newer.payment_state, "partial")
        self.assertEqual(newer.amount_residual, 1000)
        self.assertEqual(row.invoice_ids, older | newer)
        self.assertEqual(self.home_sub.state, "active", "the overdue invoice is paid")

    def test_the_invoice_named_is_paid_first(self):
        today = fields.Date.today()
        older = self._invoice(self.home, 2000, due=fields.Date.subtract(today, days=40))
        named = self._invoice(self.home, 2000, due=today)
        row, _body = self._confirm(bill_ref=named.name, amount="2000.00")
        self.assertEqual(row.invoice_ids, named)
        self.assertIn(named.payment_state, ("paid", "in_payment"))
        self.assertEqual(older.payment_state, "not_paid")

    def test_other_amounts_are_credit_on_the_customers_account(self):
        for bill_ref, amount, partner in (
            (self.hotspot.isp_account_number, "37.00", self.hotspot),  # no bundle costs 37
            ("0712000002", "2000.00", self.home),  # PPPoE customer, nothing owed
        ):
            with self.subTest(bill_ref=bill_ref):
                row, _body = self._confirm(bill_ref=bill_ref, amount=amount)
                self.assertEqual(row.state, "credit")
                self._assert_booked(row, partner)
                self.assertFalse(row.payment_id.is_reconciled)
                self.assertFalse(row.purchase_id)
        self.assertFalse(self.hotspot.isp_subscription_ids)

    def test_nobody_named_is_booked_unmatched_for_review(self):
        row, _body = self._confirm(bill_ref="hello", amount="120.00")
        self.assertEqual(row.state, "unmatched")
        self._assert_booked(row)
        domain = self.env["isp.dashboard"]._unmatched_payments_domain(self.ke_company)
        self.assertIn(row.payment_id, self.env["account.payment"].search(domain))

    def test_masked_or_clear_msisdn_alone_matches_nobody(self):
        for msisdn in ("2547 ***** 001", "254712000001", "a1b2c3" * 10):
            with self.subTest(msisdn=msisdn):
                row, _body = self._confirm(bill_ref="", amount="50.00", msisdn=msisdn)
                self.assertEqual(row.state, "unmatched")
                self.assertFalse(row.partner_id)
                self.assertEqual(row.msisdn, msisdn)

    def test_answered_at_once_booked_by_the_cron_it_wakes(self):
        self.env["ir.cron.trigger"].search([]).unlink()
        row, _body = self._confirm(book=False, bill_ref=self.hotspot.isp_account_number)
        self.assertEqual(row.state, "draft")
        self.assertFalse(row.payment_id)
        self.assertTrue(self._booking_triggered())
        self._book()
        self.assertEqual(row.state, "bundle")

    def test_duplicates_book_once(self):
        row, body = self._confirm(
            repeat=3, bill_ref=self.hotspot.isp_account_number, amount="50.00"
        )
        self.assertEqual(len(row), 1)
        self.assertEqual(
            self.env["account.payment"].search_count([("memo", "=", body["TransID"])]), 1
        )
        self.assertEqual(
            self.env["isp.purchase"].search_count([("reference", "=", row.trans_id)]), 1
        )
        self.assertEqual(len(self.hotspot.isp_subscription_ids), 1)
        # delivered again once booked: still one
        self._deliver("confirmation", body)
        self._book()
        self.assertEqual(
            self.env["account.payment"].search_count([("memo", "=", body["TransID"])]), 1
        )
        self.assertEqual(self._row(body["TransID"]).state, "bundle")

    def test_wrong_short_code_is_recorded_flagged_never_matched(self):
        body = self.daraja_sim.c2b_body(
            bill_ref=self.hotspot.isp_account_number, amount="50.00", shortcode="600999"
        )
        url = self.daraja_sim.c2b_registrations[SHORTCODE]["ConfirmationURL"]
        response = self._deliver("confirmation", body, url=url)[0]
        self.assertEqual(response.status_code, 200)
        self._book()
        row = self._row(body["TransID"])
        self.assertTrue(row.short_code_mismatch)
        self.assertEqual(row.state, "unmatched")
        self.assertFalse(row.partner_id)
        self._assert_booked(row)
        with self.assertRaises(UserError):
            self.env["isp.purchase"]._claim_receipt(
                self.ke_company, row.trans_id, self.hotspot, self.kes_bundle
            )

    def test_forged_or_unknown_token_is_404_and_records_nothing(self):
        body = self.daraja_sim.c2b_body(bill_ref=self.hotspot.isp_account_number)
        token = self.daraja._daraja_c2b_token()
        forged = token[:-1] + ("0" if token[-1] != "0" else "1")
        with mute_logger("odoo.addons.isp_mpesa.controllers.main"):
            for path in (
                f"/payment/daraja/c2b/{forged}/confirmation",
                f"/payment/daraja/c2b/{forged}/validation",
                "/payment/daraja/c2b/x/confirmation",
                f"/payment/daraja/callback/{token}",
            ):
                with self.subTest(path=path):
                    response = self._deliver("confirmation", body, url=self.base_url() + path)[0]
                    self.assertIn(response.status_code, (400, 404))
            self.daraja.state = "disabled"
            response = self._deliver("confirmation", body)[0]
            self.assertEqual(response.status_code, 404)
        self.assertEqual(self._rows(), 0)

    def test_source_address_allow_list(self):
        self.daraja.daraja_allowed_ips = "196.201.214.200"
        with mute_logger("odoo.addons.isp_mpesa.controllers.main"):
            response = self._deliver("confirmation", self.daraja_sim.c2b_body())[0]
        self.assertEqual(response.status_code, 403)
        self.assertEqual(self._rows(), 0)

    def test_matching_error_leaves_the_payment_booked(self):
        C2b = type(self.env["isp.mpesa.c2b"])
        with (
            patch.object(C2b, "_c2b_settle", side_effect=RuntimeError("router on fire")),
            mute_logger("odoo.addons.isp_mpesa.models.isp_mpesa_c2b"),
        ):
            row, _body = self._confirm(bill_ref=self.hotspot.isp_account_number, amount="50.00")
        self.assertEqual(row.state, "unmatched")
        self.assertIn("router on fire", row.error)
        self._assert_booked(row, self.hotspot)
        # staff assign it: the bundle is bought with the very payment
        row._c2b_assign(self.hotspot)
        self.assertEqual(row.state, "bundle")
        self.assertTrue(row.payment_id.is_reconciled)

    def test_booking_error_is_recorded_and_retried_by_the_cron(self):
        Payment = type(self.env["account.payment"])
        with (
            patch.object(Payment, "action_post", side_effect=UserError("journal locked")),
            mute_logger("odoo.addons.isp_mpesa.models.isp_mpesa_c2b"),
        ):
            row, body = self._confirm(bill_ref=self.hotspot.isp_account_number, amount="50.00")
        self.assertEqual(row.state, "draft")
        self.assertIn("journal locked", row.error)
        self.assertFalse(row.payment_id)
        self.assertFalse(self.env["account.payment"].search([("memo", "=", body["TransID"])]))
        self._book()
        self.assertEqual(row.state, "bundle")
        self.assertFalse(row.error)
        self._assert_booked(row, self.hotspot)

    def _counter_sale(self, receipt, phone):
        return (
            self.env["isp.counter.sale"]
            .with_company(self.ke_company)
            .create(
                {
                    "company_id": self.ke_company.id,
                    "bundle_id": self.kes_bundle.id,
                    "phone": phone,
                    "customer_name": "At the desk",
                    "payment_method": "mobile_money",
                    "mobile_journal": str(self.daraja.journal_id.id),
                    "receipt_code": receipt,
                }
            )
        )

    def test_desk_cannot_count_a_confirmed_receipt_again(self):
        row, _body = self._confirm(book=False, bill_ref="", amount="50.00")
        sale = self._counter_sale(row.trans_id.lower(), "0712000777")
        with self.assertRaisesRegex(UserError, "Paybill / Till payment"):
            sale.action_confirm()
        self.assertEqual(sale.state, "draft")

    def test_receipt_recorded_at_the_desk_first_is_not_booked_again(self):
        body = self.daraja_sim.c2b_body(bill_ref=self.hotspot.isp_account_number, amount="50.00")
        sale = self._counter_sale(body["TransID"], "0712000778")
        sale.action_confirm()
        self.assertEqual(sale.state, "done")
        self._deliver("confirmation", body)
        self._book()
        row = self._row(body["TransID"])
        self.assertEqual(row.state, "unmatched")
        self.assertEqual(row.payment_id, sale.payment_id)
        self.assertIn("not booked again", row.error)
        self.assertEqual(
            self.env["account.payment"].search_count([("memo", "=", body["TransID"])]), 1
        )
        self.assertFalse(self.hotspot.isp_subscription_ids, "no second access")
        with self.assertRaises(UserError):
            self.env["isp.purchase"]._claim_receipt(
                self.ke_company, row.trans_id, self.hotspot, self.kes_bundle
            )

    def test_invalid_confirmations_are_refused(self):
        url = self.daraja_sim.c2b_registrations[SHORTCODE]["ConfirmationURL"]
        with mute_logger("odoo.addons.isp_mpesa.controllers.main"):
            for overrides in ({"TransID": ""}, {"TransID": "x' OR 1=1"}, {"TransAmount": "0"}):
                body = self.daraja_sim.c2b_body(**overrides)
                with self.subTest(overrides=overrides):
                    response = self._deliver("confirmation", body, url=url)[0]
                    self.assertEqual(response.status_code, 400)
                    self.assertEqual(response.json()["ResultCode"], 1)
        self.assertEqual(self._rows(), 0)


@tagged("post_install", "-at_install")
class TestC2bReviewAndClaims(C2bCase):
    def _unmatched(self, amount="50.00"):
        row, _body = self._confirm(bill_ref="who knows", amount=amount)
        self.assertEqual(row.state, "unmatched")
        return row

    def test_accountant_assigns_in_one_click(self):
        accountant = new_test_user(
            self.env,
            login="c2b-accountant",
            groups="account.group_account_invoice",
            company_id=self.ke_company.id,
            company_ids=[Command.set(self.ke_company.ids)],
        )
        invoice = self._invoice(self.home, 2000)
        row = self._unmatched("2000.00")
        env = self.env(user=accountant, context={"allowed_company_ids": self.ke_company.ids})
        listed = env["isp.mpesa.c2b"].search([("state", "=", "unmatched")])
        self.assertEqual(listed, row)
        action = listed.action_c2b_assign()
        wizard = (
            env[action["res_model"]]
            .with_context(**action["context"])
            .create({"partner_id": self.home.id})
        )
        wizard.action_assign()
        self.assertEqual(row.state, "invoice")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(row.payment_id.partner_id, self.home)
        with self.assertRaises(UserError):
            row._c2b_assign(self.hotspot)  # matched already

    def test_assign_a_bundle_needs_its_price(self):
        row = self._unmatched("49.00")
        with self.assertRaises(UserError):
            row._c2b_assign(self.hotspot, bundle=self.kes_bundle)
        self.assertEqual(row.state, "unmatched")
        row._c2b_assign(self.hotspot)
        self.assertEqual(row.state, "credit")

    def test_isp_users_and_employees_cannot_read_them(self):
        self._unmatched()
        for groups in ("base.group_user", "isp_billing.group_isp_user"):
            user = new_test_user(
                self.env,
                login=f"c2b-{groups}",
                groups=groups,
                company_id=self.ke_company.id,
                company_ids=[Command.set(self.ke_company.ids)],
            )
            with self.subTest(groups=groups), self.assertRaises(AccessError):
                self.env["isp.mpesa.c2b"].with_user(user).search([])

    def test_claim_by_receipt(self):
        row = self._unmatched("50.00")
        purchase = self.env["isp.purchase"]._claim_receipt(
            self.ke_company, f" {row.trans_id.lower()} ", self.hotspot, self.kes_bundle
        )
        self.assertEqual(row.state, "claimed")
        self.assertEqual(row.purchase_id, purchase)
        self.assertEqual(purchase.partner_id, self.hotspot)
        self.assertEqual(purchase.subscription_id.state, "active")
        self.assertEqual(row.payment_id.partner_id, self.hotspot)
        self.assertIn(purchase.invoice_id.payment_state, ("paid", "in_payment"))

    def test_every_failed_claim_says_the_same(self):
        wrong_amount = self._unmatched("60.00")
        claimed = self._unmatched("50.00")
        self.env["isp.purchase"]._claim_receipt(
            self.ke_company, claimed.trans_id, self.hotspot, self.kes_bundle
        )
        matched, _body = self._confirm(bill_ref=self.home.isp_account_number, amount="50.00")
        expected = (
            f"No unclaimed M-Pesa payment of {self.kes.format(50)} matches this receipt code."
        )
        other = self.env["res.partner"].create(
            {
                "name": "Other",
                "phone": "+255712000003",
                "is_isp_customer": True,
                "company_id": self.tz_company.id,
            }
        )
        for company, receipt, partner, bundle in (
            (self.ke_company, wrong_amount.trans_id, self.home, self.kes_bundle),
            (self.ke_company, claimed.trans_id, self.home, self.kes_bundle),
            (self.ke_company, matched.trans_id, self.home, self.kes_bundle),
            (self.ke_company, "SHJ0VBWRGL", self.home, self.kes_bundle),
            (self.ke_company, "'; DROP TABLE--", self.home, self.kes_bundle),
            (self.tz_company, claimed.trans_id, other, self.kes_bundle),
        ):
            with self.subTest(receipt=receipt), self.assertRaises(UserError) as caught:
                self.env["isp.purchase"]._claim_receipt(company, receipt, partner, bundle)
            if company == self.ke_company:
                self.assertEqual(caught.exception.args[0], expected)
        self.assertEqual(wrong_amount.state, "unmatched")
        self.assertFalse(self.home.isp_subscription_ids - self.home_sub)


@tagged("post_install", "-at_install")
class TestC2bPublicRoutes(C2bCase):
    """What anyone on the internet can send to the C2B URLs (knowing the token or not)."""

    def _urls(self):
        registration = self.daraja_sim.c2b_registrations[SHORTCODE]
        return registration["ValidationURL"], registration["ConfirmationURL"]

    def test_hostile_bodies_are_answered_not_crashed_and_change_nothing(self):
        validation, confirmation = self._urls()
        bodies = ("[" * 5000, '{"a": ' * 5000, "[1, 2]", "null", "not json", "")
        with mute_logger("odoo.addons.isp_mpesa.controllers.main"):
            for body in bodies:
                with self.subTest(body=body[:10]):
                    headers = {"Content-Type": "application/json"}
                    answer = self.url_open(validation, data=body, headers=headers, method="POST")
                    self.assertEqual(answer.status_code, 200)
                    self.assertEqual(
                        answer.json(), {"ResultCode": "C2B00016", "ResultDesc": "Rejected"}
                    )
                    answer = self.url_open(confirmation, data=body, headers=headers, method="POST")
                    self.assertEqual(answer.status_code, 400, answer.text[:200])
            for overrides in (
                {"TransAmount": [50]},
                {"TransAmount": {"x": 1}},
                {"BusinessShortCode": {"x": SHORTCODE}},
                {"BillRefNumber": ["x"]},
                {"BillRefNumber": "%"},
                {"BillRefNumber": "_" * 5000},
            ):
                with self.subTest(overrides=overrides):
                    body = self.daraja_sim.c2b_body(**overrides)
                    result = self._deliver("validation", body, url=validation)[0].json()
                    self.assertNotEqual(result["ResultCode"], "0")
        self.assertEqual(self._rows(), 0)

    def test_oversized_bodies_and_other_methods_refused(self):
        validation, confirmation = self._urls()
        big = json.dumps(self.daraja_sim.c2b_body(BillRefNumber="x" * (100 * 1024)))
        for url in (validation, confirmation):
            with self.subTest(url=url[-12:]):
                response = self.url_open(
                    url, data=big, headers={"Content-Type": "application/json"}, method="POST"
                )
                self.assertEqual(response.status_code, 413)
                self.assertEqual(self.url_open(url).status_code, 405)
        self.assertEqual(self._rows(), 0)

    def test_path_token_not_in_logs(self):
        token = self.daraja._daraja_c2b_token()
        levels = {"": logging.DEBUG, "odoo": logging.DEBUG, "werkzeug": logging.INFO}
        with captured_logs(levels) as lines:
            self._confirm(bill_ref=self.hotspot.isp_account_number, amount="50.00")
        client = f"urllib3.connectionpool: {self.base_url()} "
        text = "\n".join(line for line in lines if not line.startswith(client))
        self.assertIn("/payment/daraja/c2b/", text, "the request was logged")
        self.assertNotIn(token, text)
