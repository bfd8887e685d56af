import time
from datetime import timedelta
from pathlib import Path

import polib
import pytz
from psycopg2.errors import UniqueViolation

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.service.model import retrying
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import IspBillingCase, IspCommittedCase

REPORT = "isp_billing.action_report_isp_counter_sale_receipt"
# hex digits of a test's tag as decimal digits, for unique phone numbers per run
DIGITS = str.maketrans("abcdef", "012345")


@tagged("post_install", "-at_install")
class TestCounterSale(IspBillingCase):
    """The counter screen: a customer by phone, a bundle, how the money was received;
    access, accounting and the receipt, once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.partner_id.tz = "Africa/Dar_es_Salaam"
        cls.desk = new_test_user(
            cls.env,
            login="counter-desk",
            groups="isp_billing.group_isp_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.manager = new_test_user(
            cls.env,
            login="counter-manager",
            groups="isp_billing.group_isp_manager",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.desk_env = cls.env(user=cls.desk, context={"allowed_company_ids": cls.company.ids})

    def _sale(self, env=None, **vals):
        vals.setdefault("bundle_id", self.weekly.id)
        vals.setdefault("payment_method", "cash")
        return (env or self.desk_env)["isp.counter.sale"].create(vals)

    def _purchases(self):
        return self.env["isp.purchase"].search_count([("source", "=", "manual")])

    # ------------------------------------------------------------------ customers

    def test_new_customer_created_from_name_and_phone(self):
        sale = self._sale(phone="0744 555 111", customer_name="  Juma Walk-in ")
        self.assertFalse(sale.partner_id, "nobody has this number yet")
        self.assertFalse(sale.phone_error)
        sale.action_confirm()
        customer = sale.partner_id
        self.assertEqual(customer.name, "Juma Walk-in")
        self.assertEqual(customer.phone, "+255744555111")
        self.assertTrue(customer.is_isp_customer)
        self.assertEqual(customer.company_id, self.company)
        self.assertEqual(sale.subscription_id.partner_id, customer)
        self.assertEqual(sale.subscription_id.state, "active")

    def test_new_customer_needs_a_name(self):
        sale = self._sale(phone="0744 555 112")
        with self.assertRaisesRegex(ValidationError, "type the new customer's name"):
            sale.action_confirm()
        self.assertFalse(
            self.env["res.partner"].search([("phone", "=", "+255744555112")]),
            "no customer made",
        )
        self.assertEqual(sale.state, "draft")

    def test_existing_customer_found_by_any_spelling(self):
        customer = self._customer("+255712345678")
        partners = self.env["res.partner"].search_count([])
        for spelling in ("0712 345 678", "255712345678", "+255 712-345-678", "00255712345678"):
            with self.subTest(spelling=spelling):
                sale = self._sale(phone=spelling, payment_method="grant")
                self.assertEqual(sale.partner_id, customer)
                sale.action_confirm()
                self.assertEqual(sale.partner_id, customer)
        self.assertEqual(self.env["res.partner"].search_count([]), partners)
        self.assertEqual(len(customer.isp_subscription_ids.purchase_ids), 4)

    def test_another_companys_customer_is_not_found(self):
        company_b = self.env["res.company"].create(
            {"name": "ISP B", "country_id": self.env.ref("base.tz").id}
        )
        other = self._customer("+255712345679", company=company_b)
        sale = self._sale(phone="0712345679", customer_name="Here Too", payment_method="grant")
        self.assertFalse(sale.partner_id)
        sale.action_confirm()
        self.assertNotEqual(sale.partner_id, other)
        self.assertEqual(sale.partner_id.company_id, self.company)

    def test_bad_phone_is_refused_and_changes_nothing(self):
        purchases = self._purchases()
        sale = self._sale(phone="12345", customer_name="Nobody")
        self.assertTrue(sale.phone_error)
        with self.assertRaises(ValidationError):
            sale.action_confirm()
        self.assertEqual(self._purchases(), purchases)
        self.assertEqual(sale.state, "draft")

    def test_opened_from_a_customer_starts_with_its_phone(self):
        customer = self._customer("0712000222")
        sale = (
            self.desk_env["isp.counter.sale"]
            .with_context(default_partner_id=customer.id)
            .create({"bundle_id": self.daily.id, "payment_method": "grant"})
        )
        self.assertEqual(sale.phone, "+255712000222")
        self.assertEqual(sale.partner_id, customer)

    # ------------------------------------------------------------------ money

    def test_price_is_what_the_customer_pays_taxes_included(self):
        sale = self._sale(phone="0712000333")
        self.assertEqual(sale.price, 6000)
        sale.bundle_id = self.monthly
        self.assertEqual(sale.price, 25000)

    def test_cash_paid_in_the_cash_journal(self):
        # the company may or may not have a Cash journal already (made when its chart was
        # loaded with isp_billing installed; Odoo 19's charts make none): either way the sale
        # lands in the company's cash journal
        sale = self._sale(phone="0712000444", customer_name="Cash Customer")
        sale.action_confirm()
        invoice = sale.sudo().invoice_id
        self.assertEqual(sale.journal_id.type, "cash")
        self.assertEqual(sale.journal_id.company_id, self.company)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.amount_total, 6000)
        self.assertAlmostEqual(invoice.amount_tax, 915.25, places=2)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        payment = sale.sudo().payment_id
        self.assertEqual(payment.journal_id, sale.journal_id)
        self.assertEqual(payment.amount, 6000)
        self.assertEqual(payment.memo, sale.name)
        self.assertIn(payment.state, ("in_process", "paid"))
        self.assertEqual(sale.amount, 6000)
        self.assertEqual(sale.purchase_id.amount, 6000)
        # the next cash sale goes to the same journal
        other = self._sale(phone="0712000445", customer_name="Second")
        other.action_confirm()
        self.assertEqual(other.journal_id, sale.journal_id)

    def test_mobile_money_paid_in_the_chosen_journal_with_the_receipt_code(self):
        sale = self._sale(
            phone="0712000555",
            customer_name="M-Pesa Customer",
            payment_method="mobile_money",
            mobile_journal=str(self.journal.id),
            receipt_code=" qjk4 xyz123 ",
        )
        self.assertEqual(sale.receipt_code, "QJK4XYZ123")
        sale.action_confirm()
        invoice = sale.sudo().invoice_id
        self.assertEqual(sale.journal_id, self.journal)
        self.assertEqual(invoice.amount_total, 6000)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(sale.sudo().payment_id.memo, "QJK4XYZ123")
        self.assertEqual(sale.sudo().payment_id.journal_id, self.journal)
        self.assertEqual(sale.receipt_code, "QJK4XYZ123")

    def test_mobile_money_needs_a_receipt_code(self):
        sale = self._sale(
            phone="0712000556",
            customer_name="No Code",
            payment_method="mobile_money",
            mobile_journal=str(self.journal.id),
        )
        with self.assertRaisesRegex(ValidationError, "receipt code"):
            sale.action_confirm()
        sale.receipt_code = "not a code!"
        with self.assertRaisesRegex(ValidationError, "is not a mobile-money receipt code"):
            sale.action_confirm()
        self.assertEqual(sale.state, "draft")

    def test_not_paid_leaves_the_invoice_open(self):
        sale = self._sale(phone="0712000666", customer_name="Pays Later", payment_method="unpaid")
        sale.action_confirm()
        invoice = sale.sudo().invoice_id
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertEqual(invoice.amount_residual, 6000)
        self.assertFalse(sale.payment_id)
        self.assertFalse(sale.journal_id)
        self.assertEqual(sale.amount, 6000)
        self.assertEqual(sale.subscription_id.state, "active")

    def test_free_grant_has_no_invoice(self):
        sale = self._sale(phone="0712000777", customer_name="Gift", payment_method="grant")
        sale.action_confirm()
        self.assertFalse(sale.sudo().invoice_id)
        self.assertFalse(sale.payment_id)
        self.assertEqual(sale.amount, 0)
        self.assertEqual(sale.purchase_id.invoice_status, "no")
        self.assertEqual(sale.subscription_id.state, "active")

    def test_duplicate_receipt_code_refused(self):
        first = self._sale(
            phone="0712000888",
            customer_name="First",
            payment_method="mobile_money",
            mobile_journal=str(self.journal.id),
            receipt_code="SDM1AB2CD3",
        )
        first.action_confirm()
        purchases = self._purchases()
        second = self._sale(
            phone="0712000889",
            customer_name="Second",
            payment_method="mobile_money",
            mobile_journal=str(self.journal.id),
            receipt_code="sdm1ab2cd3",
        )
        with self.assertRaisesRegex(ValidationError, "SDM1AB2CD3 was already recorded"):
            second.action_confirm()
        self.assertEqual(self._purchases(), purchases)
        self.assertFalse(
            self.env["res.partner"].search([("phone", "=", "+255712000889")]),
            "nothing was made for the refused sale",
        )
        # a code an accountant already registered as a payment's memo
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": first.partner_id.id,
                "amount": 1000,
                "journal_id": self.journal.id,
                "memo": "TAB9XY8ZW7",
            }
        )
        payment.action_post()
        second.receipt_code = "TAB9XY8ZW7"
        with self.assertRaisesRegex(ValidationError, "already recorded"):
            second.action_confirm()
        # the database refuses it too, whatever the checks before
        with (
            self.assertRaises(UniqueViolation),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            second.sudo().with_context(isp_counter_sale_confirm=True).write(
                {"receipt_code": "SDM1AB2CD3", "state": "done"}
            )
            second.flush_recordset()

    def test_receipt_code_of_another_company_is_not_a_duplicate(self):
        company_b = self.env["res.company"].create(
            {"name": "ISP B", "country_id": self.env.ref("base.tz").id}
        )
        bundle_b = (
            self.env["product.template"]
            .create(
                {
                    "name": "Daily B",
                    "is_isp_bundle": True,
                    "list_price": 1000,
                    "company_id": company_b.id,
                    "taxes_id": [Command.clear()],
                }
            )
            .product_variant_id
        )
        self.env["isp.counter.sale"].sudo().create(
            {
                "company_id": company_b.id,
                "phone": "0712000990",
                "bundle_id": bundle_b.id,
                "payment_method": "mobile_money",
                "receipt_code": "SHARED1234",
                "state": "done",
            }
        )
        sale = self._sale(
            phone="0712000991",
            customer_name="Here",
            payment_method="mobile_money",
            mobile_journal=str(self.journal.id),
            receipt_code="SHARED1234",
        )
        sale.action_confirm()
        self.assertEqual(sale.state, "done")

    def test_confirm_twice_is_one_purchase(self):
        sale = self._sale(phone="0712000999", customer_name="Double Click")
        sale.action_confirm()
        subscription = sale.subscription_id
        expiry = subscription.date_expiry
        sale.action_confirm()
        sale.with_env(self.desk_env).action_confirm()
        self.assertEqual(len(subscription.purchase_ids), 1)
        self.assertEqual(subscription.date_expiry, expiry)
        self.assertEqual(subscription.date_expiry - subscription.date_start, timedelta(days=7))
        self.assertEqual(
            self.env["account.payment"].search_count([("partner_id", "=", sale.partner_id.id)]),
            1,
        )
        self.assertEqual(
            self.env["account.move"].search_count(
                [("partner_id", "=", sale.partner_id.id), ("move_type", "=", "out_invoice")]
            ),
            1,
        )

    def test_confirmed_sale_cannot_be_changed_or_deleted(self):
        sale = self._sale(phone="0712001000", customer_name="Locked")
        sale.action_confirm()
        with self.assertRaises(UserError):
            sale.write({"receipt_code": "CHANGED123"})
        with self.assertRaises(UserError):
            sale.with_user(self.manager).unlink()

    # ------------------------------------------------------------------ access

    def test_desk_staff_sell_portal_and_public_cannot(self):
        self.assertFalse(self.desk.has_group("account.group_account_invoice"))
        sale = self._sale(phone="0712001100", customer_name="By The Desk")
        sale.action_confirm()
        self.assertEqual(sale.state, "done")
        self.assertEqual(sale.create_uid, self.desk)
        self.assertEqual(sale.user_id, self.desk)
        customer = self._customer("0712001101")
        portal = self._portal_user(customer, "counter-portal")
        public = self.env.ref("base.public_user")
        for user in (portal, public):
            env = self.env(user=user)
            with self.subTest(user=user.login):
                with self.assertRaises(AccessError):
                    env["isp.counter.sale"].create(
                        {"phone": "0712001102", "bundle_id": self.daily.id}
                    )
                with self.assertRaises(AccessError):
                    sale.with_env(env).read(["name"])
                with self.assertRaises(AccessError):
                    sale.with_env(env).action_confirm()

    def test_other_company_staff_do_not_see_the_sales(self):
        company_b = self.env["res.company"].create(
            {"name": "ISP B", "country_id": self.env.ref("base.tz").id}
        )
        desk_b = new_test_user(
            self.env,
            login="counter-desk-b",
            groups="isp_billing.group_isp_user",
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
        )
        sale = self._sale(phone="0712001200", customer_name="Company A")
        sale.action_confirm()
        env_b = self.env(user=desk_b, context={"allowed_company_ids": company_b.ids})
        self.assertFalse(env_b["isp.counter.sale"].search([]))
        with self.assertRaises(AccessError):
            sale.with_env(env_b).read(["partner_id"])

    # ------------------------------------------------------------------ receipt

    def _receipt_html(self, sale, user):
        html, _type = (
            self.env["ir.actions.report"]
            .with_user(user)
            .with_context(allowed_company_ids=self.company.ids)
            ._render_qweb_html(REPORT, sale.ids)
        )
        return html.decode()

    def test_receipt_content(self):
        sale = self._sale(
            phone="0712001300",
            customer_name="Receipt Reader",
            payment_method="mobile_money",
            mobile_journal=str(self.journal.id),
            receipt_code="RCP1234567",
        )
        sale.action_confirm()
        html = self._receipt_html(sale, self.desk)
        expiry = (
            pytz.utc.localize(sale.purchase_id.date_end)
            .astimezone(pytz.timezone("Africa/Dar_es_Salaam"))
            .strftime("%d/%m/%Y %H:%M")
        )
        for text in (
            sale.name,
            "Receipt Reader",
            "+255712001300",
            "Weekly",
            expiry,
            "6,000",
            "Mobile Money (test)",
            "RCP1234567",
            sale.sudo().invoice_id.name,
        ):
            self.assertIn(text, html)
        self.assertNotIn("PPPoE", html, "a hotspot bundle has no PPPoE login")
        # the PDF is made on the 80 mm roll
        report = self.env.ref(REPORT)
        self.assertEqual(report.paperformat_id.page_width, 80)
        self.assertEqual(report.paperformat_id.format, "custom")

    def test_receipt_ways_of_paying(self):
        for method, text in (
            ("cash", "Cash"),
            ("unpaid", "Not paid yet"),
            ("grant", "Free grant"),
        ):
            with self.subTest(method=method):
                sale = self._sale(
                    phone=f"07120014{len(method):02d}",
                    customer_name=f"Pays {method}",
                    payment_method=method,
                )
                sale.action_confirm()
                html = self._receipt_html(sale, self.desk)
                self.assertIn(text, html)
                self.assertIn(sale.name, html)

    def test_receipt_in_the_customers_language(self):
        self.env["res.lang"]._activate_lang("sw")
        # the receipt's Swahili from i18n/sw.po (read directly: Odoo's loader keeps only the
        # terms of the module's .pot, exported at release)
        view = "isp_billing.report_isp_counter_sale_receipt_document"
        po = polib.pofile(str(Path(__file__).parents[1] / "i18n" / "sw.po"))
        terms = {
            entry.msgid: entry.msgstr
            for entry in po
            if any(view in occurrence for occurrence, _line in entry.occurrences)
        }
        self.assertIn("RECEIPT", terms)
        self.env.ref(view).update_field_translations("arch_db", {"sw": terms})
        customer = self._customer("0712001700", lang="sw")
        sale = self._sale(phone=customer.phone)
        sale.action_confirm()
        html = self._receipt_html(sale, self.desk)
        for text in ("RISITI", "Taslimu", "Kifurushi cha Intaneti", "Asante!"):
            self.assertIn(text, html)
        self.assertNotIn("Thank you!", html)

    def test_receipt_pppoe_password_for_managers_only(self):
        sale = self._sale(phone="0712001500", customer_name="Home User", bundle_id=self.pppoe.id)
        sale.action_confirm()
        subscription = sale.subscription_id.sudo()
        self.assertTrue(subscription.login and subscription.password)
        desk_html = self._receipt_html(sale, self.desk)
        self.assertIn(subscription.login, desk_html)
        self.assertNotIn(subscription.password, desk_html)
        self.assertNotIn("PPPoE Password", desk_html)
        manager_html = self._receipt_html(sale, self.manager)
        self.assertIn(subscription.login, manager_html)
        self.assertIn(subscription.password, manager_html)

    def test_receipt_pdf_renders(self):
        sale = self._sale(phone="0712001600", customer_name="Pdf")
        sale.action_confirm()
        pdf, report_type = (
            self.env["ir.actions.report"]
            .with_user(self.desk)
            .with_context(allowed_company_ids=self.company.ids, force_report_rendering=True)
            ._render_qweb_pdf(REPORT, sale.ids)
        )
        self.assertEqual(report_type, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
        action = sale.action_print_receipt()
        self.assertEqual(action["report_name"], "isp_billing.report_isp_counter_sale_receipt")


@tagged("post_install", "-at_install")
class TestCashJournal(IspBillingCase):
    """Every company that takes payments has a Cash journal."""

    def _cash_journals(self, company):
        return self.env["account.journal"].search(
            [("type", "=", "cash"), ("company_id", "=", company.id)]
        )

    def test_fresh_company(self):
        company = self.env["res.company"].create(
            {
                "name": "Fresh ISP",
                "country_id": self.env.ref("base.tz").id,
                "currency_id": self.env.ref("base.TZS").id,
            }
        )
        # no chart of accounts: no journal at all, and a clear error instead of a cash
        # journal that could not be used
        self.assertFalse(self.env["account.journal"].search([("company_id", "=", company.id)]))
        with self.assertRaisesRegex(UserError, "no chart of accounts"):
            company._isp_cash_journal()
        self.env["account.chart.template"].try_loading("tz", company, install_demo=False)
        journal = self._cash_journals(company)
        self.assertEqual(len(journal), 1, "made when the chart was loaded")
        self.assertEqual(journal.code, "CSH1")
        self.assertEqual(journal.default_account_id.account_type, "asset_cash")
        account = journal.default_account_id.with_company(company)
        self.assertTrue(account.code.startswith(company.cash_account_code_prefix), account.code)
        self.assertEqual(journal.inbound_payment_method_line_ids.payment_method_id.code, "manual")
        self.assertEqual(company._isp_cash_journal(), journal)
        # removed (no entry yet): made again on demand
        journal.unlink()
        again = company._isp_cash_journal()
        self.assertEqual(again.type, "cash")
        self.assertEqual(again.company_id, company)
        self.assertEqual(self._cash_journals(company), again)

    def test_existing_cash_journal_is_used(self):
        journal = self.env["account.journal"].create(
            {
                "name": "Till",
                "type": "cash",
                "code": "TILL",
                "company_id": self.company.id,
                # first of the company's cash journals, whether or not one was made earlier
                "sequence": 0,
            }
        )
        count = self.env["account.journal"].search_count([("company_id", "=", self.company.id)])
        self.assertEqual(self.company._isp_cash_journal(), journal)
        self.assertEqual(
            self.env["account.journal"].search_count([("company_id", "=", self.company.id)]),
            count,
            "no journal is made when the company has one",
        )


@tagged("post_install", "-at_install")
class TestCounterSaleConcurrency(IspCommittedCase):
    """Two clicks (or two tabs) confirming the same sale at once, and two desks typing the
    same receipt code at once, each in its own transaction run as Odoo runs a request
    (``retrying``)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company, env = cls._create_company(env, "Counter Race")
            cls.company_id = company.id
            cls.bundle_id = cls._create_bundle(env, company).id
            cls.journal_id = (
                env["account.journal"]
                .search([("company_id", "=", company.id), ("type", "=", "bank")], limit=1)
                .id
            )

    def _sales(self, *vals_list):
        with self.registry.cursor() as cr:
            env = self._env(cr)
            return (
                env["isp.counter.sale"]
                .create(
                    [
                        {
                            "bundle_id": self.bundle_id,
                            "company_id": self.company_id,
                            "mobile_journal": str(self.journal_id),
                            **vals,
                        }
                        for vals in vals_list
                    ]
                )
                .ids
            )

    def _confirm(self, barrier, sale_id):
        with self.registry.cursor() as cr:
            env = self._env(cr)

            def confirm():
                sale = env["isp.counter.sale"].browse(sale_id)
                sale.action_confirm()
                env.cr.flush()
                time.sleep(0.5)  # still open while the other one runs
                return sale.purchase_id.id

            barrier.wait(timeout=30)
            return retrying(confirm, env)

    def test_same_sale_confirmed_twice_at_once(self):
        [sale_id] = self._sales(
            {"phone": f"07445{self.tag[:5].translate(DIGITS)}", "customer_name": "Twice"}
        )
        results = self._at_once(self._confirm, [(sale_id,), (sale_id,)])
        self.assertFalse([r for r in results if isinstance(r, Exception)], results)
        self.assertEqual(results[0], results[1], "the same purchase for both clicks")
        with self.registry.cursor() as cr:
            env = self._env(cr)
            sale = env["isp.counter.sale"].browse(sale_id)
            self.assertEqual(sale.state, "done")
            partner = sale.partner_id
            self.assertEqual(env["isp.purchase"].search_count([("partner_id", "=", partner.id)]), 1)
            self.assertEqual(
                env["account.payment"].search_count([("partner_id", "=", partner.id)]), 1
            )
            self.assertEqual(env["res.partner"].search_count([("phone", "=", partner.phone)]), 1)

    def test_same_receipt_code_at_two_desks(self):
        code = f"RACE{self.tag}".upper()
        digits = self.tag[:4].translate(DIGITS)
        sale_ids = self._sales(
            {
                "phone": f"074461{digits}",
                "customer_name": "Desk One",
                "payment_method": "mobile_money",
                "receipt_code": code,
            },
            {
                "phone": f"074462{digits}",
                "customer_name": "Desk Two",
                "payment_method": "mobile_money",
                "receipt_code": code,
            },
        )
        results = self._at_once(self._confirm, [(sale_id,) for sale_id in sale_ids])
        refused = [r for r in results if isinstance(r, Exception)]
        self.assertEqual(len(refused), 1, results)
        self.assertIsInstance(refused[0], ValidationError)
        self.assertIn("already recorded", str(refused[0]))
        with self.registry.cursor() as cr:
            env = self._env(cr)
            sales = env["isp.counter.sale"].browse(sale_ids)
            self.assertEqual(sorted(sales.mapped("state")), ["done", "draft"])
            self.assertEqual(
                env["account.payment"].search_count(
                    [("company_id", "=", self.company_id), ("memo", "=", code)]
                ),
                1,
                "the money is recorded once",
            )
