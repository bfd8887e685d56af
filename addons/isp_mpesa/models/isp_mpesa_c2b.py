import logging
import math
import re
from datetime import UTC, datetime

from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.exceptions import ConcurrencyError, UserError, ValidationError
from odoo.tools import SQL
from odoo.tools.sql import escape_psql

from .. import const

_logger = logging.getLogger(__name__)

STATES = [
    ("draft", "To Book"),
    ("unmatched", "Unmatched"),
    ("invoice", "Invoice Paid"),
    ("bundle", "Bundle Bought"),
    ("credit", "Customer Credit"),
    ("claimed", "Claimed by Receipt"),
]
TRANS_ID_RE = re.compile(r"^[A-Z0-9]{6,20}$")
# errors that Odoo's retry of the request (or cron) must see: never turned into a flag
RETRIED = (ConcurrencyError, pg_errors.SerializationFailure, pg_errors.LockNotAvailable)


class IspMpesaC2b(models.Model):
    """One M-Pesa Paybill / Till payment (C2B confirmation), once per receipt (TransID) and
    company: booked as a payment in the provider's journal, then matched by the account
    number the customer typed (see docs/architecture.md, "M-Pesa Paybill / Till")."""

    _name = "isp.mpesa.c2b"
    _description = "M-Pesa Paybill / Till Payment"
    _order = "id desc"
    _rec_name = "trans_id"
    _check_company_auto = True

    provider_id = fields.Many2one("payment.provider", required=True, readonly=True, index=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    trans_id = fields.Char(string="Receipt", required=True, readonly=True)
    trans_time = fields.Datetime(string="Paid On", readonly=True)
    transaction_type = fields.Char(readonly=True)
    short_code = fields.Char(string="Paid To", readonly=True)
    short_code_mismatch = fields.Boolean(
        string="Other Number",
        readonly=True,
        help="M-Pesa reported it paid to another number than this provider's Paybill / Till: "
        "booked, never matched automatically nor claimable; staff decide.",
    )
    amount = fields.Monetary(readonly=True)
    currency_id = fields.Many2one("res.currency", required=True, readonly=True)
    bill_ref = fields.Char(string="Account Typed", readonly=True)
    msisdn = fields.Char(
        string="Payer Phone (as sent)", readonly=True, help="Often masked or hashed by M-Pesa."
    )
    payer_name = fields.Char(readonly=True)
    remote_addr = fields.Char(string="From", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True, index=True)
    payment_id = fields.Many2one("account.payment", readonly=True, index="btree_not_null")
    purchase_id = fields.Many2one("isp.purchase", readonly=True, index="btree_not_null")
    invoice_ids = fields.Many2many("account.move", string="Invoices Paid", readonly=True)
    state = fields.Selection(STATES, required=True, default="draft", readonly=True, index=True)
    error = fields.Text(readonly=True, help="Why the last booking or matching attempt failed.")

    _company_trans_unique = models.Constraint(
        "UNIQUE(company_id, trans_id)", "This M-Pesa receipt is already recorded."
    )

    # ------------------------------------------------------------------ parsing

    @api.model
    def _c2b_amount(self, payload):
        """The TransAmount of a C2B payload as a positive float, or None."""
        try:
            amount = float(str(payload.get("TransAmount")).strip())
        except (TypeError, ValueError):
            return None
        return amount if math.isfinite(amount) and 0 < amount <= 10**9 else None

    @api.model
    def _c2b_time(self, text):
        try:
            moment = datetime.strptime(str(text), "%Y%m%d%H%M%S").replace(tzinfo=const.KENYA_TZ)
        except (TypeError, ValueError):
            return None
        return moment.astimezone(UTC).replace(tzinfo=None)

    @api.model
    def _c2b_text(self, payload, key, size=100):
        value = payload.get(key)
        if value is None or isinstance(value, dict | list):
            return False
        return str(value).strip()[:size] or False

    # ------------------------------------------------------------------ matching

    @api.model
    def _c2b_find(self, company, text):
        """(customer, invoice) named by the account number ``text`` a payer typed, in this
        order: account number, PPPoE login, number of an open invoice, customer phone. The
        payer's MSISDN is never used (masked or hashed). Empty recordsets when none."""
        Partner = self.env["res.partner"].sudo()
        Move = self.env["account.move"].sudo()
        text = (text or "").strip()[:100]
        if not text or not company:
            return Partner, Move
        partner = Partner._isp_find_by_account_number(company, text)
        if partner:
            return partner, Move
        logins = (
            self.env["isp.subscription"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [
                    ("company_id", "=", company.id),
                    ("service_type", "=", "pppoe"),
                    ("login", "=ilike", escape_psql(text)),
                ],
                limit=2,
            )
        )
        exact = logins.filtered(lambda s: s.login == text)
        login = exact[:1] or (logins if len(logins) == 1 else logins.browse())
        if login:
            return login.partner_id, Move
        invoice = Move.search(
            [
                ("company_id", "=", company.id),
                ("move_type", "=", "out_invoice"),
                ("state", "=", "posted"),
                ("payment_state", "in", ("not_paid", "partial")),
                ("name", "=ilike", escape_psql(text)),
            ],
            limit=1,
        )
        if invoice:
            return invoice.partner_id, invoice
        if sum(ch.isdigit() for ch in text) >= 9:
            try:
                phone = Partner._isp_normalize_phone(text, company.country_id)
            except (UserError, ValidationError):
                phone = None
            if phone:
                partner = Partner.search(
                    [
                        ("company_id", "=", company.id),
                        ("is_isp_customer", "=", True),
                        ("phone", "=", phone),
                    ],
                    limit=1,
                )
                if partner:
                    return partner, Move
        return Partner, Move

    def _c2b_open_invoices(self, partner, first=None):
        """The open customer invoices of ``partner`` in this payment's company and currency,
        oldest due first (``first``, the invoice the payer named, before them)."""
        self.ensure_one()
        invoices = (
            self.env["account.move"]
            .sudo()
            .search(
                [
                    ("company_id", "=", self.company_id.id),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    ("commercial_partner_id", "=", partner.commercial_partner_id.id),
                    ("payment_state", "in", ("not_paid", "partial")),
                    ("currency_id", "=", self.currency_id.id),
                ],
                order="invoice_date_due asc, invoice_date asc, id asc",
            )
        )
        first = (first or invoices.browse()) & invoices
        return first + (invoices - first)

    def _c2b_bundle_for(self, partner):
        """The hotspot bundle whose customer price this payment is, for a hotspot customer
        (no PPPoE subscription): the one the customer last bought when its price matches,
        else the only one at that price; else none (several or none: credit)."""
        self.ensure_one()
        subscriptions = partner.sudo().with_context(active_test=False).isp_subscription_ids
        if subscriptions.filtered(lambda s: s.service_type == "pppoe"):
            return self.env["product.product"]
        company = self.company_id
        bundles = (
            self.env["product.product"]
            .sudo()
            .search(
                [
                    ("is_isp_bundle", "=", True),
                    ("isp_service_type", "=", "hotspot"),
                    ("company_id", "=", company.id),
                ]
            )
        )
        matching = bundles.filtered(
            lambda b: not company.currency_id.compare_amounts(
                b._isp_customer_price(partner, company)[0], self.amount
            )
        )
        last = subscriptions.filtered(lambda s: s.service_type == "hotspot").sorted(
            "write_date", reverse=True
        )[:1]
        if last.bundle_id and last.bundle_id in matching:
            return last.bundle_id
        return matching if len(matching) == 1 else self.env["product.product"]

    # ------------------------------------------------------------------ booking

    def _c2b_lock(self):
        """Take these rows' locks (a concurrent booking, assignment or claim waits, then
        fails with a serialization error that Odoo retries) and read them afresh."""
        self.flush_recordset()
        self.env.cr.execute(
            SQL("SELECT id FROM isp_mpesa_c2b WHERE id IN %s FOR UPDATE", tuple(self.ids))
        )
        self.invalidate_recordset()

    def _c2b_payment_vals(self, partner):
        self.ensure_one()
        provider = self.provider_id
        journal = provider.journal_id
        if not journal:
            raise UserError(
                self.env._("%(name)s has no journal to book payments in.", name=provider.name)
            )
        method_line = journal.inbound_payment_method_line_ids.filtered(
            lambda line: line.payment_provider_id == provider
        )[:1]
        return {
            "payment_type": "inbound",
            "partner_type": "customer",
            "partner_id": partner.id or False,
            "amount": self.amount,
            "currency_id": self.currency_id.id,
            "journal_id": journal.id,
            "company_id": self.company_id.id,
            "date": fields.Date.context_today(self, self.trans_time or None),
            "memo": self.trans_id,
            **({"payment_method_line_id": method_line.id} if method_line else {}),
        }

    def _c2b_book(self):
        """Book these recorded payments (once each): an account.payment in the provider's
        journal (memo: the receipt), then matched to the customer the account number names.
        A failure to book leaves the row to book (the cron retries it); a failure to match
        leaves the payment booked and the row unmatched, for staff. Never raises for them."""
        for row in self.sudo():
            row._c2b_lock()
            if row.state != "draft":
                continue
            recorded = row._c2b_recorded_payment()
            if recorded:
                # recorded before M-Pesa confirmed it (a counter sale paid by mobile money):
                # the money is counted once; staff look at it
                row.write(
                    {
                        "payment_id": recorded.id,
                        "partner_id": recorded.partner_id.id,
                        "state": "unmatched",
                        "error": row.env._(
                            "Already recorded as payment %(payment)s: not booked again.",
                            payment=recorded.display_name,
                        ),
                    }
                )
                continue
            if row.short_code_mismatch:
                partner, invoice = row.env["res.partner"], row.env["account.move"]
            else:
                partner, invoice = row._c2b_find(row.company_id, row.bill_ref)
            try:
                with row.env.cr.savepoint():
                    payment = (
                        row.env["account.payment"]
                        .with_company(row.company_id)
                        .create(row._c2b_payment_vals(partner))
                    )
                    payment.action_post()
            except RETRIED:
                raise
            except Exception as error:  # noqa: BLE001 - recorded, retried by the cron
                _logger.exception("M-Pesa payment %s not booked (retried)", row.trans_id)
                row.error = f"{type(error).__name__}: {error}"[:2000]
                continue
            row.write(
                {
                    "payment_id": payment.id,
                    "partner_id": partner.id or False,
                    "state": "unmatched",
                    "error": False,
                }
            )
            if partner:
                row._c2b_try_settle(partner, invoice=invoice)

    def _c2b_recorded_payment(self):
        """The payment of a confirmed counter sale of the company paid by mobile money with
        this receipt (recorded at the desk before M-Pesa's confirmation came), or an empty
        recordset."""
        self.ensure_one()
        return (
            self.env["isp.counter.sale"]
            .sudo()
            .search(
                [
                    ("company_id", "=", self.company_id.id),
                    ("state", "=", "done"),
                    ("receipt_code", "=", self.trans_id),
                ],
                limit=1,
            )
            .payment_id
        )

    def _c2b_try_settle(self, partner, invoice=None):
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                self._c2b_settle(partner, invoice=invoice)
        except RETRIED:
            raise
        except Exception as error:  # noqa: BLE001 - booked: staff match it from the list
            _logger.exception("M-Pesa payment %s booked, not matched", self.trans_id)
            self.write({"state": "unmatched", "error": f"{type(error).__name__}: {error}"[:2000]})

    def _c2b_set_partner(self, partner):
        """Make the booked payment ``partner``'s (a payment booked without customer)."""
        payment = self.payment_id
        if payment.partner_id == partner:
            return
        if payment.is_reconciled or payment.reconciled_invoice_ids:
            raise UserError(
                self.env._("Payment %(p)s is already reconciled.", p=payment.display_name)
            )
        payment.action_draft()
        payment.partner_id = partner
        payment.action_post()

    def _c2b_settle(self, partner, invoice=None, bundle=None, claimed=False):
        """Give this booked payment to ``partner``: it pays their open invoices (oldest
        first, ``invoice`` first), else buys ``bundle`` (or the hotspot bundle whose price
        it is), else stays on their account as credit. The same for automatic matching,
        staff's assignment and a claim by receipt. Returns the new state."""
        self.ensure_one()
        partner = partner.sudo()
        if self.currency_id != self.company_id.currency_id:
            raise UserError(self.env._("The payment is not in the company's currency."))
        self._c2b_set_partner(partner)
        payment = self.payment_id
        values = {"partner_id": partner.id, "error": False}
        invoices = self.browse() if bundle else self._c2b_open_invoices(partner, first=invoice)
        if invoices:
            line = payment.move_id.line_ids.filtered(
                lambda aml: aml.account_id == payment.destination_account_id and not aml.reconciled
            )
            paid = self.env["account.move"]
            for move in invoices:
                if not line or line.reconciled:
                    break
                lines = move.line_ids.filtered(
                    lambda aml, account=line.account_id: (
                        aml.account_id == account and not aml.reconciled
                    )
                )
                if lines:
                    (line | lines).reconcile()
                    paid |= move
            values.update(state="invoice", invoice_ids=[fields.Command.set(paid.ids)])
        else:
            bundle = bundle or self._c2b_bundle_for(partner)
            if bundle:
                purchase = (
                    self.env["isp.purchase"]
                    .sudo()
                    .with_company(self.company_id)
                    ._fulfil(
                        partner,
                        bundle,
                        "payment",
                        self.trans_id,
                        amount=self.amount,
                        payment=payment,
                        invoice=True,
                    )
                )
                values.update(
                    state="claimed" if claimed else "bundle",
                    purchase_id=purchase.id,
                    invoice_ids=[fields.Command.set(purchase.invoice_id.ids)],
                )
            else:
                values["state"] = "credit"
        self.write(values)
        return values["state"]

    # ------------------------------------------------------------------ entry points

    @api.model
    def _c2b_validate(self, provider, payload):
        """(ResultCode, ResultDesc) for M-Pesa's validation request: fast, reads only."""
        provider = provider.sudo()
        if str(payload.get("BusinessShortCode") or "").strip() != provider.daraja_c2b_shortcode:
            return const.C2B_INVALID_SHORTCODE
        if self._c2b_amount(payload) is None:
            return const.C2B_INVALID_AMOUNT
        if provider.daraja_c2b_validation:
            partner, _invoice = self._c2b_find(
                provider.company_id, self._c2b_text(payload, "BillRefNumber")
            )
            if not partner:
                return const.C2B_INVALID_ACCOUNT
        return const.C2B_ACCEPTED

    @api.model
    def _c2b_confirm(self, provider, payload, remote_addr=None):
        """Record M-Pesa's confirmation of a payment to ``provider``'s number once per
        receipt and company; the cron books and matches it (``_c2b_book``). A repeated or
        concurrent delivery of the same receipt changes nothing. Returns (row, new); raises
        UserError on a payload that is no payment (no receipt, no positive amount)."""
        provider = provider.sudo()
        trans_id = (self._c2b_text(payload, "TransID", 40) or "").upper()
        amount = self._c2b_amount(payload)
        if not TRANS_ID_RE.match(trans_id):
            raise UserError(self.env._("Confirmation without a valid TransID."))
        if amount is None:
            raise UserError(self.env._("Confirmation %(t)s without a positive amount.", t=trans_id))
        company = provider.company_id
        short_code = self._c2b_text(payload, "BusinessShortCode", 20)
        names = (self._c2b_text(payload, k, 60) for k in ("FirstName", "MiddleName", "LastName"))
        currency = self.env.ref("base.KES")
        uid = self.env.uid
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO isp_mpesa_c2b (
                    provider_id, company_id, trans_id, trans_time, transaction_type,
                    short_code, short_code_mismatch, amount, currency_id, bill_ref, msisdn,
                    payer_name, remote_addr, state,
                    create_uid, write_uid, create_date, write_date)
                VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'draft', %s, %s,
                        now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
                ON CONFLICT (company_id, trans_id) DO NOTHING
                RETURNING id
                """,
                provider.id,
                company.id,
                trans_id,
                self._c2b_time(payload.get("TransTime")),
                self._c2b_text(payload, "TransactionType", 40),
                short_code,
                short_code != provider.daraja_c2b_shortcode,
                currency.round(amount),
                currency.id,
                self._c2b_text(payload, "BillRefNumber"),
                self._c2b_text(payload, "MSISDN", 100),
                " ".join(n for n in names if n) or False,
                remote_addr or False,
                uid,
                uid,
            )
        )
        row = self.env.cr.fetchone()
        if not row:
            existing = self.sudo().search(
                [("company_id", "=", company.id), ("trans_id", "=", trans_id)], limit=1
            )
            return existing, False
        # booked and matched by the cron, woken now: M-Pesa's request is answered at once
        self.env.ref("isp_mpesa.ir_cron_isp_mpesa_c2b_book").sudo()._trigger()
        return self.sudo().browse(row[0]), True

    @api.model
    def _cron_c2b_book(self, batch_size=100):
        """Book the recorded payments (one commit each): the new ones, then those whose
        booking failed before (retried at every run; they do not keep the cron running)."""
        C2b = self.sudo()
        fresh = C2b.search([("state", "=", "draft"), ("error", "=", False)], order="id")
        rows = fresh[:batch_size]
        if len(rows) < batch_size:
            rows |= C2b.search(
                [("state", "=", "draft"), ("error", "!=", False)],
                order="id",
                limit=batch_size - len(rows),
            )
        remaining = len(fresh)
        for row in rows:
            if row.try_lock_for_update():
                row._c2b_book()
            remaining -= 1 if row in fresh else 0
            if not self.env["ir.cron"]._commit_progress(1, remaining=remaining):
                break

    # ------------------------------------------------------------------ claim by receipt

    @api.model
    def _c2b_claim(self, company, receipt, partner, bundle):
        """Give ``partner`` ``bundle`` with the unmatched payment ``receipt`` of ``company``,
        once; any failure raises the one message (no enumeration of receipts)."""
        bundle = bundle.product_variant_id if bundle._name == "product.template" else bundle
        bundle = bundle.sudo()
        try:
            price = bundle._isp_customer_price(partner.sudo(), company)[0]
        except UserError:
            price = bundle.lst_price
        message = self.env._(
            "No unclaimed M-Pesa payment of %(amount)s matches this receipt code.",
            amount=company.currency_id.format(price),
        )
        code = re.sub(r"\s+", "", receipt or "").upper()
        if (
            not TRANS_ID_RE.match(code)
            or not partner.sudo().is_isp_customer
            or partner.sudo().company_id != company
            or bundle.company_id != company
            or not bundle.is_isp_bundle
        ):
            raise UserError(message)
        self.env.cr.execute(
            SQL(
                "SELECT id FROM isp_mpesa_c2b WHERE company_id = %s AND trans_id = %s FOR UPDATE",
                company.id,
                code,
            )
        )
        found = self.env.cr.fetchone()
        row = self.sudo().browse(found and found[0])
        row.invalidate_recordset()
        if row.state == "draft" and not row.short_code_mismatch:
            row._c2b_book()  # not booked yet (the cron is on its way): booked and matched now
        if (
            not row
            or row.state != "unmatched"
            or row.short_code_mismatch
            or row.error
            or row.currency_id != company.currency_id
            or company.currency_id.compare_amounts(row.amount, price)
        ):
            raise UserError(message)
        row._c2b_settle(partner, bundle=bundle, claimed=True)
        return row.purchase_id

    # ------------------------------------------------------------------ UI

    def action_c2b_assign(self):
        """Open the assignment of this unmatched payment to a customer."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Assign %(receipt)s", receipt=self.trans_id),
            "res_model": "isp.mpesa.c2b.assign",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_c2b_id": self.id,
                "default_partner_id": self.partner_id.id,
            },
        }

    def _c2b_assign(self, partner, bundle=None):
        """Staff: give this unmatched (or to-book) payment to ``partner``, as the automatic
        matching would (``bundle``: buy this bundle with it)."""
        self.ensure_one()
        self.check_access("write")
        partner.check_access("read")
        row = self.sudo()
        row._c2b_lock()
        if row.state == "draft":
            row._c2b_book()
        if row.state != "unmatched":
            raise UserError(
                self.env._("Payment %(receipt)s is already matched.", receipt=row.trans_id)
            )
        if partner.company_id != row.company_id:
            raise UserError(self.env._("The customer belongs to another company."))
        if bundle and row.currency_id.compare_amounts(
            bundle.sudo()._isp_customer_price(partner.sudo(), row.company_id)[0], row.amount
        ):
            raise UserError(
                self.env._(
                    "%(amount)s is not the price of %(bundle)s.",
                    amount=row.currency_id.format(row.amount),
                    bundle=bundle.display_name,
                )
            )
        return row._c2b_settle(partner, bundle=bundle)
