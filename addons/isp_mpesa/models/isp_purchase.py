from odoo import api, models


class IspPurchase(models.Model):
    _inherit = "isp.purchase"

    @api.model
    def _receipt_claim_enabled(self, company):
        """Override of isp_billing: claims work where an M-Pesa provider receives C2B
        (Paybill / Till) payments."""
        providers = (
            self.env["payment.provider"]
            .sudo()
            .search(
                [
                    ("code", "=", "daraja"),
                    ("company_id", "=", company.id),
                    ("state", "!=", "disabled"),
                    ("daraja_c2b_shortcode", "!=", False),
                ],
                limit=1,
            )
        )
        return bool(providers) or super()._receipt_claim_enabled(company)

    @api.model
    def _claim_receipt(self, company, receipt, partner, bundle):
        """Override of isp_billing: the unmatched C2B payment of this receipt buys the
        bundle, once (``isp.mpesa.c2b._c2b_claim``)."""
        if not self._receipt_claim_enabled(company):
            return super()._claim_receipt(company, receipt, partner, bundle)
        return self.env["isp.mpesa.c2b"].sudo()._c2b_claim(company, receipt, partner, bundle)
