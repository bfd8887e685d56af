import logging
from datetime import datetime

import psycopg2
from dateutil.relativedelta import relativedelta

from odoo import fields, models
from odoo.exceptions import AccessError, ConcurrencyError, UserError
from odoo.fields import Domain
from odoo.tools import split_every

_logger = logging.getLogger(__name__)

# bundle payments post-processed together by the post-processing cron (their invoices created
# and posted together), each batch committed
ISP_POST_PROCESS_BATCH = 20
# how long Odoo's post-processing cron retries a transaction after its last state change
RETRY_DAYS = 4

# What became of the access a confirmed bundle transaction paid for.
ISP_ACCESS_STATES = [
    ("fulfilled", "Access Given"),
    ("not_applied", "Paid, Not Applied"),
    ("granted", "Access Granted by Staff"),
    ("refunded", "Refunded"),
]


class PaymentTransaction(models.Model):
    """A bundle transaction gives access when confirmed (``_set_done``) and issues its invoice
    in its post-processing (``_post_process``), run by Odoo's post-processing cron; staff
    decide on money taken without access. See docs/architecture.md, "Invoices of payments"
    and "Paid, Not Applied"."""

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
    isp_access_state = fields.Selection(
        ISP_ACCESS_STATES,
        string="ISP Access",
        readonly=True,
        copy=False,
        help="Paid, Not Applied: the money was taken but gave no access (wrong amount or "
        "currency, a bundle that cannot be sold, ...). Staff decide: Grant Access or Record "
        "Refund.",
    )
    isp_not_applied_reason = fields.Text(
        string="Why Not Applied",
        readonly=True,
        copy=False,
        help="Why the fulfilment refused this payment.",
    )
    isp_decision_note = fields.Text(
        string="Staff Decision", readonly=True, copy=False, help="Who decided what, and why."
    )
    isp_phone = fields.Char(
        string="Customer Phone",
        readonly=True,
        copy=False,
        help="The number the payment was asked from (E.164), for a payer who is not a "
        "customer yet: the customer is created from it only when the payment is confirmed.",
    )
    isp_public_message = fields.Char(
        string="Message to the Customer",
        readonly=True,
        copy=False,
        help="What the customer is told about this payment, in plain words. The provider's "
        "own error text stays in the state message, for staff.",
    )

    # what the dashboard figure and the filter read: the few payments waiting for staff
    _isp_not_applied_idx = models.Index("(company_id, id) WHERE isp_access_state = 'not_applied'")

    def _set_done(self, **kwargs):
        txs = super()._set_done(**kwargs)
        txs._isp_activate()
        if any(tx.isp_invoice_status == "to_invoice" for tx in txs):
            # the invoice, payment and reconciliation: by Odoo's post-processing, out of this
            # request (it is not triggered by Odoo on confirmation)
            self._isp_trigger_post_processing()
        return txs

    def _isp_trigger_post_processing(self):
        # by the XML id's cached id: no existence query in every payment callback
        cron_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "payment.cron_post_process_payment_tx", raise_if_not_found=False
        )
        if cron_id:
            self.env["ir.cron"].sudo().browse(cron_id)._trigger()

    def _isp_activate(self):
        """Give the access these confirmed transactions paid for, now (the invoice follows).
        A transaction the fulfilment refused once (Paid, Not Applied) waits for staff: it is
        not tried again by the post-processing."""
        for tx in self.filtered(
            lambda t: t.state == "done"
            and t.isp_bundle_id
            and not t.isp_purchase_id
            and not t.isp_access_state
        ):
            tx._isp_fulfil_bundle()

    def _cron_post_process(self):
        """Override of payment: in the cron's run (no transactions given), the confirmed
        bundle payments waiting for their invoice go first, in batches: their invoices
        created and posted together, each batch committed (an invoice that fails is recorded
        and leaves its transaction to the next run, the others go on). Then Odoo's own loop,
        one by one, for the other transactions and for any batch that failed as a whole.
        The transactions are Odoo's: not post-processed, last state change within its retry
        window."""
        if self:
            return super()._cron_post_process()
        domain = Domain("is_post_processed", "=", False) & Domain(
            "last_state_change", ">=", datetime.now() - relativedelta(days=RETRY_DAYS)
        )
        invoicing = self.search(
            domain
            & Domain("state", "=", "done")
            & Domain("isp_purchase_id.invoice_status", "=", "to_invoice"),
            order="id",
        )
        done = []
        remaining = len(invoicing)
        for ids in split_every(ISP_POST_PROCESS_BATCH, invoicing.ids):
            remaining -= len(ids)
            try:
                self.browse(ids)._post_process()
            except Exception as error:  # noqa: BLE001 - Odoo's loop below, one by one
                self.env.cr.rollback()
                _logger.info("Post-processing %s transactions together failed: %s", len(ids), error)
                continue
            done += ids
            # out of time: the cron runs again at once (Odoo's runner: some remaining)
            if not self.env["ir.cron"]._commit_progress(len(ids), remaining=remaining):
                return None
        others = self.search(domain & Domain("id", "not in", done))
        if others:
            super(PaymentTransaction, others)._cron_post_process()
        return None

    def _post_process(self):
        self._isp_activate()
        waiting = self._isp_invoice_purchases()
        # Transactions whose invoice could not be issued now are not post-processed: no
        # payment without its invoice; Odoo's post-processing cron retries them.
        return super(PaymentTransaction, self - waiting)._post_process()

    def _isp_invoice_purchases(self):
        """Issue the invoices of these confirmed transactions' purchases ("To Invoice") and
        link them, so that the payment the post-processing creates reconciles them: all
        together (one create, one post), or, when that fails, one by one, each in its
        savepoint, so that one failing invoice does not hold the others. Returns the
        transactions left waiting: their purchase is being invoiced by another worker, or its
        invoice failed (the error is recorded on the purchase)."""
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
                    ready.isp_purchase_id._issue_invoices()
                    for tx in ready:
                        tx._isp_link_invoice()
                return waiting
            except (psycopg2.OperationalError, ConcurrencyError):
                raise
            except Exception as error:  # noqa: BLE001 - each one's error is recorded below
                _logger.info("Invoicing %s transactions together failed: %s", len(ready), error)
        for tx in ready:
            try:
                with self.env.cr.savepoint():
                    tx._isp_link_invoice()
            except (psycopg2.OperationalError, ConcurrencyError):
                raise
            except Exception as error:  # noqa: BLE001 - any accounting failure: record, retry
                tx.isp_purchase_id._invoice_failed(error)
                waiting |= tx
        return waiting

    def _isp_link_invoice(self):
        self.ensure_one()
        purchase = self.isp_purchase_id
        move = purchase._issue_invoice()
        self.invoice_ids = [fields.Command.link(move.id)]
        if self.payment_id:  # paid before it was invoiced: reconcile with that payment
            purchase._reconcile_payment(move, self.payment_id)
        return move

    def _isp_customer_partner(self):
        """The customer this transaction pays for: its partner when it is one, else the
        customer with its ``isp_phone`` (found or created now, when the payment is
        confirmed: a payment request alone creates no partner), set as its partner."""
        self.ensure_one()
        if self.partner_id.is_isp_customer or not self.isp_phone:
            return self.partner_id
        # the transaction's row first (its confirmation is pending in the cache): concurrent
        # confirmations of it then fail with a serialization error and are retried, instead
        # of racing to create the same customer
        self.flush_recordset()
        partner = self.env["res.partner"]._isp_find_or_create_customer(
            self.isp_phone, self.company_id
        )
        self.write({"partner_id": partner.id, "partner_name": partner.name})
        return partner

    def _isp_fulfil_bundle(self):
        self.ensure_one()
        # the money is confirmed: the payer is a customer now (kept even if the bundle's
        # access is refused below, for the payment and staff's decision)
        self._isp_customer_partner()
        try:
            with self.env.cr.savepoint():
                # the bundle's company and currency are checked by its customer price
                # (product.product._isp_customer_price), in the amount check
                company = self.partner_id.company_id or self.env.company
                if self.currency_id != company.currency_id:
                    raise UserError(
                        self.env._(
                            "The transaction is in %(paid)s but the bundle is sold in %(price)s.",
                            paid=self.currency_id.name,
                            price=company.currency_id.name,
                        )
                    )
                purchase = self._isp_fulfil_paid(self.partner_id, check_amount=True)
        except UserError as error:
            # The money arrived but does not buy the bundle (wrong amount or currency, not a
            # customer): no access; account_payment still records the payment, and staff
            # decide (Grant Access / Record Refund).
            _logger.warning("Transaction %s confirmed but not fulfilled: %s", self.reference, error)
            reason = str(error.args[0] if error.args else error)
            self.state_message = self.env._(
                "Payment received but not applied: %(reason)s", reason=reason
            )
            self._isp_mark_not_applied(reason)
            return False
        # one write: no extra query on the callback path
        self.write({"isp_purchase_id": purchase.id, "isp_access_state": "fulfilled"})
        return purchase

    def _isp_fulfil_paid(self, partner, check_amount):
        """Give the access this transaction pays for, its invoice to be issued by the
        post-processing: the purchase records the invoice's total (the bundle's customer
        price, ``product.product._isp_customer_price``, which also checks that the company
        can sell the bundle) and is "To Invoice". With ``check_amount``, an amount paid other
        than that total raises a UserError before anything changes."""
        self.ensure_one()
        bundle = self.isp_bundle_id
        Purchase = self.env["isp.purchase"]
        company = partner.company_id or self.env.company
        due, currency = Purchase._invoice_total(partner, bundle, company)
        if check_amount and currency.compare_amounts(self.amount, due):
            raise UserError(
                Purchase._wrong_amount_message(self.reference, bundle, self.amount, due)
            )
        purchase = self.env["isp.purchase"]._fulfil(
            partner, bundle, "payment", self.reference, amount=due, invoice=False
        )
        if not purchase.invoice_id:
            purchase.invoice_status = "to_invoice"
        return purchase

    def _isp_mark_not_applied(self, reason):
        """Flag these transactions as money taken without access (Paid, Not Applied), with
        ``reason``: the dashboard counts them and staff decide. The fulfilment calls it when
        it refuses a confirmed transaction; a provider module may call it for a transaction
        it ends in error although money was received (a short payment).

        The money is confirmed: the payer is a customer now (``_isp_customer_partner``,
        created from ``isp_phone`` when new), so the dashboard, staff's decision and its
        chatter trace name the payer, not the public user the payment request was made as."""
        for tx in self:
            tx._isp_customer_partner()
        self.write({"isp_access_state": "not_applied", "isp_not_applied_reason": reason})

    # ------------------------------------------------------------------ staff decisions

    def _isp_check_decision(self):
        """Staff decisions on payments taken without access are ISP managers' (the
        back-office entry point: the fulfilment then runs as superuser, as the manual
        grant does)."""
        if not self.env.user.has_group("isp_billing.group_isp_manager"):
            raise AccessError(
                self.env._("Only ISP managers can grant access or record a refund for a payment.")
            )
        self.check_access("read")

    def _isp_decision_trace(self, body):
        """The staff decision, in the customer's chatter (payment transactions have none),
        and on the transaction."""
        self.ensure_one()
        author = self.env.user
        note = self.env._(
            "%(date)s, %(user)s: %(decision)s",
            date=fields.Datetime.to_string(fields.Datetime.now()),
            user=author.name,
            decision=body,
        )
        tx_sudo = self.sudo()
        tx_sudo.isp_decision_note = "\n".join(filter(None, [tx_sudo.isp_decision_note, note]))
        tx_sudo.partner_id._message_log(body=body, author_id=author.partner_id.id)

    def _isp_lock_decision(self):
        """Lock these transactions' rows before a staff decision and read their access
        state again: a concurrent decision on the same payment (Grant Access and Record
        Refund by two managers at once) waits for this one, then fails with a serialization
        error and is retried on a fresh snapshot, where it finds the payment decided."""
        if self.ids:
            self.env.cr.execute(
                "SELECT id FROM payment_transaction WHERE id IN %s ORDER BY id FOR UPDATE",
                [tuple(self.ids)],
            )
            self.invalidate_recordset(
                ["isp_access_state", "isp_purchase_id", "isp_decision_note", "partner_id"]
            )

    def _isp_check_undecided(self, done_state):
        """Whether this payment is still to decide (Paid, Not Applied): False when it is
        already ``done_state`` (a second click: nothing to do); a UserError naming what
        became of it otherwise."""
        self.ensure_one()
        state = self.sudo().isp_access_state
        if state == "not_applied":
            return True
        if state in done_state:
            return False
        if state == "refunded":
            raise UserError(
                self.env._(
                    "A refund was already recorded for %(reference)s: no access can be "
                    "granted for it.",
                    reference=self.reference,
                )
            )
        if state in ("granted", "fulfilled"):
            raise UserError(
                self.env._(
                    "%(reference)s already gave access: no refund can be recorded for it.",
                    reference=self.reference,
                )
            )
        raise UserError(
            self.env._(
                "%(reference)s is not a payment taken without access.",
                reference=self.reference,
            )
        )

    def action_isp_grant_access(self):
        """Staff decision: give the access this payment was taken for although the
        fulfilment refused it (wrong amount, ...), through the same exactly-once fulfilment
        (source payment, reference = the transaction's). A second click, or a concurrent
        one, finds the purchase made and adds nothing; the row lock makes a concurrent
        refund of the same payment fail.

        The invoice: at the bundle's customer price when the company can sell the bundle,
        issued at once by the transaction's post-processing (the payment received reconciles
        with it, partially when short).
        When it cannot (``product.product._isp_sale_error``: a bundle of no company, of
        another company's currency - the very reasons such payments are refused), no
        invoice is issued: that price has no currency an invoice of this company could
        carry, and an accountant expects no invoice at a made-up price. The purchase keeps
        the amount received; Odoo records the payment itself (it shows as "Not matched to
        an invoice") and the decision note says so, for the accountant to invoice it by
        hand in Invoicing."""
        self._isp_check_decision()
        self._isp_lock_decision()
        for tx in self:
            tx_sudo = tx.sudo()
            if not tx._isp_check_undecided(("granted", "fulfilled")):
                continue  # already done: the purchase is there
            partner = tx_sudo._isp_customer_partner()
            bundle = tx_sudo.isp_bundle_id
            sale_error = bundle._isp_sale_error(partner.company_id or self.env.company)
            if tx_sudo.state == "done" and not sale_error:
                purchase = tx_sudo._isp_fulfil_paid(partner, check_amount=False)
            else:
                # no invoice it could be issued (see above), or none that Odoo's payment flow
                # pays: a payment that ended in error (short) gets its invoice now, unpaid
                options = (
                    {"invoice": False, "amount": tx_sudo.amount}
                    if sale_error
                    else {"invoice": True}
                )
                purchase = (
                    self.env["isp.purchase"]
                    .sudo()
                    ._fulfil(partner, bundle, "payment", tx_sudo.reference, **options)
                )
            tx_sudo.write({"isp_purchase_id": purchase.id, "isp_access_state": "granted"})
            decision = self.env._(
                "Payment %(reference)s of %(amount)s: access granted by staff "
                "(%(bundle)s, until %(end)s) although it was not applied: %(reason)s",
                reference=tx_sudo.reference,
                amount=tx_sudo.currency_id.format(tx_sudo.amount),
                bundle=bundle.display_name,
                end=fields.Datetime.to_string(purchase.date_end),
                reason=tx_sudo.isp_not_applied_reason or "",
            )
            if sale_error:
                decision = self.env._(
                    "%(decision)s No invoice was issued (the bundle cannot be invoiced: "
                    "%(error)s): the payment received is not matched to an invoice; "
                    "invoice it in Invoicing.",
                    decision=decision,
                    error=sale_error,
                )
            tx._isp_decision_trace(decision)
            if purchase.invoice_status == "to_invoice":
                # post-processed again, now: its invoice, reconciled with the payment received
                # (Odoo's cron would retry it only for 4 days after the payment); a failure
                # is kept on the purchase and leaves it to retry
                tx_sudo.is_post_processed = False
                tx_sudo._post_process()
        return True

    def action_isp_record_refund(self):
        """Open the refund form (a note is required)."""
        self._isp_check_decision()
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Record Refund"),
            "res_model": "isp.payment.refund",
            "view_mode": "form",
            "target": "new",
            "context": {"default_transaction_id": self.id},
        }

    def _isp_record_refund(self, note):
        """Staff decision: the money of this payment taken without access was given back
        (outside Odoo's payment flow, e.g. an M-Pesa reversal); no access is given. The
        accounting (the payment Odoo recorded) is staff's, in Invoicing."""
        self._isp_check_decision()
        note = (note or "").strip()
        if not note:
            raise UserError(self.env._("Say how the money was refunded (reference, date)."))
        self._isp_lock_decision()
        for tx in self:
            tx_sudo = tx.sudo()
            if not tx._isp_check_undecided(("refunded",)):
                continue
            tx_sudo.isp_access_state = "refunded"
            tx._isp_decision_trace(
                self.env._(
                    "Payment %(reference)s of %(amount)s: refund recorded by staff, no "
                    "access given: %(note)s",
                    reference=tx_sudo.reference,
                    amount=tx_sudo.currency_id.format(tx_sudo.amount),
                    note=note,
                )
            )
        return True

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
