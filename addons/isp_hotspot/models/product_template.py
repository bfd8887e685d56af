from odoo import models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    # Creating, deleting and archiving variants already clear the registry cache (product).

    def write(self, vals):
        """Override of product to clear the captive page's catalogue when a bundle changes."""
        result = super().write(vals)
        if "is_isp_bundle" in vals or any(self.mapped("is_isp_bundle")):
            self.env.registry.clear_cache()  # isp.hotspot._catalogue_cached
        return result

    def unlink(self):
        """Override of product to clear the captive page's catalogue when a bundle goes."""
        if any(self.mapped("is_isp_bundle")):
            self.env.registry.clear_cache()  # isp.hotspot._catalogue_cached
        return super().unlink()
