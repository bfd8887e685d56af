from odoo import models


class AccountChartTemplate(models.AbstractModel):
    _inherit = "account.chart.template"

    def _post_load_data(self, template_code, company, template_data):
        """Override of `account`: a company that gets its chart of accounts gets its Cash
        journal too (Odoo 19's templates make none), where counter sales paid in cash go."""
        result = super()._post_load_data(template_code, company, template_data)
        (company or self.env.company)._isp_cash_journal()
        return result
