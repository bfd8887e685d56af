from odoo import models


class ResCompany(models.Model):
    _inherit = "res.company"

    def _isp_paybill_number(self):
        """Override of isp_billing: without the setting, the Paybill number of the company's
        enabled M-Pesa provider receiving C2B payments (a Buy Goods Till takes no account
        number: the customers are never told to pay one "with their account number")."""
        number = super()._isp_paybill_number()
        if number:
            return number
        company = self[:1] or self.env.company
        provider = (
            self.env["payment.provider"]
            .sudo()
            .search(
                [
                    ("code", "=", "daraja"),
                    ("company_id", "=", company.id),
                    ("state", "=", "enabled"),
                    ("daraja_c2b_shortcode", "!=", False),
                    ("daraja_c2b_type", "=", "paybill"),
                ],
                limit=1,
            )
        )
        return provider.daraja_c2b_shortcode or False
