from odoo import fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    isp_platform_default = fields.Boolean(
        string="Operator Default",
        copy=False,
        help="Platform company's bundle copied to every newly approved operator, priced in "
        "the operator's currency at the day's rate.",
    )
