from odoo import models


class AccountTax(models.Model):
    _inherit = "account.tax"

    # The captive page's prices include taxes (isp.hotspot._isp_catalogue_cached): a tax
    # changed or deleted changes them. A new tax changes nothing until a bundle uses it (the
    # bundle's write clears the cache).

    def write(self, vals):
        self.env.registry.clear_cache()  # isp.hotspot._isp_catalogue_cached
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()  # isp.hotspot._isp_catalogue_cached
        return super().unlink()
