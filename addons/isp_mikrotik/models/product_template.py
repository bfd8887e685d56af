import re

from odoo import api, fields, models

from .. import routeros


class ProductTemplate(models.Model):
    _inherit = "product.template"

    isp_mikrotik_profile = fields.Char(
        string="Router Profile",
        copy=False,
        readonly=True,
        help="Name of the hotspot user profile (hotspot bundles) or PPP profile (PPPoE "
        "bundles) the suite keeps on the routers for this bundle, with its rate limit, shared "
        "users and session timeout. Set once from the bundle's id and name: renaming the "
        "bundle keeps it. The reserved prefix isp-billing-b<bundle id> marks the profiles "
        "the suite manages; router profiles without it are never changed or removed.",
    )
    isp_mikrotik_source_profile = fields.Char(
        string="Imported From Profile",
        copy=False,
        readonly=True,
        help="The router profile this bundle was imported from (Import from Router): "
        "importing again matches it instead of creating a new bundle.",
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
        """Override of product.template to give new bundles their router profile name."""
        templates = super().create(vals_list)
        templates._isp_mikrotik_default_profile()
        return templates

    def write(self, vals):
        """Override of product.template to keep each bundle's router profile name its own."""
        result = super().write(vals)
        if vals.get("is_isp_bundle") or "isp_mikrotik_profile" in vals:
            self._isp_mikrotik_default_profile()
        return result

    def _isp_mikrotik_default_profile(self):
        """Give each bundle its router profile name (prefix, own id, a label from its name)
        unless it already has one of its own: a copied or legacy value is replaced."""
        for template in self.filtered("is_isp_bundle"):
            if routeros.parse_profile_name(template.isp_mikrotik_profile) == template.id:
                continue
            slug = re.sub(r"[^a-z0-9]+", "-", (template.name or "").lower()).strip("-")[:32]
            template.isp_mikrotik_profile = routeros.profile_name(template.id, slug.strip("-"))

    def _isp_mikrotik_profile_name(self):
        self.ensure_one()
        if routeros.parse_profile_name(self.isp_mikrotik_profile) == self.id:
            return self.isp_mikrotik_profile
        return routeros.profile_name(self.id)

    def _isp_mikrotik_rate_limit(self):
        """RouterOS rate-limit text ``rx/tx`` from the router's side (the bundle's upload /
        download speeds, isp_billing's fields), or ''."""
        self.ensure_one()
        if not (self.isp_upload_kbps or self.isp_download_kbps):
            return ""
        return f"{rate_text(self.isp_upload_kbps)}/{rate_text(self.isp_download_kbps)}"

    def _isp_mikrotik_fair_use_rate_limit(self):
        """The rate-limit of the bundle's fair-use profile (after the data cap), or ''."""
        self.ensure_one()
        rates = self._isp_fair_use_rates()
        if not rates:
            return ""
        return f"{rate_text(rates[0])}/{rate_text(rates[1])}"


def rate_text(kbps):
    """kbit/s as RouterOS writes a rate ('2M', '512k', '0' for none)."""
    if not kbps:
        return "0"
    if kbps % 1024 == 0:
        return f"{kbps // 1024}M"
    return f"{kbps}k"
