from odoo import api, models


class PaymentMethod(models.Model):
    _inherit = "payment.method"

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()  # isp.hotspot._isp_catalogue_cached
        return super().create(vals_list)

    def write(self, vals):
        self.env.registry.clear_cache()  # isp.hotspot._isp_catalogue_cached
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()  # isp.hotspot._isp_catalogue_cached
        return super().unlink()
