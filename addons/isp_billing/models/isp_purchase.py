import logging

from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.exceptions import ConcurrencyError, UserError

_logger = logging.getLogger(__name__)

SOURCES = [("payment", "Payment"), ("voucher", "Voucher"), ("manual", "Manual")]


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
    amount = fields.Monetary(readonly=True, help="Amount invoiced for this period.")
    invoice_id = fields.Many2one("account.move", readonly=True, index="btree_not_null")
    invoice_payment_state = fields.Selection(
        related="invoice_id.payment_state", string="Payment Status"
    )

    _source_reference_unique = models.Constraint(
        "UNIQUE(source, reference)",
        "This payment, voucher or reference has already been used.",
    )

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
        reference = (reference or "").strip()
        if source not in dict(SOURCES):
            raise UserError(self.env._("Unknown fulfilment source %(name)r.", name=source))
        if not reference:
            raise UserError(self.env._("A fulfilment needs a reference."))
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

        existing = self.search([("source", "=", source), ("reference", "=", reference)], limit=1)
        if existing:
            return existing

        # Claim the reference first: a concurrent caller with the same reference blocks here
        # until this transaction ends, then fails on the unique constraint.
        try:
            with self.env.cr.savepoint():
                purchase = self.create(
                    {
                        "company_id": company.id,
                        "source": source,
                        "reference": reference,
                        "partner_id": partner.id,
                        "bundle_id": bundle.id,
                    }
                )
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
        subscription, start, end = Subscription._isp_apply_purchase(
            partner, bundle, date or fields.Datetime.now()
        )
        vals = {"subscription_id": subscription.id, "date_start": start, "date_end": end}
        if invoice:
            move = purchase._isp_create_invoice(amount)
            vals.update(invoice_id=move.id, amount=move.amount_total)
            if payment:
                purchase._isp_reconcile_payment(move, payment)
            elif journal:
                purchase._isp_register_payment(move, journal)
        elif amount:
            vals["amount"] = amount
        purchase.write(vals)
        subscription.message_post(
            body=self.env._(
                "%(channel)s %(reference)s: %(bundle)s, access until %(end)s.",
                channel=dict(SOURCES)[source],
                reference=reference,
                bundle=bundle.display_name,
                end=fields.Datetime.to_string(end),
            )
        )
        purchase._isp_fulfilled()
        return purchase

    def _isp_create_invoice(self, amount=None):
        """A posted customer invoice for the bundle, with the company's taxes on it."""
        self.ensure_one()
        move = (
            self.env["account.move"]
            .with_company(self.company_id)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.partner_id.id,
                    "company_id": self.company_id.id,
                    "invoice_origin": self.reference,
                    "ref": self.reference,
                    "invoice_line_ids": [
                        fields.Command.create(
                            {
                                "product_id": self.bundle_id.id,
                                "quantity": 1,
                                "price_unit": self.bundle_id.lst_price,
                            }
                        )
                    ],
                }
            )
        )
        if amount is not None and move.currency_id.compare_amounts(amount, move.amount_total):
            raise UserError(
                self.env._(
                    "%(reference)s paid %(paid)s but %(bundle)s costs %(due)s: no access is "
                    "given for a partial or wrong amount.",
                    reference=self.reference,
                    paid=move.currency_id.format(amount),
                    bundle=self.bundle_id.display_name,
                    due=move.currency_id.format(move.amount_total),
                )
            )
        move.action_post()
        return move

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
