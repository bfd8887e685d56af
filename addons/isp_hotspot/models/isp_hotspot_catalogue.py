"""What the captive page and GET /api/bundles/ sell: bundles, prices and payment providers."""

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import ormcache


class IspHotspotCatalogue(models.AbstractModel):
    _name = "isp.hotspot.catalogue"
    _description = "ISP Hotspot: Catalogue"

    @api.model
    def _bundles(self, company):
        return self.env["product.product"].search(
            [
                ("is_isp_bundle", "=", True),
                ("isp_service_type", "=", "hotspot"),
                ("sale_ok", "=", True),
                ("company_id", "in", [company.id, False]),
            ],
            order="sequence, list_price, id",
        )

    @api.model
    def _bundle(self, company, bundle_id):
        """The company's hotspot bundle ``bundle_id`` or a UserError."""
        try:
            bundle_id = int(bundle_id)
        except (TypeError, ValueError):
            bundle_id = 0
        bundle = self._bundles(company).filtered(lambda b: b.id == bundle_id)
        if not bundle:
            raise UserError(self.env._("Choose one of the bundles on this page."))
        return bundle

    @api.model
    def _duration_text(self, template):
        value = template.isp_duration_value or 0
        unit = template.isp_duration_unit or "days"
        if unit == "hours":
            if value == 1:
                return self.env._("1 hour")
            return self.env._("%(count)s hours", count=value)
        if unit == "months":
            if value == 1:
                return self.env._("1 month")
            return self.env._("%(count)s months", count=value)
        if value == 1:
            return self.env._("1 day")
        return self.env._("%(count)s days", count=value)

    @api.model
    def _bundle_values(self, bundles, company):
        """What the page and the API show of the bundles ``company`` can sell: the price is
        the customer price (``product.product._isp_customer_price``: taxes included, in the
        company's currency), the amount a payment asks for. Bundles the company cannot sell
        for money (no company, another currency) are left out."""
        result = []
        for bundle in bundles:
            if bundle._isp_sale_error(company):
                continue
            template = bundle.product_tmpl_id
            price, currency = bundle._isp_customer_price(None, company)
            # the saving is computed on list prices: shown in customer prices, at this
            # bundle's tax ratio
            saving = (
                currency.round(template.isp_saving * price / bundle.lst_price)
                if template.isp_saving and bundle.lst_price
                else 0.0
            )
            result.append(
                {
                    "id": bundle.id,
                    "name": bundle.name,
                    "description": template.isp_marketing_description or "",
                    "price": price,
                    "price_text": self._money(price, currency),
                    "currency": currency.name,
                    "duration_value": template.isp_duration_value,
                    "duration_unit": template.isp_duration_unit,
                    "duration_hours": template.isp_duration_hours,
                    "duration_text": self._duration_text(template),
                    "saving": saving,
                    "saving_text": self._money(saving, currency) if saving else "",
                    "data_cap_mb": template.isp_data_cap_mb,
                    "device_limit": template.isp_device_limit,
                }
            )
        return result

    @api.model
    def _catalogue(self, company):
        """What the page and GET /api/bundles/ show, from a cache per company and language:
        ``{"company", "currency", "bundles": [values], "providers": [(id, name)]}`` (the
        providers a public visitor can pay with). Changes to bundles, taxes, providers,
        payment methods and companies clear it (product's own clearing for variants, this
        module's overrides of product.template, account.tax, payment.provider,
        payment.method and res.company): without it the page costs 21 queries instead of
        1 and runs at a fifth of a bare Odoo route's rate (bench/bench_hotspot.py)."""
        catalogue = self._catalogue_cached(company.id, self.env.lang or "en_US")
        return {
            "company": catalogue["company"],
            "currency": catalogue["currency"],
            "bundles": [dict(values) for values in catalogue["bundles"]],
            "providers": list(catalogue["providers"]),
        }

    @api.model
    @ormcache("company_id", "lang")
    def _catalogue_cached(self, company_id, lang):
        hotspot = self.sudo().with_context(lang=lang)
        company = hotspot.env["res.company"].browse(company_id)
        bundles = hotspot._bundle_values(hotspot._bundles(company), company)
        public = hotspot.with_user(hotspot.env.ref("base.public_user")).sudo()
        providers = public._providers(company)
        return {
            "company": company.name,
            "currency": company.currency_id.name,
            "bundles": tuple(bundles),
            "providers": tuple((provider.id, provider.name) for provider in providers),
        }

    @api.model
    def _providers(self, company, amount=0.0):
        """The company's enabled providers the page can take a payment with."""
        providers = self.env["payment.provider"]._get_compatible_providers(
            company.id,
            self.env.ref("base.public_partner").id,
            amount,
            currency_id=company.currency_id.id,
        )
        return providers.filtered(lambda p: p._isp_hotspot_can_push())
