from odoo import models

from .. import const


class AccountChartTemplate(models.AbstractModel):
    _inherit = "account.chart.template"

    def _post_load_data(self, template_code, company, template_data):
        """Once a company has its chart of accounts (at install, the chart loads after this
        module; a company created later gets it later), its M-Pesa / ClickPesa providers
        get their MPESA / CLKP journals, instead of Odoo's fallback to its first bank
        journal."""
        result = super()._post_load_data(template_code, company, template_data)
        company = company or self.env.company
        self.env["payment.provider"].sudo().search(
            [("code", "in", list(const.PROVIDER_CODES)), ("company_id", "=", company.id)]
        )._isp_ensure_journal()
        return result
