from odoo import models

from .. import const


class AccountChartTemplate(models.AbstractModel):
    _inherit = "account.chart.template"

    def _post_load_data(self, template_code, company, template_data):
        """Override of `account` to give the company's M-Pesa / ClickPesa / Pesapal
        providers their MPESA / CLKP / PSPL journals once it has a chart of accounts (at
        install, the chart loads after this module; a company created later gets it later),
        instead of Odoo's fallback to its first bank journal."""
        result = super()._post_load_data(template_code, company, template_data)
        company = company or self.env.company
        self.env["payment.provider"].sudo().search(
            [
                ("code", "in", [*const.PROVIDER_CODES, "pesapal"]),
                ("company_id", "=", company.id),
            ]
        )._isp_ensure_journal()
        return result
