"""Mark as Sold: the cash sale of voucher cards is booked once (a posted invoice paid in the
chosen journal), never again on redemption; a reseller's codes are already invoiced to it; the
revenue analysis counts each voucher's money once and agrees with the invoices."""

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .test_reseller import IspResellerCase


class VoucherSoldCase(IspResellerCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cash = cls.company._isp_cash_journal()
        cls.batch = cls._batch("SHOP-A", 10)
        cls.clerk = new_test_user(
            cls.env,
            login="voucher_desk",
            groups="isp_billing.group_isp_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    @classmethod
    def _batch(cls, name, quantity, bundle=None, **vals):
        batch = cls.env["isp.voucher.batch"].create(
            {"name": name, "bundle_id": (bundle or cls.daily).id, "quantity": quantity, **vals}
        )
        batch.action_generate()
        return batch

    def _mark_sold(self, batch, env=None, **values):
        """The batch form's Mark as Sold, confirmed: the invoice."""
        batch = batch.with_env(env or self.env)
        action = batch.action_mark_sold()
        wizard = batch.env["isp.voucher.sell"].browse(action["res_id"])
        if values:
            wizard.write(values)
        wizard.action_confirm()
        return wizard.move_id.sudo()

    def _revenue(self, domain=()):
        """{source: amount} of the company's revenue analysis."""
        Report = self.env["isp.revenue.report"].with_context(allowed_company_ids=self.company.ids)
        return {
            source: amount
            for source, amount in Report._read_group(
                [("company_id", "=", self.company.id), *domain], ["source"], ["amount:sum"]
            )
        }

    def _sale_invoices(self):
        return self.env["isp.voucher"].search([("company_id", "=", self.company.id)]).sale_move_id


@tagged("post_install", "-at_install")
class TestVoucherSold(VoucherSoldCase):
    def test_mark_batch_sold_books_one_paid_invoice_in_cash(self):
        action = self.batch.action_mark_sold()
        wizard = self.env["isp.voucher.sell"].browse(action["res_id"])
        self.assertEqual(wizard.journal_id, self.cash, "Cash by default")
        self.assertEqual(self.cash.type, "cash")
        self.assertEqual((wizard.count, wizard.amount), (10, 10000))
        wizard.action_confirm()
        move = wizard.move_id
        self.assertEqual(move.move_type, "out_invoice")
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.amount_total, 10000, "the card price, VAT included")
        self.assertEqual(move.amount_untaxed, 8474.58)
        self.assertEqual(move.payment_state, "paid")
        self.assertEqual(move.invoice_line_ids.product_id, self.daily)
        self.assertEqual(move.invoice_line_ids.quantity, 10)
        self.assertEqual(move.partner_id.ref, "ISP-VOUCHER-SALES")
        payment = move.matched_payment_ids
        self.assertEqual(payment.journal_id, self.cash)
        self.assertEqual(payment.amount, 10000)
        vouchers = self.batch.voucher_ids
        self.assertTrue(all(vouchers.mapped("is_sold")))
        self.assertEqual(vouchers.sale_move_id, move)
        self.assertEqual(
            (self.batch.count_sold, self.batch.amount_sold, self.batch.count_sellable),
            (10, 10000, 0),
        )
        self.assertIn(move.name, self.batch.message_ids[0].body)
        self.assertEqual(self._sale_invoices(), move)

    def test_a_shop_sells_part_of_a_batch_then_the_rest(self):
        first = self.batch.voucher_ids.sorted("id")[:3]
        action = first.action_open_sell()
        wizard = self.env["isp.voucher.sell"].browse(action["res_id"])
        wizard.partner_id = self.other_reseller
        wizard.journal_id = self.journal
        wizard.action_confirm()
        self.assertEqual(wizard.move_id.amount_total, 3000)
        self.assertEqual(wizard.move_id.partner_id, self.other_reseller)
        self.assertEqual(wizard.move_id.matched_payment_ids.journal_id, self.journal)
        self.assertEqual((self.batch.count_sold, self.batch.count_sellable), (3, 7))
        rest = self._mark_sold(self.batch)
        self.assertEqual(rest.amount_total, 7000)
        self.assertEqual(self.batch.voucher_ids.sale_move_id, wizard.move_id | rest)
        self.assertEqual(sum(self._sale_invoices().mapped("amount_total")), 10000)
        with self.assertRaisesRegex(UserError, "no code left"):
            self.batch.action_mark_sold()

    def test_marking_sold_twice_books_once(self):
        vouchers = self.batch.voucher_ids
        move = vouchers._sell(self.cash)
        with self.assertRaisesRegex(UserError, "already sold"):
            vouchers._sell(self.cash)
        with self.assertRaisesRegex(UserError, "already sold"):
            vouchers[:1].action_open_sell()
        self.assertEqual(self._sale_invoices(), move)
        # a confirmed wizard confirmed again returns its invoice
        other = self._batch("SHOP-B", 2)
        action = other.action_mark_sold()
        wizard = self.env["isp.voucher.sell"].browse(action["res_id"])
        wizard.action_confirm()
        wizard.action_confirm()
        self.assertEqual(len(other.voucher_ids.sale_move_id), 1)
        self.assertEqual(len(self._sale_invoices()), 2)

    def test_void_codes_and_another_journal_type_are_refused(self):
        voided = self.batch.voucher_ids[:1]
        voided.action_void()
        with self.assertRaisesRegex(UserError, "void"):
            self.batch.voucher_ids._sell(self.cash)
        sales = self.env["account.journal"].search(
            [("type", "=", "sale"), ("company_id", "=", self.company.id)], limit=1
        )
        with self.assertRaisesRegex(UserError, "cash or bank journal"):
            (self.batch.voucher_ids - voided)._sell(sales)
        self.assertFalse(self._sale_invoices(), "nothing was booked")
        # the batch's button leaves the void code out
        self.assertEqual(self._mark_sold(self.batch).amount_total, 9000)

    def test_tax_excluded_bundle_invoices_the_card_price(self):
        vat_excluded = self.env["account.tax"].create(
            {
                "name": "VAT 18% excluded (test)",
                "amount": 18.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "price_include_override": "tax_excluded",
                "company_id": self.company.id,
            }
        )
        bundle = self._bundle("Daily (VAT on top)", 1000, 1, "days")
        bundle.taxes_id = vat_excluded
        batch = self._batch("SHOP-VAT", 4, bundle=bundle, price=1180)
        move = self._mark_sold(batch)
        self.assertEqual(move.amount_total, 4720, "what the four cards say")
        self.assertEqual(move.amount_untaxed, 4000)
        self.assertEqual(move.payment_state, "paid")

    def test_reseller_codes_are_already_invoiced(self):
        purchase = self._buy(self.reseller, 5, "sold-1")
        batch = purchase.batch_id
        self.assertTrue(batch.bought_by_reseller)
        self.assertTrue(all(batch.voucher_ids.mapped("is_sold")))
        self.assertEqual(batch.voucher_ids.sale_move_id, purchase.invoice_id)
        self.assertEqual((batch.count_sold, batch.count_sellable), (5, 0))
        with self.assertRaisesRegex(UserError, "already sold"):
            batch.voucher_ids._sell(self.cash)
        with self.assertRaises(UserError):
            batch.action_mark_sold()
        # a batch staff made for a reseller (not bought from its balance) can be sold to it
        consigned = self._batch("CONSIGNED", 2, reseller_id=self.reseller.id)
        self.assertFalse(consigned.bought_by_reseller)
        move = self._mark_sold(consigned)
        self.assertEqual(move.partner_id, self.reseller)

    def test_redeeming_a_sold_code_books_nothing_more(self):
        move = self._mark_sold(self.batch)
        moves_before = self.env["account.move"].search_count([])
        code = self.batch.voucher_ids[0].code
        purchase = self.env["isp.voucher"]._redeem(code, "0712345678")
        self.assertFalse(purchase.invoice_id)
        self.assertEqual(self.env["account.move"].search_count([]), moves_before, "no invoice")
        self.assertEqual(purchase.subscription_id.state, "active")
        self.assertEqual(
            self._revenue(),
            {"voucher_sale": move.amount_total, "voucher": 0},
            "the sale counts, its redemption not again",
        )

    def test_revenue_analysis_counts_each_voucher_once_and_agrees_with_the_books(self):
        sold = self._mark_sold(self.batch)
        purchase = self._buy(self.reseller, 5, "sold-2")
        unsold = self._batch("GIVEAWAY", 1)
        Voucher = self.env["isp.voucher"]
        Voucher._redeem(self.batch.voucher_ids[0].code, "0712000001")
        Voucher._redeem(purchase.batch_id.voucher_ids[0].code, "0712000002")
        Voucher._redeem(unsold.voucher_ids.code, "0712000003")
        revenue = self._revenue()
        self.assertEqual(
            revenue,
            {
                # the cash sale and the reseller's purchase, as invoiced
                "voucher_sale": sold.amount_total + purchase.invoice_id.amount_total,
                # a code never recorded as sold counts at its redemption, as before
                "voucher": 1000,
            },
        )
        self.assertEqual(purchase.invoice_id.amount_total, 4500, "face value less 10%")
        books = sum(self._sale_invoices().mapped("amount_total"))
        self.assertEqual(revenue["voucher_sale"], books)
        by_reseller = self._revenue(
            [("source", "=", "voucher_sale"), ("reseller_id", "=", self.reseller.id)]
        )
        self.assertEqual(by_reseller, {"voucher_sale": 4500})
        # a sale invoice cancelled by the accountant is not revenue any more; the code's
        # redemption counts again
        sold.button_draft()
        sold.button_cancel()
        self.assertEqual(self._revenue(), {"voucher_sale": 4500, "voucher": 2000})


@tagged("post_install", "-at_install")
class TestVoucherSoldAccess(VoucherSoldCase):
    def test_isp_user_records_a_sale_as_the_desk_does(self):
        env = self.env(user=self.clerk)
        move = self._mark_sold(self.batch, env=env)
        self.assertEqual(move.payment_state, "paid")
        self.assertEqual(move.amount_total, 10000)
        batch = self.batch.with_env(env)
        self.assertEqual(batch.count_sold, 10)
        self.assertTrue(batch.voucher_ids[0].is_sold)
        # the invoice link is for accountants
        self.assertNotIn("sale_move_id", env["isp.voucher"].fields_get())
        self.assertIn(self.clerk.name, self.batch.message_ids[0].body)

    def test_portal_reseller_and_staff_without_isp_rights_cannot_sell(self):
        reseller_user = self.reseller.user_ids[:1]
        purchase = self._buy(self.reseller, 2, "sold-3")
        vouchers = purchase.batch_id.voucher_ids.with_user(reseller_user)
        with self.assertRaises(AccessError):
            vouchers._sell(self.cash)
        with self.assertRaises(AccessError):
            self.env["isp.voucher.sell"].with_user(reseller_user).create(
                {"company_id": self.company.id, "journal_id": self.cash.id}
            )
        employee = new_test_user(
            self.env,
            login="plain_employee",
            groups="base.group_user",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        with self.assertRaises(AccessError):
            self.batch.voucher_ids.with_user(employee)._sell(self.cash)
        self.assertFalse(self.batch.voucher_ids.sale_move_id)

    def test_another_companys_staff_cannot_sell_these_codes(self):
        other = self.env["res.company"].create({"name": "Other ISP (sold)"})
        stranger = new_test_user(
            self.env,
            login="other_desk",
            groups="isp_billing.group_isp_user",
            company_id=other.id,
            company_ids=[Command.set(other.ids)],
        )
        with self.assertRaises(AccessError):
            self.batch.voucher_ids.with_user(stranger)._sell(self.cash)
        self.assertFalse(self.batch.voucher_ids.sale_move_id)
