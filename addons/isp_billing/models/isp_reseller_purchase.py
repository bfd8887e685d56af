import logging

from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.exceptions import ConcurrencyError, UserError
from odoo.fields import Domain

_logger = logging.getLogger(__name__)

MAX_QUANTITY = 1000


class IspResellerPurchase(models.Model):
    """A voucher batch bought by a reseller from its prepaid balance.

    The balance is accounting: what the reseller paid in (online payments, payments staff
    record) is an unreconciled credit on its receivable account; a purchase is a posted
    invoice at the reseller price (the commission as a discount) reconciled with that credit.
    ``UNIQUE(reseller_id, request_key)`` makes each purchase request debit at most once, and
    the reseller's row lock serialises purchases, so two requests cannot spend the same
    money.
    """

    _name = "isp.reseller.purchase"
    _description = "ISP Reseller Voucher Purchase"
    _order = "id desc"
    _rec_name = "batch_id"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    reseller_id = fields.Many2one(
        "res.partner", required=True, index=True, readonly=True, ondelete="restrict"
    )
    request_key = fields.Char(
        required=True, readonly=True, copy=False, help="The purchase request's idempotency key."
    )
    user_id = fields.Many2one("res.users", string="Bought By", readonly=True)
    date = fields.Datetime(default=fields.Datetime.now, required=True, readonly=True)
    bundle_id = fields.Many2one("product.product", required=True, readonly=True)
    quantity = fields.Integer(required=True, readonly=True)
    unit_price = fields.Monetary(string="Face Value", readonly=True, help="Price of one code.")
    commission_percent = fields.Float(string="Commission (%)", digits=(5, 2), readonly=True)
    amount_face = fields.Monetary(string="Face Total", readonly=True)
    amount = fields.Monetary(string="Paid", readonly=True, help="Debited from the balance.")
    amount_commission = fields.Monetary(string="Commission", readonly=True)
    batch_id = fields.Many2one("isp.voucher.batch", readonly=True, index=True)
    invoice_id = fields.Many2one("account.move", readonly=True, index="btree_not_null")

    _request_unique = models.Constraint(
        "UNIQUE(reseller_id, request_key)", "This purchase request was already made."
    )
    _quantity_positive = models.Constraint("CHECK(quantity > 0)", "Buy at least one voucher.")

    @api.model
    def _buy(self, reseller, bundle, quantity, request_key):
        """Buy ``quantity`` vouchers of ``bundle`` for ``reseller`` from its balance, once per
        ``request_key``. Returns the purchase (the existing one for a repeated key).

        :raise UserError: bad input or a short balance (nothing is changed)
        :raise ConcurrencyError: a concurrent purchase of the same reseller; Odoo's request
            retry then runs this again on a fresh snapshot.
        """
        request_key = (request_key or "").strip()[:64]
        if not request_key:
            raise UserError(self.env._("This purchase request has no key; reload the page."))
        reseller = reseller.commercial_partner_id
        if not reseller.isp_is_reseller:
            raise UserError(self.env._("Only resellers can buy voucher batches."))
        existing = self.search(
            [("reseller_id", "=", reseller.id), ("request_key", "=", request_key)], limit=1
        )
        if existing:
            return existing
        company = reseller.company_id or self.env.company
        try:
            quantity = int(quantity)
        except (TypeError, ValueError):
            quantity = 0
        if not 0 < quantity <= MAX_QUANTITY:
            raise UserError(
                self.env._("Buy from 1 to %(max)s vouchers at a time.", max=MAX_QUANTITY)
            )
        if bundle not in reseller._isp_reseller_bundles():
            raise UserError(self.env._("Choose one of the bundles offered."))

        # Serialise this reseller's purchases: a concurrent one fails here and is retried
        # after this one, seeing its debit (and its key).
        reseller._isp_lock()
        try:
            # one savepoint: a refusal (short balance) leaves no row, invoice or batch behind
            with self.env.cr.savepoint():
                purchase = self.create(
                    {
                        "company_id": company.id,
                        "reseller_id": reseller.id,
                        "request_key": request_key,
                        "user_id": self.env.uid,
                        "bundle_id": bundle.id,
                        "quantity": quantity,
                        "unit_price": bundle.lst_price,
                        "commission_percent": reseller.isp_reseller_commission_percent,
                    }
                )
                purchase.flush_recordset()
                purchase._pay_from_balance()
                purchase._make_batch()
        except pg_errors.UniqueViolation as exc:
            raise ConcurrencyError(
                f"reseller purchase {request_key} made by a concurrent transaction"
            ) from exc
        _logger.info(
            "Reseller %s bought %s x %s for %s (purchase %s)",
            reseller.id,
            quantity,
            bundle.display_name,
            purchase.amount,
            purchase.id,
        )
        return purchase

    def _pay_from_balance(self):
        """Invoice the vouchers at the reseller price and pay the invoice with the reseller's
        credit; refuse (UserError) when the balance is short."""
        self.ensure_one()
        reseller = self.reseller_id
        currency = self.company_id.currency_id
        move = (
            self.env["account.move"]
            .sudo()
            .with_company(self.company_id)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": reseller.id,
                    "company_id": self.company_id.id,
                    "invoice_origin": self.env._("Voucher purchase %(id)s", id=self.id),
                    "invoice_line_ids": [
                        fields.Command.create(
                            {
                                "product_id": self.bundle_id.id,
                                "quantity": self.quantity,
                                "price_unit": self.unit_price,
                                "discount": self.commission_percent,
                            }
                        )
                    ],
                }
            )
        )
        balance = reseller._isp_reseller_balance_amount(self.company_id)
        if currency.compare_amounts(balance, move.amount_total) < 0:
            raise UserError(
                self.env._(
                    "Your balance is %(balance)s but %(quantity)s vouchers cost %(amount)s: "
                    "top up first.",
                    balance=currency.format(balance),
                    quantity=self.quantity,
                    amount=currency.format(move.amount_total),
                )
            )
        move.action_post()
        receivable = move.line_ids.filtered(lambda line: line.display_type == "payment_term")
        credits = (
            self.env["account.move.line"]
            .sudo()
            .search(
                reseller._isp_reseller_ledger_domain(self.company_id)
                & Domain("account_id", "in", receivable.account_id.ids)
                & Domain("reconciled", "=", False)
                & Domain("amount_residual", "<", 0)
                & Domain("move_id", "!=", move.id),
                order="date, id",
            )
        )
        (receivable + credits).reconcile()
        face = currency.round(self.unit_price * self.quantity)
        self.write(
            {
                "invoice_id": move.id,
                "amount": move.amount_total,
                "amount_face": face,
                "amount_commission": face - move.amount_total,
            }
        )

    def _make_batch(self):
        self.ensure_one()
        batch = (
            self.env["isp.voucher.batch"]
            .sudo()
            .with_company(self.company_id)
            .create(
                {
                    "company_id": self.company_id.id,
                    "bundle_id": self.bundle_id.id,
                    "price": self.unit_price,
                    "quantity": self.quantity,
                    "reseller_id": self.reseller_id.id,
                    "notes": self.env._(
                        "Bought by reseller %(reseller)s (purchase %(id)s).",
                        reseller=self.reseller_id.display_name,
                        id=self.id,
                    ),
                }
            )
        )
        batch.action_generate()
        # the codes' money is booked by the purchase invoice: never sold or invoiced again
        batch._book_sale(self.invoice_id)
        self.batch_id = batch

    # ------------------------------------------------------------------ reseller portal

    @api.model
    def _reseller_sales(self, reseller, months=12):
        """Per month (newest first): purchases, vouchers bought, face value, paid, commission,
        and codes redeemed with their face value. Read as the caller (record rules apply)."""
        reseller = reseller.commercial_partner_id
        rows = {}

        def row(month):
            return rows.setdefault(
                month,
                {
                    "month": month,
                    "purchases": 0,
                    "quantity": 0,
                    "amount_face": 0.0,
                    "amount": 0.0,
                    "amount_commission": 0.0,
                    "redeemed": 0,
                    "redeemed_value": 0.0,
                },
            )

        for month, count, quantity, face, paid, commission in self._read_group(
            [("reseller_id", "=", reseller.id)],
            ["date:month"],
            [
                "__count",
                "quantity:sum",
                "amount_face:sum",
                "amount:sum",
                "amount_commission:sum",
            ],
        ):
            values = row(month)
            values.update(
                purchases=count,
                quantity=quantity,
                amount_face=face,
                amount=paid,
                amount_commission=commission,
            )
        for month, count, value in self.env["isp.voucher"]._read_group(
            [("reseller_id", "=", reseller.id), ("state", "=", "redeemed")],
            ["date_redeemed:month"],
            ["__count", "price:sum"],
        ):
            values = row(month)
            values.update(redeemed=count, redeemed_value=value)
        return sorted(rows.values(), key=lambda r: r["month"], reverse=True)[:months]

    @api.model
    def _reseller_customers(self, reseller, limit=200):
        """The customers who redeemed this reseller's codes: name, masked phone, codes
        redeemed and the last redemption, most recent first."""
        reseller = reseller.commercial_partner_id
        # who redeemed is staff-only on isp.voucher: read here for this reseller's codes only,
        # and handed out masked
        rows = (
            self.env["isp.voucher"]
            .sudo()
            ._read_group(
                [
                    ("reseller_id", "=", reseller.id),
                    ("state", "=", "redeemed"),
                    ("partner_id", "!=", False),
                ],
                ["partner_id"],
                ["__count", "date_redeemed:max"],
                order="date_redeemed:max desc",
                limit=limit,
            )
        )
        return [
            {
                "name": partner.sudo().name,
                "phone": self._mask_phone(partner.sudo().phone),
                "count": count,
                "last": last,
            }
            for partner, count, last in rows
        ]

    @staticmethod
    def _mask_phone(phone):
        phone = phone or ""
        if len(phone) <= 7:
            return phone
        return phone[:6] + "*" * (len(phone) - 9) + phone[-3:]
