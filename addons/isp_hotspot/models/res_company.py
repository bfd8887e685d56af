from odoo import models


class ResCompany(models.Model):
    _inherit = "res.company"

    def write(self, vals):
        if {"name", "currency_id"} & set(vals):
            self.env.registry.clear_cache()  # isp.hotspot._isp_catalogue_cached
        return super().write(vals)
