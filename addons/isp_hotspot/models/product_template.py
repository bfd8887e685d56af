from odoo import api, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    @api.model_create_multi
    def create(self, vals_list):
        templates = super().create(vals_list)
        if any(templates.mapped("is_isp_bundle")):
            self.env.registry.clear_cache()  # isp.hotspot._isp_catalogue_cached
        return templates

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
