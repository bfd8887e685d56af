import logging

import psycopg2

from odoo import fields, models
from odoo.exceptions import ConcurrencyError, UserError

_logger = logging.getLogger(__name__)


class PaymentTransaction(models.Model):
    """A transaction that pays for a bundle fulfils it once confirmed, whatever the provider.

    The captive page, the portal and the back-office create the transaction with
    ``isp_bundle_id`` set. When the provider confirms it (callback, webhook or status poll:
    ``_set_done``), the customer's access is activated or extended at once through the
    exactly-once fulfilment (source ``payment``, reference = the transaction reference), with
    the full amount checked against the invoice-to-be. The invoice is deferred: the
    transaction's post-processing issues it and links it, and account_payment's
    post-processing then creates the payment (with the provider's reference) and reconciles
    it. Post-processing runs in isp_billing's invoicing job (triggered at once), or in Odoo's
    own post-processing (status poll, cron), whichever comes first, exactly once.
    """

    _inherit = "payment.transaction"

    isp_bundle_id = fields.Many2one(
        "product.product",
        string="ISP Bundle",
        domain="[('is_isp_bundle', '=', True)]",
        readonly=True,
        index="btree_not_null",
    )
    isp_purchase_id = fields.Many2one("isp.purchase", string="ISP Purchase", readonly=True)
    isp_subscription_id = fields.Many2one(
        related="isp_purchase_id.subscription_id", string="ISP Subscription"
    )
    isp_invoice_status = fields.Selection(
        related="isp_purchase_id.invoice_status", string="ISP Invoice Status"
    )
    isp_invoice_error = fields.Text(
        related="isp_purchase_id.invoice_error", string="ISP Invoicing Error"
    )

    def _set_done(self, **kwargs):
        txs = super()._set_done(**kwargs)
        txs._isp_activate()
        return txs

    def _isp_activate(self):
        """Give the access these confirmed transactions paid for, now (the invoice follows)."""
        for tx in self.filtered(
            lambda t: t.state == "done" and t.isp_bundle_id and not t.isp_purchase_id
        ):
            tx._isp_fulfil_bundle()

    def _post_process(self):
        self._isp_activate()
        waiting = self._isp_invoice_purchases()
        # Transactions whose invoice could not be issued now are not post-processed: no
        # payment without its invoice; the invoicing job (and Odoo's post-processing) retry.
        return super(PaymentTransaction, self - waiting)._post_process()

    def _isp_invoice_purchases(self):
        """Issue the deferred invoices of these confirmed transactions and link them, so that
        the payment the post-processing creates reconciles them. Returns the transactions left
        waiting: their purchase is being invoiced by another worker, or its invoice failed
        (the error is recorded on the purchase)."""
        todo = self.filtered(
            lambda t: t.state == "done" and t.isp_purchase_id.invoice_status == "to_invoice"
        )
        if not todo:
            return todo
        locked = todo.isp_purchase_id.try_lock_for_update()
        ready = todo.filtered(lambda t: t.isp_purchase_id in locked)
        waiting = todo - ready
        if len(ready) > 1:
            # all together (one create, one post); on any failure, one by one below
            try:
                with self.env.cr.savepoint():
                    ready.isp_purchase_id._isp_issue_invoices()
                    for tx in ready:
                        tx._isp_link_invoice()
                return waiting
            except (psycopg2.OperationalError, ConcurrencyError):
                raise
            except Exception as error:  # noqa: BLE001 - each one's error is recorded below
                _logger.info("Invoicing %s transactions together failed: %s", len(ready), error)
        for tx in ready:
            if not tx.isp_purchase_id._isp_invoicing_attempt(tx._isp_link_invoice):
                waiting |= tx
        return waiting

    def _isp_link_invoice(self):
        self.ensure_one()
        purchase = self.isp_purchase_id
        move = purchase._isp_issue_invoice()
        self.invoice_ids = [fields.Command.link(move.id)]
        if self.payment_id:  # paid before it was invoiced: reconcile with that payment
            purchase._isp_reconcile_payment(move, self.payment_id)
        return move

    def _isp_fulfil_bundle(self):
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                bundle = self.isp_bundle_id
                # the bundle's currency is its company's (the product's computed currency
                # reads the main company first)
                price_currency = bundle.company_id.sudo().currency_id or bundle.currency_id
                if self.currency_id != price_currency:
                    raise UserError(
                        self.env._(
                            "The transaction is in %(paid)s but the bundle is sold in %(price)s.",
                            paid=self.currency_id.name,
                            price=price_currency.name,
                        )
                    )
                purchase = self.env["isp.subscription"]._isp_fulfil(
                    self.partner_id,
                    self.isp_bundle_id,
                    "payment",
                    self.reference,
                    amount=self.amount,
                    invoice="deferred",
                )
        except UserError as error:
            # The money arrived but does not buy the bundle (wrong amount or currency, not a
            # customer): no access; account_payment still records the payment for staff.
            _logger.warning("Transaction %s confirmed but not fulfilled: %s", self.reference, error)
            self.state_message = self.env._(
                "Payment received but not applied: %(reason)s", reason=str(error)
            )
            return False
        self.isp_purchase_id = purchase
        return purchase

    def _isp_send_push(self, phone, client_ip=None):
        """Hook: push this draft transaction's payment request to ``phone`` (see
        ``payment.provider._isp_can_push``). Provider modules implement it for their codes;
        bad input and rate limits raise a UserError before anything changes, a provider error
        puts the transaction in error with a message for the customer."""
        self.ensure_one()
        raise UserError(
            self.env._(
                "%(provider)s cannot send a payment request to a phone.",
                provider=self.provider_id.name,
            )
        )
