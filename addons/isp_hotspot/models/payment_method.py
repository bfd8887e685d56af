from odoo import api, models


class PaymentMethod(models.Model):
    _inherit = "payment.method"

    @api.model_create_multi
    def create(self, vals_list):
        """Override of payment to clear the captive page's catalogue (its providers)."""
        self.env.registry.clear_cache()  # isp.hotspot._catalogue_cached
        return super().create(vals_list)

    def write(self, vals):
        """Override of payment to clear the captive page's catalogue (its providers)."""
        self.env.registry.clear_cache()  # isp.hotspot._catalogue_cached
        return super().write(vals)

    def unlink(self):
        """Override of payment to clear the captive page's catalogue (its providers)."""
        self.env.registry.clear_cache()  # isp.hotspot._catalogue_cached
        return super().unlink()
