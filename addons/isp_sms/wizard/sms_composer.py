from odoo import models


class SmsComposer(models.TransientModel):
    _inherit = "sms.composer"

    def _prepare_mass_sms_values(self, records):
        """Override of sms to send each mass SMS (campaigns), which has no chatter message
        telling its company, through its record's company (a customer's for partners)."""
        results = super()._prepare_mass_sms_values(records)
        if "company_id" not in records._fields:
            return results
        for record in records:
            if record.id in results and record.company_id:
                results[record.id]["isp_company_id"] = record.company_id.id
        return results
