import logging
from datetime import timedelta

import psycopg2
from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.exceptions import ConcurrencyError, UserError
from odoo.fields import Domain

_logger = logging.getLogger(__name__)

SOURCES = [("payment", "Payment"), ("voucher", "Voucher"), ("manual", "Manual")]
INVOICE_STATUSES = [
    ("no", "Nothing to Invoice"),
    ("to_invoice", "To Invoice"),
    ("invoiced", "Invoiced"),
]
# invoice option of the fulfilment: access now, invoice (and payment) by the invoicing job
DEFERRED = "deferred"
# retries of a failed deferred invoice: 1 minute, doubling, at most 6 hours apart
RETRY_FIRST = 60
RETRY_MAX = 6 * 3600


class IspPurchase(models.Model):
    """One period of access bought (or granted): the record that makes fulfilment exactly-once.

    Its (source, reference) pair is unique in the database, so a payment, a voucher code or a
    manual grant can add at most one period, whatever the number of concurrent callers.
    """

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
    invoice_payment_state = fields.Selection(
        related="invoice_id.payment_state", string="Payment Status"
    )
    invoice_deferred = fields.Boolean(
        readonly=True,
        help="Access was given at once; the invoice (and its payment) is issued by the "
        "invoicing job.",
    )
    invoice_status = fields.Selection(
        INVOICE_STATUSES,
        compute="_compute_invoice_status",
        store=True,
        precompute=True,
        help="To Invoice: paid (access given), the invoice is not issued yet.",
    )
    invoice_error = fields.Text(
        readonly=True, help="Why the invoice could not be issued at the last attempt."
    )
    invoice_attempts = fields.Integer(readonly=True)
    invoice_next_try = fields.Datetime(string="Next Invoicing Attempt", readonly=True)
    payment_journal_id = fields.Many2one(
        "account.journal",
        readonly=True,
        help="Deferred invoice: register its payment in this journal once issued.",
    )
    payment_id = fields.Many2one(
        "account.payment",
        readonly=True,
        help="Deferred invoice: reconcile it with this payment once issued.",
    )

    _source_reference_unique = models.Constraint(
        "UNIQUE(source, reference)",
        "This payment, voucher or reference has already been used.",
    )
    # what the invoicing job reads: only the purchases waiting for their invoice
    _to_invoice_idx = models.Index("(invoice_next_try, id) WHERE invoice_status = 'to_invoice'")

    @api.depends("invoice_id", "invoice_deferred")
    def _compute_invoice_status(self):
        for purchase in self:
            if purchase.invoice_id:
                purchase.invoice_status = "invoiced"
            elif purchase.invoice_deferred:
                purchase.invoice_status = "to_invoice"
            else:
                purchase.invoice_status = "no"

    # ------------------------------------------------------------------ fulfilment

    @api.model
    def _isp_fulfil(
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
        """See ``isp.subscription._isp_fulfil``."""
        reference, bundle, company = self._isp_check_fulfilment(
            partner, bundle, source, reference, invoice
        )

        existing = self.search([("source", "=", source), ("reference", "=", reference)], limit=1)
        if existing:
            return existing

        deferred = invoice == DEFERRED
        claim = {
            "company_id": company.id,
            "source": source,
            "reference": reference,
            "partner_id": partner.id,
            "bundle_id": bundle.id,
        }
        if deferred:
            # The full-amount check stays here, before anything changes: the total the invoice
            # will have, computed as the invoice computes it.
            due, currency = self._isp_invoice_total(partner, bundle, company)
            if amount is not None and currency.compare_amounts(amount, due):
                raise UserError(self._isp_wrong_amount_message(reference, bundle, amount, due))
            claim.update(
                invoice_deferred=True,
                amount=due,
                payment_journal_id=journal.id if journal else False,
                payment_id=payment.id if payment else False,
            )

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
        subscription, start, end = Subscription._isp_apply_purchase(partner, bundle, start_at)
        vals = {
            "subscription_id": subscription.id,
            "date_start": start,
            "date_end": end,
            # a running period extended: it starts where the previous one ends, not now
            "renewal": start != start_at,
        }
        if invoice and not deferred:
            move = purchase._isp_create_invoice(amount)
            vals.update(invoice_id=move.id, amount=move.amount_total)
            if payment:
                purchase._isp_reconcile_payment(move, payment)
            elif journal:
                purchase._isp_register_payment(move, journal)
        elif not deferred and amount:
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
        purchase._isp_fulfilled()
        if deferred:
            self._isp_trigger_invoicing()
        return purchase

    @api.model
    def _isp_check_fulfilment(self, partner, bundle, source, reference, invoice):
        """Refuse bad fulfilment input; returns (reference, bundle variant, company)."""
        reference = (reference or "").strip()
        if source not in dict(SOURCES):
            raise UserError(self.env._("Unknown fulfilment source %(name)r.", name=source))
        if not reference:
            raise UserError(self.env._("A fulfilment needs a reference."))
        if invoice not in (True, False, DEFERRED):
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
    def _isp_invoice_total(self, partner, bundle, company):
        """(total, currency) of the invoice ``_isp_create_invoice`` will issue for ``bundle``
        to ``partner``, without creating it: the bundle's customer price
        (``product.product._isp_customer_price``, through the invoice's tax engine). Raises
        a UserError when ``company`` cannot sell the bundle (no company, another currency)."""
        bundle = bundle.product_variant_id if bundle._name == "product.template" else bundle
        return bundle._isp_customer_price(partner, company)

    def _isp_wrong_amount_message(self, reference, bundle, paid, due):
        currency = (self.company_id or bundle.company_id or self.env.company).currency_id
        return self.env._(
            "%(reference)s paid %(paid)s but %(bundle)s costs %(due)s: no access is "
            "given for a partial or wrong amount.",
            reference=reference,
            paid=currency.format(paid),
            bundle=bundle.display_name,
            due=currency.format(due),
        )

    # ------------------------------------------------------------------ invoices

    def _isp_new_invoice(self):
        """A draft customer invoice for the bundle, with the company's taxes on it."""
        self.ensure_one()
        return self._isp_new_invoices()

    def _isp_new_invoices(self):
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

    def _isp_create_invoice(self, amount=None):
        """A posted customer invoice for the bundle, with the company's taxes on it."""
        self.ensure_one()
        move = self._isp_new_invoice()
        if amount is not None and move.currency_id.compare_amounts(amount, move.amount_total):
            raise UserError(
                self._isp_wrong_amount_message(
                    self.reference, self.bundle_id, amount, move.amount_total
                )
            )
        move.action_post()
        return move

    def _isp_issue_invoice(self):
        """Issue the deferred invoice of this purchase: posted, for the amount paid. The
        caller holds the purchase's row lock (the invoicing job, post-processing)."""
        self.ensure_one()
        return self._isp_issue_invoices()

    def _isp_issue_invoices(self):
        """Issue the deferred invoices of these purchases (created and posted together), each
        for the amount paid; returns them in the order of ``self``. A total that differs from
        the amount paid raises (nothing is issued). The caller holds the purchases' row locks
        (the invoicing job, post-processing)."""
        todo = self.filtered(lambda p: not p.invoice_id)
        if todo:
            moves = todo._isp_new_invoices()
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
                purchase.write(
                    {"invoice_id": move.id, "invoice_error": False, "invoice_next_try": False}
                )
        return self.env["account.move"].concat(*(purchase.invoice_id for purchase in self))

    def _isp_register_payment(self, move, journal):
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

    def _isp_reconcile_payment(self, move, payment):
        """Reconcile ``move`` with an existing posted payment (e.g. the one Odoo's payment
        flow created for a transaction)."""
        lines = (move.line_ids + payment.move_id.line_ids).filtered(
            lambda line: line.account_id
            == move.line_ids.filtered(lambda m: m.display_type == "payment_term")[:1].account_id
            and not line.reconciled
        )
        lines.reconcile()

    def _isp_fulfilled(self):
        """Hook called once per new purchase, after the subscription was activated or
        extended (isp_sms sends the confirmation here). Must not fail the fulfilment."""
        _logger.info(
            "ISP fulfilment %s %s: subscription %s until %s",
            self.source,
            self.reference,
            self.subscription_id.name,
            self.date_end,
        )

    # ------------------------------------------------------------------ deferred invoicing

    @api.model
    def _isp_trigger_invoicing(self, at=None):
        # by the XML id's cached id: no existence query in every payment callback
        cron_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "isp_billing.ir_cron_isp_invoice_purchases", raise_if_not_found=False
        )
        if cron_id:
            self.env["ir.cron"].sudo().browse(cron_id)._trigger(at)

    def _isp_invoicing_attempt(self, function):
        """Run ``function`` (issuing this purchase's invoice, and its payment) in a savepoint.
        A failure is recorded on the purchase for staff and retried later with a growing
        delay: access was given already and stays. Concurrency errors are not failures: they
        go up to the request / cron retry. Returns True when it went through."""
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                function()
        except (psycopg2.OperationalError, ConcurrencyError):
            raise
        except Exception as error:  # noqa: BLE001 - any accounting failure: record, retry
            self._isp_invoicing_failed(error)
            return False
        return True

    def _isp_invoicing_failed(self, error):
        self.ensure_one()
        attempts = self.invoice_attempts + 1
        delay = min(RETRY_FIRST * 2 ** (attempts - 1), RETRY_MAX)
        next_try = fields.Datetime.now() + timedelta(seconds=delay)
        message = (error.args[0] if isinstance(error, UserError) else None) or (
            f"{type(error).__name__}: {error}"
        )
        _logger.warning(
            "Invoice of %s %s not issued (attempt %s, next at %s): %s",
            self.source,
            self.reference,
            attempts,
            next_try,
            message,
            exc_info=not isinstance(error, UserError),
        )
        self.write(
            {"invoice_error": message, "invoice_attempts": attempts, "invoice_next_try": next_try}
        )
        self._isp_trigger_invoicing(next_try)

    def _isp_invoice_and_settle(self):
        """Issue the deferred invoice and pay it as the fulfilment was told (journal or
        existing payment); payment transactions extend this (isp_billing's
        ``payment.transaction``: the transaction's post-processing pays it)."""
        self.ensure_one()
        move = self._isp_issue_invoice()
        if self.payment_id:
            self._isp_reconcile_payment(move, self.payment_id)
        elif self.payment_journal_id:
            self._isp_register_payment(move, self.payment_journal_id)
        return move

    def _isp_invoice_deferred(self):
        """Issue the invoices of these purchases (locked by the caller). Purchases paid by a
        payment transaction are invoiced through the transactions' post-processing, which
        then creates the payments (with the provider's receipt number) and reconciles them,
        as Odoo's payment flow does.

        All together first, in one savepoint: the invoices created in one ``create`` and
        posted in one ``action_post``, the transactions post-processed as one recordset.
        If anything fails, that is rolled back and each purchase goes on its own, in its own
        savepoint, so that one failing purchase records its error and the others are
        invoiced."""
        todo = self.filtered(lambda p: p.invoice_status == "to_invoice")
        if not todo:
            return
        transactions = self.env["payment.transaction"].search(
            [("isp_purchase_id", "in", todo.ids), ("state", "=", "done")]
        )
        paid_by = {tx.isp_purchase_id.id: tx for tx in transactions}
        if len(todo) > 1:
            try:
                with self.env.cr.savepoint():
                    todo._isp_invoice_together(paid_by)
                return
            except (psycopg2.OperationalError, ConcurrencyError):
                raise
            except Exception as error:  # noqa: BLE001 - one by one below, errors recorded
                _logger.info(
                    "Invoicing %s purchases together failed (%s); now one by one",
                    len(todo),
                    error,
                )
        for purchase in todo:
            tx = paid_by.get(purchase.id)
            purchase._isp_invoicing_attempt(
                tx._post_process if tx else purchase._isp_invoice_and_settle
            )

    def _isp_invoice_together(self, paid_by):
        """Issue the invoices of all these purchases at once, then post-process their
        transactions (payments, reconciliation) as one recordset, then settle the others as
        the fulfilment was told. Raises on any failure (the caller rolls it all back)."""
        self._isp_issue_invoices()
        transactions = self.env["payment.transaction"].concat(
            *(paid_by[purchase.id] for purchase in self if purchase.id in paid_by)
        )
        for tx in transactions:
            tx._isp_link_invoice()
        transactions._post_process()
        for purchase in self.filtered(lambda p: p.id not in paid_by):
            purchase._isp_invoice_and_settle()

    @api.model
    def _cron_isp_invoice_purchases(self, batch_size=20):
        """Issue the deferred invoices (access given, invoice to issue), oldest first, in
        committed batches. Triggered at once by each deferred fulfilment; also periodic, for
        the retries. Purchases another worker holds are skipped (it is invoicing them)."""
        now = fields.Datetime.now()
        domain = Domain("invoice_status", "=", "to_invoice") & (
            Domain("invoice_next_try", "=", False) | Domain("invoice_next_try", "<=", now)
        )
        remaining = self.search_count(domain)
        seen = []
        cron = self.env["ir.cron"]
        while remaining:
            batch = self.search(domain & Domain("id", "not in", seen), order="id", limit=batch_size)
            if not batch:
                break
            seen += batch.ids
            batch.try_lock_for_update()._isp_invoice_deferred()
            remaining = max(remaining - len(batch), 0)
            if not cron._commit_progress(len(batch), remaining=remaining):
                break
        return True

    # ------------------------------------------------------------------ UI

    def action_isp_retry_invoicing(self):
        """Staff: issue the invoice now (after fixing what the error said)."""
        if not self.env.user.has_group("account.group_account_invoice"):
            raise UserError(self.env._("Only invoicing users can issue invoices."))
        self.check_access("read")
        purchases = self.sudo().filtered(lambda p: p.invoice_status == "to_invoice")
        locked = purchases.try_lock_for_update()
        if purchases - locked:
            raise UserError(
                self.env._("These purchases are being invoiced right now; refresh in a moment.")
            )
        locked._isp_invoice_deferred()
        failed = locked.filtered(lambda p: p.invoice_status == "to_invoice")
        if failed:
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "type": "danger",
                    "message": failed[0].invoice_error,
                    "sticky": False,
                },
            }
        return True
