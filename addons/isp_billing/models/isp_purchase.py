import logging
import re

from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.exceptions import ConcurrencyError, UserError

_logger = logging.getLogger(__name__)

SOURCES = [("payment", "Payment"), ("voucher", "Voucher"), ("manual", "Manual")]
# a receipt code as typed, once spaces, dashes and dots are removed and in upper case:
# M-Pesa's are 10 letters and digits (SHJ0VBWRGL); other mobile money's of the same kind
RECEIPT_CODE_RE = re.compile(r"[A-Z0-9]{6,20}")
RECEIPT_IGNORED_RE = re.compile(r"[\s\-.]+")
INVOICE_STATUSES = [
    ("no", "Nothing to Invoice"),
    ("to_invoice", "To Invoice"),
    ("invoiced", "Invoiced"),
]


class IspPurchase(models.Model):
    """One period of access bought (or granted): its (source, reference) pair is unique in
    the database, which makes the fulfilment exactly-once. Invoiced by the fulfilment
    (``invoice=True``), by the paying transaction's post-processing ("To Invoice" until then),
    or not at all (vouchers, free grants). See docs/architecture.md, "Fulfilment"."""

    _name = "isp.purchase"
    _description = "ISP Purchase"
    _order = "id desc"
    _rec_name = "reference"
    _check_company_auto = True

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    source = fields.Selection(SOURCES, required=True, readonly=True)
    reference = fields.Char(required=True, readonly=True, index="trigram")
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, readonly=True
    )
    bundle_id = fields.Many2one("product.product", required=True, readonly=True)
    subscription_id = fields.Many2one(
        "isp.subscription", index=True, readonly=True, ondelete="cascade"
    )
    service_type = fields.Selection(related="subscription_id.service_type", store=True)
    date_start = fields.Datetime(string="Period Start", readonly=True)
    date_end = fields.Datetime(string="Period End", readonly=True)
    renewal = fields.Boolean(
        readonly=True,
        help="Extended a running period (the access was already on), rather than activating "
        "or re-activating the subscription.",
    )
    amount = fields.Monetary(
        readonly=True,
        help="Amount paid (or invoiced) for this period, taxes included; set when access is "
        "given, also while the invoice is still to be issued.",
    )
    invoice_id = fields.Many2one("account.move", readonly=True, index="btree_not_null")
    # stored: the dashboard splits revenue into paid and unpaid by it, also for ISP users
    # who may not read invoices
    invoice_payment_state = fields.Selection(
        related="invoice_id.payment_state", string="Payment Status", store=True
    )
    # "To Invoice" is set by the payment transaction that gave the access (its
    # post-processing issues the invoice); "Invoiced" follows the invoice
    invoice_status = fields.Selection(
        INVOICE_STATUSES,
        compute="_compute_invoice_status",
        store=True,
        precompute=True,
        readonly=False,
        help="To Invoice: paid by a payment (access given), the invoice is not issued yet.",
    )
    invoice_error = fields.Text(
        readonly=True, help="Why the invoice could not be issued at the last attempt."
    )

    _source_reference_unique = models.Constraint(
        "UNIQUE(source, reference)",
        "This payment, voucher or reference has already been used.",
    )

    @api.depends("invoice_id")
    def _compute_invoice_status(self):
        for purchase in self:
            if purchase.invoice_id:
                purchase.invoice_status = "invoiced"
            elif purchase.invoice_status != "to_invoice":
                purchase.invoice_status = "no"

    # ------------------------------------------------------------------ fulfilment

    @api.model
    def _fulfil(
        self,
        partner,
        bundle,
        source,
        reference,
        *,
        amount=None,
        journal=None,
        payment=None,
        invoice=True,
        date=None,
    ):
        """Activate or extend ``partner``'s access for ``bundle``, exactly once per
        (``source``, ``reference``). Every channel calls this: payment, voucher, manual.

        Options (keyword only): ``amount``, ``journal``, ``payment``, ``invoice``, ``date``.

        :param partner: the ISP customer (res.partner)
        :param bundle: the bundle (product.product or product.template)
        :param source: 'payment', 'voucher' or 'manual'
        :param reference: the unique reference of the source (transaction reference,
            voucher code, manual sequence number)
        :param amount: the amount actually paid; with ``invoice``, it must equal the invoice
            total; without, it is recorded on the purchase
        :param journal: journal to register the invoice's payment in (a paid purchase)
        :param payment: an existing posted account.payment to reconcile the invoice with
        :param invoice: ``True``: issue a posted customer invoice for the bundle now;
            ``False``: no invoice in the fulfilment. A payment transaction fulfils without
            invoice, the amount checked against the invoice to be, and issues the invoice in
            its post-processing (``payment.transaction._isp_fulfil_paid``).
        :param date: the moment access starts counting from (default: now)
        :return: the isp.purchase of this reference (the existing one on a repeated call)
        :raise ConcurrencyError: when a concurrent transaction fulfils the same reference or
            the same customer; Odoo's request/cron retry then sees the committed result.
        """
        reference, bundle, company = self._check_fulfilment(
            partner, bundle, source, reference, invoice
        )

        existing = self.search([("source", "=", source), ("reference", "=", reference)], limit=1)
        if existing:
            return existing

        claim = {
            "company_id": company.id,
            "source": source,
            "reference": reference,
            "partner_id": partner.id,
            "bundle_id": bundle.id,
        }

        # Claim the reference first: a concurrent caller with the same reference blocks here
        # until this transaction ends, then fails on the unique constraint.
        try:
            with self.env.cr.savepoint():
                purchase = self.create(claim)
                purchase.flush_recordset()
        except pg_errors.UniqueViolation as exc:
            existing = self.search(
                [("source", "=", source), ("reference", "=", reference)], limit=1
            )
            if existing:
                return existing
            raise ConcurrencyError(
                f"{source} {reference} was fulfilled by a concurrent transaction"
            ) from exc

        Subscription = self.env["isp.subscription"].with_company(company)
        partner._isp_lock()
        start_at = date or fields.Datetime.now()
        subscription, start, end = Subscription._apply_purchase(partner, bundle, start_at)
        vals = {
            "subscription_id": subscription.id,
            "date_start": start,
            "date_end": end,
            # a running period extended: it starts where the previous one ends, not now
            "renewal": start != start_at,
        }
        if invoice:
            move = purchase._create_invoice(amount)
            vals.update(invoice_id=move.id, amount=move.amount_total)
            if payment:
                purchase._reconcile_payment(move, payment)
            elif journal:
                purchase._register_payment(move, journal)
        elif amount:
            vals["amount"] = amount
        purchase.write(vals)
        # a log note for staff: nobody is notified of it
        subscription._message_log(
            body=self.env._(
                "%(channel)s %(reference)s: %(bundle)s, access until %(end)s.",
                channel=dict(SOURCES)[source],
                reference=reference,
                bundle=bundle.display_name,
                end=fields.Datetime.to_string(end),
            )
        )
        purchase._fulfilled()
        return purchase

    @api.model
    def _check_fulfilment(self, partner, bundle, source, reference, invoice):
        """Refuse bad fulfilment input; returns (reference, bundle variant, company)."""
        reference = (reference or "").strip()
        if source not in dict(SOURCES):
            raise UserError(self.env._("Unknown fulfilment source %(name)r.", name=source))
        if not reference:
            raise UserError(self.env._("A fulfilment needs a reference."))
        if not isinstance(invoice, bool):
            raise UserError(self.env._("Unknown invoice option %(value)r.", value=invoice))
        partner.ensure_one()
        bundle = bundle.product_variant_id if bundle._name == "product.template" else bundle
        bundle.ensure_one()
        if not bundle.is_isp_bundle:
            raise UserError(
                self.env._("%(product)s is not an ISP bundle.", product=bundle.display_name)
            )
        if not partner.is_isp_customer:
            raise UserError(
                self.env._("%(partner)s is not an ISP customer.", partner=partner.display_name)
            )
        company = partner.company_id or self.env.company
        if bundle.company_id and bundle.company_id != company:
            raise UserError(
                self.env._(
                    "Bundle %(bundle)s belongs to another company than %(partner)s.",
                    bundle=bundle.display_name,
                    partner=partner.display_name,
                )
            )
        return reference, bundle, company

    @api.model
    def _invoice_total(self, partner, bundle, company):
        """(total, currency) of the invoice ``_create_invoice`` will issue for ``bundle``
        to ``partner``, without creating it: the bundle's customer price
        (``product.product._isp_customer_price``, through the invoice's tax engine). Raises
        a UserError when ``company`` cannot sell the bundle (no company, another currency)."""
        bundle = bundle.product_variant_id if bundle._name == "product.template" else bundle
        return bundle._isp_customer_price(partner, company)

    def _wrong_amount_message(self, reference, bundle, paid, due):
        currency = (self.company_id or bundle.company_id or self.env.company).currency_id
        return self.env._(
            "%(reference)s paid %(paid)s but %(bundle)s costs %(due)s: no access is "
            "given for a partial or wrong amount.",
            reference=reference,
            paid=currency.format(paid),
            bundle=bundle.display_name,
            due=currency.format(due),
        )

    # ------------------------------------------------------------------ claim by receipt

    @api.model
    def _receipt_claim_enabled(self, company):
        """Hook: whether ``company``'s customers can claim access with the receipt code of a
        payment they made to its Paybill/Till (the "I paid by Paybill/Till" form on the
        captive page and the portal). No payment channel here: ``False``. A payment module
        that books such payments (isp_mpesa, C2B confirmations) overrides it."""
        return False

    @api.model
    def _receipt_code(self, text):
        """``text`` as typed by a customer as a receipt code (upper case, spaces, dashes and
        dots removed), or None when it cannot be one: the claim forms refuse it before any
        lookup."""
        if not isinstance(text, str) or len(text) > 64:
            return None
        code = RECEIPT_IGNORED_RE.sub("", text).upper()
        return code if RECEIPT_CODE_RE.fullmatch(code) else None

    @api.model
    def _claim_receipt(self, company, receipt, partner, bundle):
        """Hook: give ``partner`` access for ``bundle`` with the unclaimed payment of
        ``company`` whose receipt code is ``receipt``, once.

        Implemented by a payment module that books Paybill/Till payments (isp_mpesa, C2B):
        the payment must be of ``company``, unclaimed, and of the bundle's price; it is then
        marked claimed and fulfilled (``_fulfil``) exactly once, also under concurrent claims.
        Callers (public pages) call it through ``sudo()``, after their own rate limits.

        :param company: the res.company the payment was made to
        :param receipt: the receipt code the customer typed, as ``_receipt_code`` cleans it
            (e.g. ``SHJ0VBWRGL``)
        :param partner: the ISP customer (res.partner) who gets the access
        :param bundle: the bundle (product.product) the customer chose
        :return: the isp.purchase that gave the access
        :raise UserError: with a message safe to show to the customer; every "no such
            receipt / already claimed / wrong amount / other company" case raises the one
            message "No unclaimed M-Pesa payment of %(amount)s matches this receipt code."
            (no enumeration of receipts)
        """
        raise UserError(self.env._("Paying by receipt is not available."))

    # ------------------------------------------------------------------ invoices

    def _new_invoice(self):
        """A draft customer invoice for the bundle, with the company's taxes on it."""
        self.ensure_one()
        return self._new_invoices()

    def _new_invoices(self):
        """Draft customer invoices for these purchases' bundles, one per purchase (in the
        order of ``self``), created together per company."""
        moves = self.env["account.move"]
        by_id = {}
        for company, purchases in self.grouped("company_id").items():
            created = moves.with_company(company).create(
                [
                    {
                        "move_type": "out_invoice",
                        "partner_id": purchase.partner_id.id,
                        "company_id": company.id,
                        "invoice_origin": purchase.reference,
                        "ref": purchase.reference,
                        "invoice_line_ids": [
                            fields.Command.create(
                                {
                                    "product_id": purchase.bundle_id.id,
                                    "quantity": 1,
                                    "price_unit": purchase.bundle_id.lst_price,
                                }
                            )
                        ],
                    }
                    for purchase in purchases
                ]
            )
            by_id.update(zip(purchases.ids, created, strict=True))
        return moves.concat(*(by_id[purchase.id] for purchase in self))

    def _create_invoice(self, amount=None):
        """A posted customer invoice for the bundle, with the company's taxes on it."""
        self.ensure_one()
        move = self._new_invoice()
        if amount is not None and move.currency_id.compare_amounts(amount, move.amount_total):
            raise UserError(
                self._wrong_amount_message(
                    self.reference, self.bundle_id, amount, move.amount_total
                )
            )
        move.action_post()
        return move

    def _issue_invoice(self):
        """Issue the invoice of this paid purchase: posted, for the amount paid. The caller
        holds the purchase's row lock (the transaction's post-processing)."""
        self.ensure_one()
        return self._issue_invoices()

    def _issue_invoices(self):
        """Issue the invoices of these paid purchases (created and posted together), each
        for the amount paid; returns them in the order of ``self``. A total that differs from
        the amount paid raises (nothing is issued). The caller holds the purchases' row locks
        (the transactions' post-processing)."""
        todo = self.filtered(lambda p: not p.invoice_id)
        if todo:
            moves = todo._new_invoices()
            for purchase, move in zip(todo, moves, strict=True):
                if move.currency_id.compare_amounts(purchase.amount, move.amount_total):
                    raise UserError(
                        self.env._(
                            "The invoice of %(reference)s would total %(total)s but %(paid)s "
                            "was paid (were the bundle's price or taxes changed?). Fix the "
                            "bundle or the taxes, then retry: the invoice must match the "
                            "payment.",
                            reference=purchase.reference,
                            total=move.currency_id.format(move.amount_total),
                            paid=move.currency_id.format(purchase.amount),
                        )
                    )
            moves.action_post()
            for purchase, move in zip(todo, moves, strict=True):
                purchase.write({"invoice_id": move.id, "invoice_error": False})
        return self.env["account.move"].concat(*(purchase.invoice_id for purchase in self))

    def _register_payment(self, move, journal):
        """Pay ``move`` in full through ``journal`` and reconcile it."""
        wizard = (
            self.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create(
                {
                    "journal_id": journal.id,
                    "payment_date": fields.Date.context_today(self),
                    "communication": self.reference,
                }
            )
        )
        return wizard._create_payments()

    def _reconcile_payment(self, move, payment):
        """Reconcile ``move`` with an existing posted payment (e.g. the one Odoo's payment
        flow created for a transaction)."""
        lines = (move.line_ids + payment.move_id.line_ids).filtered(
            lambda line: line.account_id
            == move.line_ids.filtered(lambda m: m.display_type == "payment_term")[:1].account_id
            and not line.reconciled
        )
        lines.reconcile()

    def _fulfilled(self):
        """Hook called once per new purchase, after the subscription was activated or
        extended (isp_sms sends the confirmation here). Must not fail the fulfilment."""
        _logger.info(
            "ISP fulfilment %s %s: subscription %s until %s",
            self.source,
            self.reference,
            self.subscription_id.name,
            self.date_end,
        )

    # ------------------------------------------------------------------ invoicing errors

    def _invoice_failed(self, error):
        """Record why this purchase's invoice could not be issued, for staff (the
        transaction's post-processing retries it)."""
        self.ensure_one()
        message = (error.args[0] if isinstance(error, UserError) and error.args else None) or (
            f"{type(error).__name__}: {error}"
        )
        _logger.warning(
            "Invoice of %s %s not issued (retried by the post-processing): %s",
            self.source,
            self.reference,
            message,
            exc_info=not isinstance(error, UserError),
        )
        self.invoice_error = message

    # ------------------------------------------------------------------ UI

    def action_isp_retry_invoicing(self):
        """Staff: issue the invoice now (after fixing what the error said), through the
        post-processing of the transaction that paid it, as Odoo's cron would."""
        if not self.env.user.has_group("account.group_account_invoice"):
            raise UserError(self.env._("Only invoicing users can issue invoices."))
        self.check_access("read")
        purchases = self.sudo().filtered(lambda p: p.invoice_status == "to_invoice")
        transactions = (
            self.env["payment.transaction"]
            .sudo()
            .search([("isp_purchase_id", "in", purchases.ids), ("state", "=", "done")])
        )
        transactions._post_process()
        failed = purchases.filtered(lambda p: p.invoice_status == "to_invoice")
        if failed:
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "type": "danger",
                    "message": failed[0].invoice_error
                    or self.env._("Being invoiced right now; refresh in a moment."),
                    "sticky": False,
                },
            }
        return True
