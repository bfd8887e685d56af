from odoo import models


class ProductProduct(models.Model):
    _inherit = "product.product"

    # Bundle fields come from the template through _inherits; its methods do not.
    def _isp_add_duration(self, start):
        return self.product_tmpl_id._isp_add_duration(start)

    def _isp_rate_limit(self):
        return self.product_tmpl_id._isp_rate_limit()
