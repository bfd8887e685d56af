"""Customers' account numbers (res.partner.isp_account_number): short, distinct, never
changed, with a check digit so that a mistyped number matches no one; shown on /my, on
invoices; the company's Paybill / Till number."""

import importlib.util
import threading
from pathlib import Path

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import UserError, ValidationError
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, HttpCase, tagged
from odoo.tests.common import get_db_name

from odoo.addons.isp_billing.models.res_partner import clean_account_number, damm_digit

from .common import IspBillingCase

MIGRATION = Path(__file__).parents[1] / "migrations" / "19.0.1.4.0" / "post-account-numbers.py"


def typos(number):
    """Every number a customer makes of ``number`` by mistyping one digit or by swapping two
    adjacent different digits."""
    variants = set()
    for i, digit in enumerate(number):
        for other in "0123456789":
            if other != digit:
                variants.add(number[:i] + other + number[i + 1 :])
    for i in range(len(number) - 1):
        if number[i] != number[i + 1]:
            variants.add(number[:i] + number[i + 1] + number[i] + number[i + 2 :])
    return variants


@tagged("post_install", "-at_install")
class TestAccountNumber(IspBillingCase):
    def _assert_well_formed(self, number):
        self.assertRegex(number, r"^[1-9][0-9]{5,}$")
        self.assertEqual(damm_digit(number), 0, number)

    def test_new_customer_gets_a_number_other_partners_none(self):
        customer = self._customer("+255712900001")
        self._assert_well_formed(customer.isp_account_number)
        self.assertEqual(len(customer.isp_account_number), 7)
        other = self.env["res.partner"].create({"name": "A supplier"})
        self.assertFalse(other.isp_account_number)

    def test_thousand_customers_in_one_call_distinct_bounded_queries(self):
        Partner = self.env["res.partner"]
        self.env.flush_all()
        before = self.env.cr.sql_log_count
        plain = Partner.create([{"name": f"Plain {i}"} for i in range(1000)])
        self.env.flush_all()
        plain_queries = self.env.cr.sql_log_count - before
        before = self.env.cr.sql_log_count
        customers = Partner.create(
            [{"name": f"Customer {i}", "is_isp_customer": True} for i in range(1000)]
        )
        self.env.flush_all()
        customer_queries = self.env.cr.sql_log_count - before
        numbers = customers.mapped("isp_account_number")
        self.assertEqual(len(set(numbers)), 1000)
        for number in numbers:
            self._assert_well_formed(number)
        self.assertFalse(any(plain.mapped("isp_account_number")))
        # the numbers cost one query for the batch, not one per customer
        self.assertLessEqual(customer_queries, plain_queries + 3)

    def test_check_digit_catches_one_digit_and_transposition_typos(self):
        customer = self._customer("+255712900002")
        number = customer.isp_account_number
        Partner = self.env["res.partner"]
        self.assertEqual(Partner._isp_find_by_account_number(self.company, number), customer)
        variants = typos(number)
        self.assertGreater(len(variants), 60)
        for variant in variants:
            self.assertIsNone(clean_account_number(variant), variant)
            self.assertFalse(Partner._isp_find_by_account_number(self.company, variant), variant)

    def test_a_typo_never_finds_another_customer(self):
        customers = self.env["res.partner"].create(
            [{"name": f"C{i}", "is_isp_customer": True} for i in range(200)]
        )
        numbers = set(customers.mapped("isp_account_number"))
        for number in list(numbers)[:20]:
            self.assertFalse(typos(number) & numbers)

    def test_find_ignores_spaces_dashes_and_rejects_other_text(self):
        customer = self._customer("+255712900003")
        number = customer.isp_account_number
        Partner = self.env["res.partner"]
        for typed in (
            f"  {number} ",
            f"{number[:3]} {number[3:]}",
            f"{number[:3]}-{number[3:5]}-{number[5:]}",
            f"{number[:2]}\u2013{number[2:]}",
        ):
            self.assertEqual(Partner._isp_find_by_account_number(self.company, typed), customer)
        for typed in ("", None, False, "ABC", f"A{number}", f"{number}0", number[:-1], "+255"):
            self.assertFalse(Partner._isp_find_by_account_number(self.company, typed), typed)

    def test_other_company_number_not_found(self):
        other_company = self.env["res.company"].create({"name": "Other ISP"})
        theirs = self.env["res.partner"].create(
            {"name": "Theirs", "is_isp_customer": True, "company_id": other_company.id}
        )
        Partner = self.env["res.partner"]
        self.assertFalse(
            Partner._isp_find_by_account_number(self.company, theirs.isp_account_number)
        )
        self.assertEqual(
            Partner._isp_find_by_account_number(other_company, theirs.isp_account_number), theirs
        )

    def test_archived_customer_keeps_and_is_found_by_number(self):
        customer = self._customer("+255712900004")
        customer.action_archive()
        self.assertEqual(
            self.env["res.partner"]._isp_find_by_account_number(
                self.company, customer.isp_account_number
            ),
            customer,
        )

    def test_number_never_changes_and_is_not_copied(self):
        customer = self._customer("+255712900005")
        number = customer.isp_account_number
        other = self._customer("+255712900006").isp_account_number
        with self.assertRaises(UserError):
            customer.write({"isp_account_number": other})
        with self.assertRaises(UserError):
            customer.write({"isp_account_number": False})
        customer.write({"isp_account_number": number, "name": "Same number"})
        customer.write({"phone": "+255712900007", "is_isp_customer": True})
        self.assertEqual(customer.isp_account_number, number)
        copy = customer.copy({"phone": "+255712900008"})
        self._assert_well_formed(copy.isp_account_number)
        self.assertNotEqual(copy.isp_account_number, number)

    def test_only_well_formed_numbers_can_be_given(self):
        with self.assertRaises(ValidationError):
            self.env["res.partner"].create(
                {"name": "Forged", "is_isp_customer": True, "isp_account_number": "1234567"}
            )

    def test_partner_becoming_customer_gets_one(self):
        partner = self.env["res.partner"].create(
            {"name": "Later customer", "company_id": self.company.id}
        )
        self.assertFalse(partner.isp_account_number)
        partner.is_isp_customer = True
        self._assert_well_formed(partner.isp_account_number)

    def test_migration_fills_existing_customers_in_one_batch(self):
        customers = self.env["res.partner"].create(
            [{"name": f"Old {i}", "is_isp_customer": True} for i in range(5)]
        )
        kept = self._customer("+255712900009")
        kept_number = kept.isp_account_number
        supplier = self.env["res.partner"].create({"name": "Supplier"})
        customers[4].action_archive()
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE res_partner SET isp_account_number = NULL WHERE id IN %s",
            [tuple(customers.ids)],
        )
        self.env.invalidate_all()
        self.assertFalse(any(customers.mapped("isp_account_number")))
        spec = importlib.util.spec_from_file_location("isp_billing_post_1_4", MIGRATION)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        before = self.env.cr.sql_log_count
        module.migrate(self.env.cr, "19.0.1.3.0")
        self.assertLessEqual(self.env.cr.sql_log_count - before, 4)
        numbers = customers.mapped("isp_account_number")
        self.assertEqual(len(set(numbers)), 5)
        for number in numbers:
            self._assert_well_formed(number)
        self.assertEqual(kept.isp_account_number, kept_number)
        self.assertNotIn(kept_number, numbers)
        self.assertFalse(supplier.isp_account_number)
        # run again: nothing left to do, nothing changes
        module.migrate(self.env.cr, "19.0.1.3.0")
        self.env.invalidate_all()
        self.assertEqual(customers.mapped("isp_account_number"), numbers)

    def test_paybill_setting(self):
        self.assertFalse(self.company._isp_paybill_number())
        settings = self.env["res.config.settings"].create({"isp_paybill_number": "400200"})
        settings.execute()
        self.assertEqual(self.company.isp_paybill_number, "400200")
        self.assertEqual(self.company._isp_paybill_number(), "400200")
        for bad in ("4002 00", "PAYBILL", "12", "12345678901"):
            with self.assertRaises(ValidationError), self.env.cr.savepoint():
                self.company.isp_paybill_number = bad
                self.company.flush_recordset()

    def _invoice_html(self, partner):
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_line_ids": [
                    Command.create({"name": "Home 10 Mbps", "quantity": 1, "price_unit": 50000})
                ],
            }
        )
        invoice.action_post()
        html, _kind = self.env["ir.actions.report"]._render_qweb_html(
            "account.report_invoice", invoice.ids
        )
        return html.decode()

    def test_invoice_shows_paybill_and_account_for_isp_customers_only(self):
        customer = self._customer("+255712900010")
        number = customer.isp_account_number
        html = self._invoice_html(customer)
        self.assertIn("Your account number:", html)
        self.assertIn(number, html)
        self.assertNotIn("Paybill", html)
        self.company.isp_paybill_number = "400200"
        html = self._invoice_html(customer)
        self.assertIn("Paybill", html)
        self.assertIn("400200", html)
        self.assertIn(number, html)
        other = self.env["res.partner"].create({"name": "Business client"})
        html = self._invoice_html(other)
        self.assertNotIn("o_isp_invoice_account", html)
        self.assertNotIn("Paybill", html)


@tagged("post_install", "-at_install")
class TestAccountNumberPortal(HttpCase, IspBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls._customer("+255712900020", email="acc@example.com")
        cls._portal_user(cls.customer, "isp_acc_customer")
        cls.company.isp_paybill_number = "400200"

    def test_my_home_and_subscriptions_show_number_and_paybill(self):
        self.authenticate("isp_acc_customer", "isp_acc_customer-pass-1234")
        number = self.customer.isp_account_number
        for url in ("/my", "/my/subscriptions"):
            page = self.url_open(url)
            self.assertEqual(page.status_code, 200, url)
            self.assertIn("Your account number:", page.text, url)
            self.assertIn(
                f'<strong class="o_isp_account_number_value">{number}</strong>', page.text
            )
            self.assertIn('<strong class="o_isp_paybill_number">400200</strong>', page.text, url)

    def test_no_paybill_shows_number_only(self):
        self.company.isp_paybill_number = False
        self.authenticate("isp_acc_customer", "isp_acc_customer-pass-1234")
        page = self.url_open("/my")
        self.assertIn(self.customer.isp_account_number, page.text)
        self.assertNotIn("o_isp_paybill_number", page.text)

    def test_portal_user_who_is_no_isp_customer_sees_none(self):
        partner = self.env["res.partner"].create({"name": "Not ISP", "email": "n@example.com"})
        self._portal_user(partner, "isp_acc_other")
        self.authenticate("isp_acc_other", "isp_acc_other-pass-1234")
        page = self.url_open("/my")
        self.assertEqual(page.status_code, 200)
        self.assertNotIn("o_isp_account_number", page.text)


@tagged("post_install", "-at_install")
class TestAccountNumberConcurrency(BaseCase):
    """Two transactions creating customers at the same moment, each committed: no number
    given twice."""

    def test_two_transactions_get_distinct_numbers(self):
        registry = Registry(get_db_name())
        barrier = threading.Barrier(2)
        results = [None, None]

        def worker(index):
            try:
                with registry.cursor() as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {})
                    barrier.wait(timeout=30)
                    partners = env["res.partner"].create(
                        [{"name": f"Race {index}-{i}", "is_isp_customer": True} for i in range(50)]
                    )
                    env.flush_all()
                    barrier.wait(timeout=30)  # both transactions open at once
                    results[index] = dict(
                        zip(partners.ids, partners.mapped("isp_account_number"), strict=True)
                    )
            except Exception as exc:  # reported by the assertions below
                results[index] = exc

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        try:
            self.assertTrue(all(isinstance(r, dict) for r in results), results)
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                ids = [*results[0], *results[1]]
                committed = env["res.partner"].browse(ids).mapped("isp_account_number")
            self.assertEqual(len(committed), 100)
            self.assertEqual(len(set(committed)), 100)
            self.assertEqual(set(committed), {*results[0].values(), *results[1].values()})
        finally:
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                ids = [i for r in results if isinstance(r, dict) for i in r]
                env["res.partner"].browse(ids).exists().unlink()
