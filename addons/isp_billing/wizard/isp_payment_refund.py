from odoo import fields, models


class IspPaymentRefund(models.TransientModel):
    """Staff record that a payment taken without access (Paid, Not Applied) was refunded."""

    _name = "isp.payment.refund"
    _description = "Record the Refund of a Payment Not Applied"

    transaction_id = fields.Many2one(
        "payment.transaction", string="Payment", required=True, readonly=True
    )
    amount = fields.Monetary(related="transaction_id.amount")
    currency_id = fields.Many2one(related="transaction_id.currency_id")
    reason = fields.Text(related="transaction_id.isp_not_applied_reason", string="Why Not Applied")
    note = fields.Text(
        required=True,
        help="How the money went back to the customer: the provider's reversal reference, "
        "the date, who did it.",
    )

    def action_confirm(self):
        self.ensure_one()
        self.transaction_id._isp_record_refund(self.note)
        return {"type": "ir.actions.act_window_close"}
