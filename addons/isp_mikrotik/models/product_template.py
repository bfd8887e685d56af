import re

from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ProductTemplate(models.Model):
    _inherit = "product.template"

    isp_mikrotik_profile = fields.Char(
        string="Router Profile",
        copy=False,
        help="Name of the hotspot user profile (hotspot bundles) or PPP profile (PPPoE "
        "bundles) created on the routers for this bundle, with its rate limit, shared users "
        "and session timeout. Filled in from the bundle's name when left empty.",
    )
    isp_data_cap_action = fields.Selection(
        [("suspend", "Suspend the subscription"), ("expire", "End the subscription")],
        string="When the Data Cap Is Reached",
        default="suspend",
        help="Suspended subscriptions can be resumed by staff; ended ones need a new purchase. "
        "The customer's sessions are dropped either way.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        templates = super().create(vals_list)
        templates._isp_mikrotik_default_profile()
        return templates

    def write(self, vals):
        result = super().write(vals)
        if vals.get("is_isp_bundle") or "isp_mikrotik_profile" in vals:
            self._isp_mikrotik_default_profile()
        return result

    def _isp_mikrotik_default_profile(self):
        for template in self.filtered(lambda t: t.is_isp_bundle and not t.isp_mikrotik_profile):
            slug = re.sub(r"[^a-z0-9]+", "-", (template.name or "").lower()).strip("-")[:24]
            template.isp_mikrotik_profile = f"isp-{slug or 'bundle'}-{template.id}"

    def _isp_mikrotik_profile_name(self):
        self.ensure_one()
        return self.isp_mikrotik_profile or f"isp-bundle-{self.id}"

    @api.constrains("isp_mikrotik_profile", "isp_service_type", "company_id")
    def _check_isp_mikrotik_profile(self):
        for template in self.filtered("isp_mikrotik_profile"):
            if not re.fullmatch(r"[\w.\-]{1,64}", template.isp_mikrotik_profile):
                raise ValidationError(
                    self.env._(
                        "Router profile %(name)r: use letters, digits, '.', '-' or '_' only "
                        "(at most 64).",
                        name=template.isp_mikrotik_profile,
                    )
                )
            clash = self.search_count(
                [
                    ("id", "!=", template.id),
                    ("is_isp_bundle", "=", True),
                    ("isp_service_type", "=", template.isp_service_type),
                    ("isp_mikrotik_profile", "=", template.isp_mikrotik_profile),
                    ("company_id", "in", [template.company_id.id, False]),
                ],
                limit=1,
            )
            if clash:
                raise ValidationError(
                    self.env._(
                        "Another bundle already uses the router profile %(name)s.",
                        name=template.isp_mikrotik_profile,
                    )
                )
