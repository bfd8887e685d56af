from odoo import api, models


class ProductProduct(models.Model):
    _inherit = "product.product"

    @api.model_create_multi
    def create(self, vals_list):
        products = super().create(vals_list)
        if any(products.mapped("is_isp_bundle")):
            self.env.registry.clear_cache()  # isp.hotspot._isp_catalogue_cached
        return products

    def write(self, vals):
        bundles = any(self.mapped("is_isp_bundle"))
        result = super().write(vals)
        if bundles or any(self.mapped("is_isp_bundle")):
            self.env.registry.clear_cache()  # isp.hotspot._isp_catalogue_cached
        return result

    def unlink(self):
        bundles = any(self.mapped("is_isp_bundle"))
        result = super().unlink()
        if bundles:
            self.env.registry.clear_cache()  # isp.hotspot._isp_catalogue_cached
        return result
