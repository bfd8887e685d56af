from odoo import fields, models


class IspMpesaC2bAssign(models.TransientModel):
    """Staff give an unmatched Paybill / Till payment to a customer: it pays their open
    invoices, else buys the bundle chosen (or the one its amount is the price of), else
    stays on their account as credit: the same code as the automatic matching."""

    _name = "isp.mpesa.c2b.assign"
    _description = "Assign an M-Pesa Paybill / Till Payment"

    c2b_id = fields.Many2one("isp.mpesa.c2b", string="Payment", required=True, readonly=True)
    company_id = fields.Many2one(related="c2b_id.company_id")
    amount = fields.Monetary(related="c2b_id.amount")
    currency_id = fields.Many2one(related="c2b_id.currency_id")
    bill_ref = fields.Char(related="c2b_id.bill_ref")
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        domain="[('is_isp_customer', '=', True), ('company_id', '=', company_id)]",
    )
    bundle_id = fields.Many2one(
        "product.product",
        string="Buy Bundle",
        domain="[('is_isp_bundle', '=', True), ('company_id', '=', company_id)]",
        help="Empty: the payment pays the customer's open invoices, else buys the hotspot "
        "bundle whose price it is, else stays on the customer's account as credit.",
    )

    def action_assign(self):
        self.ensure_one()
        self.c2b_id._c2b_assign(self.partner_id, bundle=self.bundle_id or None)
        return {"type": "ir.actions.act_window_close"}
