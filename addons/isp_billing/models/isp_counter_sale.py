import re

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

PAYMENT_METHODS = [
    ("cash", "Cash"),
    ("mobile_money", "M-Pesa / Mobile Money"),
    ("unpaid", "Not Paid Yet"),
    ("grant", "Free Grant"),
]
# what a mobile-money receipt code may hold once spaces are removed and letters upper-cased
# (M-Pesa: 10 letters and digits; Airtel Money and Tigo Pesa write dots and dashes)
RECEIPT_CODE = re.compile(r"[A-Z0-9][A-Z0-9./-]{3,39}")


class IspCounterSale(models.Model):
    """A bundle sold (or granted) at the counter in one screen: the customer by phone
    (found, or created from a name), the bundle at its customer price, how the money was
    received. Confirming gives the access and the accounting through the one fulfilment
    (``isp.purchase._fulfil``), exactly once per sale; the sale stays as the counter's log
    (who sold what, how it was paid, the mobile-money receipt code) and prints the receipt
    (isp_counter_sale_receipt.py)."""

    _name = "isp.counter.sale"
    _description = "Counter Sale"
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(
        string="Reference",
        readonly=True,
        copy=False,
        default=lambda self: self.env._("Draft"),
        help="The purchase's reference, given at confirmation.",
    )
    state = fields.Selection(
        [("draft", "Draft"), ("done", "Done")], default="draft", required=True, readonly=True
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    user_id = fields.Many2one(
        "res.users",
        string="Sold By",
        readonly=True,
        default=lambda self: self.env.user,
        help="The staff member who recorded the sale.",
    )
    phone = fields.Char(required=True, help="The customer's mobile number, in any spelling.")
    phone_error = fields.Char(compute="_compute_phone_error")
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        compute="_compute_partner_id",
        store=True,
        readonly=True,
        check_company=True,
        index="btree_not_null",
        help="The company's ISP customer with this phone number; created from the name at "
        "confirmation when there is none.",
    )
    customer_name = fields.Char(help="Name of a new customer.")
    bundle_id = fields.Many2one(
        "product.product",
        required=True,
        check_company=True,
        domain="[('is_isp_bundle', '=', True), ('company_id', '=', company_id)]",
    )
    price = fields.Monetary(
        compute="_compute_price",
        help="What the customer pays for the bundle, taxes included.",
    )
    price_error = fields.Char(compute="_compute_price")
    payment_method = fields.Selection(
        PAYMENT_METHODS,
        string="Payment",
        required=True,
        default="cash",
        help="Cash: paid now in the company's Cash journal. M-Pesa / Mobile Money: paid now "
        "into the chosen journal, with the receipt code. Not Paid Yet: the invoice is left "
        "to be paid. Free Grant: no invoice.",
    )
    mobile_journal = fields.Selection(
        selection="_selection_mobile_journal",
        string="Received In",
        default=lambda self: self._default_mobile_journal(),
        help="The company's bank or mobile-money journal the money was received in.",
    )
    receipt_code = fields.Char(
        copy=False,
        help="The mobile-money receipt code (e.g. the M-Pesa confirmation code): the payment's "
        "memo; a code is recorded once per company.",
    )
    journal_id = fields.Many2one(
        "account.journal",
        string="Paid Through",
        readonly=True,
        check_company=True,
        help="The journal the payment was registered in.",
    )
    payment_id = fields.Many2one(
        "account.payment", string="Payment Entry", readonly=True, copy=False
    )
    purchase_id = fields.Many2one("isp.purchase", readonly=True, copy=False, index=True)
    subscription_id = fields.Many2one(related="purchase_id.subscription_id")
    invoice_id = fields.Many2one(related="purchase_id.invoice_id", string="Invoice")
    payment_state = fields.Selection(related="purchase_id.invoice_payment_state")
    amount = fields.Monetary(
        readonly=True, help="The amount invoiced, taxes included (nothing for a free grant)."
    )
    date_done = fields.Datetime(string="Sold On", readonly=True, copy=False)
    date_end = fields.Datetime(related="purchase_id.date_end", string="Access Until")

    _receipt_code_unique = models.UniqueIndex(
        "(company_id, receipt_code) WHERE receipt_code IS NOT NULL AND state = 'done'",
        "This receipt code was already recorded: a mobile-money payment is counted once.",
    )

    # ------------------------------------------------------------------ defaults

    @api.model
    def default_get(self, fields_list):
        """Override of base: a sale opened from a customer or a subscription (context
        ``default_partner_id``) starts from that customer's phone."""
        values = super().default_get(fields_list)
        partner_id = self.env.context.get("default_partner_id")
        if partner_id and "phone" in fields_list and not values.get("phone"):
            values["phone"] = self.env["res.partner"].browse(partner_id).phone or False
        return values

    def _mobile_journals(self, company=None):
        """The company's bank journals (M-Pesa, other mobile money, bank), as superuser:
        desk staff choose one without reading accounting."""
        company = company or self.env.company
        return (
            self.env["account.journal"]
            .sudo()
            .search(
                [("type", "=", "bank"), ("company_id", "=", company.id)],
                order="sequence, id",
            )
        )

    @api.model
    def _selection_mobile_journal(self):
        return [(str(journal.id), journal.name) for journal in self._mobile_journals()]

    @api.model
    def _default_mobile_journal(self):
        """The journal of this company's last mobile-money counter sale, else its first bank
        journal."""
        last = (
            self.sudo()
            .search(
                [
                    ("company_id", "=", self.env.company.id),
                    ("state", "=", "done"),
                    ("payment_method", "=", "mobile_money"),
                ],
                limit=1,
            )
            .journal_id
        )
        journals = self._mobile_journals()
        journal = last if last in journals else journals[:1]
        return str(journal.id) if journal else False

    # ------------------------------------------------------------------ computes

    def _phone_e164(self):
        """(E.164 number, error message) of the typed phone."""
        try:
            return (
                self.env["res.partner"]._isp_normalize_phone(
                    self.phone, self.company_id.country_id
                ),
                None,
            )
        except ValidationError as error:
            return None, error.args[0]

    @api.depends("phone", "company_id", "state")
    def _compute_phone_error(self):
        for sale in self:
            sale.phone_error = sale.phone and sale.state == "draft" and sale._phone_e164()[1]

    @api.depends("phone", "company_id", "state")
    def _compute_partner_id(self):
        Partner = self.env["res.partner"]
        for sale in self:
            if sale.state == "done":
                continue
            e164 = sale.phone and sale._phone_e164()[0]
            sale.partner_id = e164 and Partner.search(
                [
                    ("is_isp_customer", "=", True),
                    ("company_id", "=", sale.company_id.id),
                    ("phone", "=", e164),
                ],
                limit=1,
            )

    @api.depends("bundle_id", "partner_id", "company_id")
    def _compute_price(self):
        for sale in self:
            sale.price = 0.0
            sale.price_error = False
            if not sale.bundle_id:
                continue
            try:
                sale.price = sale.bundle_id._isp_customer_price(sale.partner_id, sale.company_id)[0]
            except UserError as error:
                sale.price_error = error.args[0]

    # ------------------------------------------------------------------ checks

    @api.model
    def _normalize_receipt_code(self, code):
        return re.sub(r"\s+", "", code or "").upper()

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("receipt_code"):
                vals["receipt_code"] = self._normalize_receipt_code(vals["receipt_code"])
        return super().create(vals_list)

    def write(self, vals):
        """Override of base: a sale done is the counter's record of money received; it is not
        edited (a mistake is corrected in accounting: refund the invoice)."""
        if self.filtered(lambda s: s.state == "done") and not self.env.context.get(
            "isp_counter_sale_confirm"
        ):
            raise UserError(self.env._("A confirmed counter sale cannot be changed."))
        if vals.get("receipt_code"):
            vals["receipt_code"] = self._normalize_receipt_code(vals["receipt_code"])
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_drafts(self):
        if self.filtered(lambda s: s.state == "done"):
            raise UserError(self.env._("A confirmed counter sale cannot be deleted."))

    def _receipt_code_used(self, code):
        """Where the company already recorded the mobile-money receipt ``code`` (a text for
        the message), or None: a confirmed counter sale, a payment whose memo it is, an
        online payment whose provider reference it is. Modules knowing other records of
        receipts extend this."""
        self.ensure_one()
        company = self.company_id
        sale = self.sudo().search(
            [
                ("company_id", "=", company.id),
                ("state", "=", "done"),
                ("receipt_code", "=", code),
                ("id", "!=", self.id),
            ],
            limit=1,
        )
        if sale:
            return self.env._(
                "counter sale %(sale)s of %(date)s", sale=sale.name, date=sale.date_done_local
            )
        payment = (
            self.env["account.payment"]
            .sudo()
            .search(
                [
                    ("company_id", "=", company.id),
                    ("memo", "=ilike", code),
                    ("state", "!=", "canceled"),
                ],
                limit=1,
            )
        )
        if payment:
            return self.env._("payment %(payment)s", payment=payment.name)
        transaction = (
            self.env["payment.transaction"]
            .sudo()
            .search(
                [("company_id", "=", company.id), ("provider_reference", "=ilike", code)],
                limit=1,
            )
        )
        if transaction:
            return self.env._("online payment %(reference)s", reference=transaction.reference)
        return None

    def _check_confirmable(self):
        """Refuse a sale that cannot be confirmed, with what to fix."""
        self.ensure_one()
        if self.phone_error:
            raise ValidationError(self.phone_error)
        if not self.partner_id and not (self.customer_name or "").strip():
            raise ValidationError(
                self.env._(
                    "No customer has the number %(phone)s yet: type the new customer's name.",
                    phone=self.phone,
                )
            )
        if self.payment_method != "grant" and self.price_error:
            raise UserError(self.price_error)
        if self.payment_method == "mobile_money":
            code = self.receipt_code
            if not code:
                raise ValidationError(
                    self.env._("Type the mobile-money receipt code from the customer's SMS.")
                )
            if not RECEIPT_CODE.fullmatch(code):
                raise ValidationError(
                    self.env._(
                        "%(code)s is not a mobile-money receipt code (letters and digits, "
                        "e.g. QJK4XYZ123).",
                        code=code,
                    )
                )
            used = self._receipt_code_used(code)
            if used:
                raise ValidationError(
                    self.env._(
                        "Receipt code %(code)s was already recorded (%(where)s): a "
                        "mobile-money payment is counted once. Check the code on the "
                        "customer's SMS.",
                        code=code,
                        where=used,
                    )
                )
            if not self._payment_journal():
                raise ValidationError(
                    self.env._("Choose the journal the mobile money was received in.")
                )

    def _payment_journal(self):
        """The journal the money is registered in: the company's Cash journal (created when
        missing) or the chosen bank / mobile-money journal of the company."""
        if self.payment_method == "cash":
            return self.company_id._isp_cash_journal()
        if self.payment_method == "mobile_money" and self.mobile_journal:
            journal = self._mobile_journals(self.company_id).filtered(
                lambda j: str(j.id) == self.mobile_journal
            )
            return journal
        return self.env["account.journal"]

    # ------------------------------------------------------------------ confirmation

    def _lock(self):
        """Take this sale's row lock: a second confirmation (a double click, two tabs) waits
        for the first, then fails with a serialization error that Odoo retries with a fresh
        snapshot, where it finds the sale done."""
        self.flush_recordset()
        self.env.cr.execute(
            SQL("SELECT id FROM isp_counter_sale WHERE id IN %s FOR UPDATE", tuple(self.ids))
        )
        self.invalidate_recordset()

    def action_confirm(self):
        """Give the access, record the money and keep the sale, once."""
        self.ensure_one()
        self.check_access("write")
        self._lock()
        if self.state == "done":
            return self._action_open()
        self._check_confirmable()
        company = self.company_id
        partner = self.partner_id or self.env["res.partner"]._isp_find_or_create_customer(
            self.phone, company, name=(self.customer_name or "").strip() or None
        )
        self.bundle_id.check_access("read")
        reference = self.env["ir.sequence"].next_by_code("isp.manual")
        payment = self.env["account.payment"]
        journal = self.env["account.journal"]
        price = None
        if self.payment_method in ("cash", "mobile_money"):
            price = self.bundle_id._isp_customer_price(partner, company)[0]
            journal = self._payment_journal()
            payment = self._create_payment(partner, journal, price, reference)
        # No group may create purchases (only the fulfilment writes them) and desk staff need
        # not be accountants: the fulfilment runs as superuser from this back-office entry
        # point, for a customer and a bundle the user can read, in the sale's company.
        purchase = (
            self.env["isp.purchase"]
            .sudo()
            .with_company(company)
            ._fulfil(
                partner.sudo(),
                self.bundle_id.sudo(),
                "manual",
                reference,
                amount=price,
                payment=payment or None,
                invoice=self.payment_method != "grant",
            )
        )
        mobile_money = self.payment_method == "mobile_money"
        self.with_context(isp_counter_sale_confirm=True).write(
            {
                "state": "done",
                "name": reference,
                "partner_id": partner.id,
                "purchase_id": purchase.id,
                "journal_id": journal.id,
                "payment_id": payment.id,
                "amount": purchase.amount,
                "date_done": fields.Datetime.now(),
                "receipt_code": self.receipt_code if mobile_money else False,
            }
        )
        return self._action_open()

    def _create_payment(self, partner, journal, amount, reference):
        """The posted customer payment of ``amount`` received in ``journal``; its memo is
        the mobile-money receipt code (or the sale's reference for cash)."""
        memo = self.receipt_code if self.payment_method == "mobile_money" else reference
        payment = (
            self.env["account.payment"]
            .sudo()
            .with_company(self.company_id)
            .create(
                {
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": partner.id,
                    "amount": amount,
                    "currency_id": self.company_id.currency_id.id,
                    "journal_id": journal.id,
                    "company_id": self.company_id.id,
                    "date": fields.Date.context_today(self),
                    "memo": memo,
                }
            )
        )
        payment.action_post()
        return payment

    # ------------------------------------------------------------------ UI

    def _action_open(self):
        """What the button returns: on the counter screen nothing (the form shows the sale
        done); in a dialog, the sale done in the dialog again (with its receipt button)."""
        if self.env.context.get("isp_counter_sale_target") != "new":
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"isp_counter_sale_target": "new"},
        }

    def action_new_sale(self):
        """An empty counter sale, for the next customer."""
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

    def action_view_subscription(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "isp.subscription",
            "res_id": self.subscription_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }
