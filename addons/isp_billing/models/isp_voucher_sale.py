"""A voucher's money in the books: the cash sale of printed cards ("Mark as Sold"), invoiced
and paid at once, and the fields saying a code's money is booked."""

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

# The partner cash sales of cards are invoiced to when no buyer is named (one per company).
SALE_PARTNER_REF = "ISP-VOUCHER-SALES"


class IspVoucherSale(models.Model):
    _inherit = "isp.voucher"  # pylint: disable=consider-merging-classes-inherited

    # The code's money in the books: the posted customer invoice that sold it, a cash sale
    # ("Mark as Sold", ``_sell``) or a reseller's purchase (``isp.reseller.purchase``). A code
    # has one at most: its money is booked once, never again on redemption.
    sale_move_id = fields.Many2one(
        "account.move",
        string="Sale Invoice",
        readonly=True,
        copy=False,
        index="btree_not_null",
        groups="account.group_account_invoice",
    )
    is_sold = fields.Boolean(
        string="Sold",
        readonly=True,
        copy=False,
        help="Its money is booked: sold for cash (Mark as Sold) or bought by a reseller.",
    )
    date_sold = fields.Datetime(string="Sold On", readonly=True, copy=False)

    def action_open_sell(self):
        """Vouchers list: Mark as Sold for the selected codes."""
        return self.env["isp.voucher.sell"]._open(self)

    def _sell(self, journal, partner=None):
        """Book the sale of these codes for cash: one posted customer invoice (a line per
        batch: the bundle, the number of codes, the card price taxes included) paid in
        ``journal``, and the codes marked sold. Returns the invoice.

        Exactly once per code: the codes' rows are locked (SELECT ... FOR UPDATE, in id
        order); a concurrent sale or redemption of one of them waits, and once it commits
        this transaction's REPEATABLE READ snapshot is stale: PostgreSQL raises a
        serialization failure and Odoo's ``retrying()`` runs the request again, which then
        refuses the codes already sold. Refused (UserError, nothing changes): void codes,
        codes already sold, codes of a batch bought by a reseller (invoiced to it), codes
        of several companies.

        ISP users may sell (the shop desk, as the counter sale); the accounting runs as
        superuser from here, for codes the user can read.
        """
        if not self:
            raise UserError(self.env._("Select the vouchers that were sold."))
        if not self.env.user.has_group("isp_billing.group_isp_user"):
            raise AccessError(self.env._("Only ISP staff can record voucher sales."))
        self.check_access("read")
        company = self.company_id
        if len(company) != 1:
            raise UserError(self.env._("Sell the vouchers of one company at a time."))
        journal = journal.sudo()
        if journal.company_id != company or journal.type not in ("cash", "bank"):
            raise UserError(
                self.env._("Choose a cash or bank journal of %(company)s.", company=company.name)
            )
        self.flush_model(["sale_move_id", "state"])
        self.env.cr.execute(
            SQL(
                "SELECT id FROM isp_voucher WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
                self.ids,
            )
        )
        vouchers = self.sudo().with_company(company)
        vouchers.invalidate_recordset()
        vouchers._check_sellable()
        partner = (partner or vouchers._sale_partner(company)).sudo()
        move = vouchers._create_sale_invoice(journal, partner)
        vouchers.write(
            {"sale_move_id": move.id, "is_sold": True, "date_sold": fields.Datetime.now()}
        )
        for batch, sold in vouchers.grouped("batch_id").items():
            batch.message_post(
                body=self.env._(
                    "%(count)s codes sold for %(amount)s by %(user)s, paid in %(journal)s "
                    "(invoice %(invoice)s).",
                    count=len(sold),
                    amount=batch.currency_id.format(sum(sold.mapped("price"))),
                    user=self.env.user.name,
                    journal=journal.name,
                    invoice=move.name,
                )
            )
        return move

    def _check_sellable(self):
        sold = self.filtered("is_sold")
        if sold:
            raise UserError(
                self.env._(
                    "%(codes)s already sold: their money is booked (invoice %(invoice)s).",
                    codes=", ".join(sold[:5].mapped("code")),
                    invoice=", ".join(sold.sale_move_id[:3].mapped("name")),
                )
            )
        void = self.filtered(lambda v: v.state == "void")
        if void:
            raise UserError(
                self.env._(
                    "%(codes)s are void: a cancelled card cannot be sold.",
                    codes=", ".join(void[:5].mapped("code")),
                )
            )
        bought = (
            self.env["isp.reseller.purchase"]
            .sudo()
            .search([("batch_id", "in", self.batch_id.ids)], limit=1)
        )
        if bought:
            raise UserError(
                self.env._(
                    "Batch %(batch)s was bought by reseller %(reseller)s and invoiced to it: "
                    "its codes are already paid for.",
                    batch=bought.batch_id.name,
                    reseller=bought.reseller_id.display_name,
                )
            )

    @api.model
    def _sale_partner(self, company):
        """Who cash sales of cards are invoiced to when the buyer is not named: the
        company's "Voucher Sales" customer (made on first use, one per company)."""
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        partner = Partner.search(
            [("ref", "=", SALE_PARTNER_REF), ("company_id", "=", company.id)], limit=1
        )
        if partner:
            return partner
        # Two first sales at once make one partner: the company row is updated, so that a
        # concurrent first sale fails with a serialization error (REPEATABLE READ) and is
        # retried, finding this one's partner.
        self.env.cr.execute(SQL("UPDATE res_company SET id = id WHERE id = %s", company.id))
        return Partner.create(
            {
                "name": self.env._("Voucher Sales (%(company)s)", company=company.name),
                "ref": SALE_PARTNER_REF,
                "company_id": company.id,
                "comment": self.env._("Cash sales of voucher cards to the public."),
            }
        )

    def _create_sale_invoice(self, journal, partner):
        """The posted invoice of these codes' sale, paid in ``journal``. Each line's unit
        price is the card price without the taxes included in it, so that the invoice
        totals what the cards say."""
        company = self.company_id
        Move = self.env["account.move"].sudo().with_company(company)
        lines = []
        for (batch, price), vouchers in self.grouped(lambda v: (v.batch_id, v.price)).items():
            bundle = vouchers.bundle_id[:1]
            lines.append(
                fields.Command.create(
                    {
                        "product_id": bundle.id,
                        "name": self.env._(
                            "%(bundle)s voucher cards, batch %(batch)s",
                            bundle=bundle.display_name,
                            batch=batch.name,
                        ),
                        "quantity": len(vouchers),
                        "price_unit": self._untaxed_unit_price(bundle, price, partner, company),
                    }
                )
            )
        move = Move.create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "company_id": company.id,
                "invoice_origin": ", ".join(self.batch_id.mapped("name"))[:200],
                "ref": self.env._("Voucher cards"),
                "invoice_line_ids": lines,
            }
        )
        move.action_post()
        self.env["account.payment.register"].sudo().with_company(company).with_context(
            active_model="account.move", active_ids=move.ids
        ).create(
            {
                "journal_id": journal.id,
                "payment_date": fields.Date.context_today(self),
                "communication": move.name,
            }
        )._create_payments()
        return move

    @api.model
    def _untaxed_unit_price(self, bundle, price, partner, company):
        """The invoice line unit price that makes one card cost ``price`` taxes included:
        ``price`` itself with no tax or taxes included in the price, else the price
        without the bundle's (excluded) taxes."""
        Tax = self.env["account.tax"].sudo().with_company(company)
        fiscal_position = (
            self.env["account.fiscal.position"]
            .sudo()
            .with_company(company)
            ._get_fiscal_position(partner)
        )
        taxes = bundle.sudo().taxes_id.filtered_domain(Tax._check_company_domain(company))
        if fiscal_position:
            taxes = fiscal_position.map_tax(taxes)
        if not taxes or all(tax.price_include for tax in taxes):
            return price
        base_line = Tax._prepare_base_line_for_taxes_computation(
            None,
            price_unit=price,
            quantity=1.0,
            tax_ids=taxes,
            currency_id=company.currency_id,
            special_mode="total_included",
        )
        Tax._add_tax_details_in_base_line(base_line, company)
        return base_line["tax_details"]["raw_total_excluded_currency"]
