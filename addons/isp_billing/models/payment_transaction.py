import logging

from odoo import fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)


class PaymentTransaction(models.Model):
    """A transaction that pays for a bundle fulfils it once confirmed, whatever the provider.

    The captive page, the portal and the back-office create the transaction with
    ``isp_bundle_id`` set; when the provider confirms it (callback, webhook or status poll),
    post-processing activates or extends the customer's access through the exactly-once
    fulfilment (source ``payment``, reference = the transaction reference) and links the
    invoice, which account_payment's post-processing then pays and reconciles with the
    payment it creates for the transaction.
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

    def _post_process(self):
        for tx in self.filtered(
            lambda t: t.state == "done" and t.isp_bundle_id and not t.isp_purchase_id
        ):
            tx._isp_fulfil_bundle()
        return super()._post_process()

    def _isp_fulfil_bundle(self):
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                if self.currency_id != self.isp_bundle_id.currency_id:
                    raise UserError(
                        self.env._(
                            "The transaction is in %(paid)s but the bundle is sold in %(price)s.",
                            paid=self.currency_id.name,
                            price=self.isp_bundle_id.currency_id.name,
                        )
                    )
                purchase = self.env["isp.subscription"]._isp_fulfil(
                    self.partner_id,
                    self.isp_bundle_id,
                    "payment",
                    self.reference,
                    amount=self.amount,
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
        if purchase.invoice_id:
            self.invoice_ids = [fields.Command.link(purchase.invoice_id.id)]
        return purchase
