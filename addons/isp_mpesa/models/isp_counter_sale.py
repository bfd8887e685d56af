from odoo import models


class IspCounterSale(models.Model):
    _inherit = "isp.counter.sale"

    def _receipt_code_used(self, code):
        """Override of isp_billing: a receipt M-Pesa already confirmed to the company's
        Paybill / Till (booked or still to book) is recorded money too."""
        used = super()._receipt_code_used(code)
        if used:
            return used
        row = (
            self.env["isp.mpesa.c2b"]
            .sudo()
            .search(
                [("company_id", "=", self.company_id.id), ("trans_id", "=", (code or "").upper())],
                limit=1,
            )
        )
        if row:
            return self.env._("M-Pesa Paybill / Till payment %(receipt)s", receipt=row.trans_id)
        return None
