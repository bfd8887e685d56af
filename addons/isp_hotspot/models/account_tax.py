from odoo import models


class AccountTax(models.Model):
    _inherit = "account.tax"

    # A new tax changes no price until a bundle uses it (the bundle's write clears the cache).

    def write(self, vals):
        """Override of account to clear the captive page's catalogue (taxed prices)."""
        self.env.registry.clear_cache()  # isp.hotspot._catalogue_cached
        return super().write(vals)

    def unlink(self):
        """Override of account to clear the captive page's catalogue (taxed prices)."""
        self.env.registry.clear_cache()  # isp.hotspot._catalogue_cached
        return super().unlink()
