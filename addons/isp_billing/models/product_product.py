from odoo import models
from odoo.exceptions import UserError


class ProductProduct(models.Model):
    _inherit = "product.product"

    # Bundle fields come from the template through _inherits; its methods do not.
    def _isp_add_duration(self, start):
        return self.product_tmpl_id._isp_add_duration(start)

    def _isp_sale_error(self, company):
        """Why ``company`` cannot sell this bundle for money (a message for the customer and
        staff), or None. A bundle is priced in its company's currency: a bundle shared by
        every company (no company) is priced in the main company's currency, whatever the
        currency of the company selling it, so it is not sold."""
        self.ensure_one()
        if not self.company_id:
            return self.env._(
                "%(bundle)s cannot be bought: it belongs to no company, so its price has no "
                "currency. Staff: set the bundle's company.",
                bundle=self.display_name,
            )
        if self.company_id != company:
            return self.env._(
                "%(bundle)s is not sold by %(company)s.",
                bundle=self.display_name,
                company=company.name,
            )
        if self.currency_id != company.currency_id:
            return self.env._(
                "%(bundle)s is priced in %(price)s but %(company)s takes payments in %(currency)s.",
                bundle=self.display_name,
                price=self.currency_id.name,
                company=company.name,
                currency=company.currency_id.name,
            )
        return None

    def _isp_customer_price(self, partner=None, company=None):
        """(price, currency): what ``partner`` pays for this bundle, taxes included, in the
        company's currency: the total of the invoice the purchase will have. The one price of
        a bundle: the captive page and the API show it, the payment request asks for it, the
        fulfilment requires it.

        The line's taxes are chosen as an invoice line chooses them (the product's sale
        taxes of the company, else the income account's, mapped by the partner's fiscal
        position) and the total is computed by the same tax engine the invoice uses. Without
        ``partner``: the price of a new customer (no fiscal position).

        :param partner: the customer (res.partner), or empty / None
        :param company: the selling company (default: the partner's, else the current one)
        :raise UserError: when the company cannot sell this bundle (``_isp_sale_error``)
        """
        self.ensure_one()
        partner = partner or self.env["res.partner"]
        company = company or partner.company_id or self.env.company
        error = self._isp_sale_error(company)
        if error:
            raise UserError(error)
        Tax = self.env["account.tax"].with_company(company)
        currency = company.currency_id
        bundle = self.with_company(company)
        fiscal_position = self.env["account.fiscal.position"]
        if partner:
            delivery = partner.address_get(["delivery"])["delivery"]
            fiscal_position = fiscal_position.with_company(company)._get_fiscal_position(
                partner, delivery=self.env["res.partner"].browse(delivery)
            )
        taxes = bundle.taxes_id.filtered_domain(Tax._check_company_domain(company))
        if not taxes:
            account = bundle.product_tmpl_id.get_product_accounts(fiscal_pos=fiscal_position)[
                "income"
            ]
            taxes = account.tax_ids.filtered(lambda tax: tax.type_tax_use == "sale")
        taxes = taxes._filter_taxes_by_company(company)
        if taxes and fiscal_position:
            taxes = fiscal_position.map_tax(taxes)
        base_line = Tax._prepare_base_line_for_taxes_computation(
            None,
            product_id=bundle,
            tax_ids=taxes,
            price_unit=bundle.lst_price,
            quantity=1.0,
            currency_id=currency,
            partner_id=partner,
        )
        Tax._add_tax_details_in_base_lines([base_line], company)
        Tax._round_base_lines_tax_details([base_line], company)
        totals = Tax._get_tax_totals_summary([base_line], currency, company)
        return totals["total_amount_currency"], currency
