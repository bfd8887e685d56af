from odoo import api, models


class IspHotspotCatalogueCache(models.AbstractModel):
    """Bundles (product templates and variants) clear the captive page's cached catalogue
    (``isp.hotspot._isp_catalogue_cached``) when one is created, changed or deleted."""

    _name = "isp.hotspot.catalogue.cache"
    _description = "ISP Hotspot Catalogue Cache Invalidation"

    def _isp_has_bundle(self):
        return any(self.mapped("is_isp_bundle"))

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        if records._isp_has_bundle():
            self.env.registry.clear_cache()
        return records

    def write(self, vals):
        bundles = self._isp_has_bundle()
        result = super().write(vals)
        if bundles or self._isp_has_bundle():
            self.env.registry.clear_cache()
        return result

    def unlink(self):
        bundles = self._isp_has_bundle()
        result = super().unlink()
        if bundles:
            self.env.registry.clear_cache()
        return result
