from odoo import fields, models


class IspManualFulfil(models.TransientModel):
    """Back-office grant or cash sale of a bundle, through the same fulfilment as payments."""

    _name = "isp.manual.fulfil"
    _description = "Grant or Sell a Bundle"

    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        domain="[('is_isp_customer', '=', True)]",
    )
    bundle_id = fields.Many2one(
        "product.product",
        required=True,
        domain="[('is_isp_bundle', '=', True)]",
    )
    invoice = fields.Boolean(
        default=True, help="Issue a posted invoice for the bundle (leave off for a free grant)."
    )
    journal_id = fields.Many2one(
        "account.journal",
        string="Paid Through",
        domain="[('type', 'in', ('cash', 'bank'))]",
        help="Register the invoice as paid in this journal (cash sale); leave empty to leave "
        "it to be paid.",
    )

    def action_confirm(self):
        self.ensure_one()
        # No group may create purchases (they are written by the fulfilment only) and ISP staff
        # need not be accountants: the fulfilment runs as superuser from this back-office entry
        # point, for a customer and a bundle the user can read.
        self.partner_id.check_access("read")
        self.bundle_id.check_access("read")
        reference = self.env["ir.sequence"].next_by_code("isp.manual")
        purchase = (
            self.env["isp.purchase"]
            .sudo()
            ._fulfil(
                self.partner_id,
                self.bundle_id,
                "manual",
                reference,
                journal=self.journal_id if self.invoice else None,
                invoice=self.invoice,
            )
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "isp.subscription",
            "res_id": purchase.subscription_id.id,
            "view_mode": "form",
        }
