from odoo import api, models

# Odoo's mobile-money payment methods: paid by a push (STK / USSD) to the customer's phone.
PUSH_METHOD_CODES = {"mpesa", "mobile_money", "momo"}


class PaymentProvider(models.Model):
    _inherit = "payment.provider"

    # Fields the captive page's provider list depends on (isp.hotspot._catalogue_cached):
    # writing others (a provider's access token, say) keeps the cache.
    _ISP_CATALOGUE_FIELDS = {
        "name",
        "state",
        "is_published",
        "company_id",
        "sequence",
        "available_country_ids",
        "available_currency_ids",
        "maximum_amount",
        "payment_method_ids",
        "allow_tokenization",
        "module_id",
    }

    @api.model_create_multi
    def create(self, vals_list):
        """Override of payment to clear the captive page's catalogue (its providers)."""
        self.env.registry.clear_cache()  # isp.hotspot._catalogue_cached
        return super().create(vals_list)

    def write(self, vals):
        """Override of payment to clear the captive page's catalogue when it changes."""
        if self._ISP_CATALOGUE_FIELDS & set(vals):
            self.env.registry.clear_cache()  # isp.hotspot._catalogue_cached
        return super().write(vals)

    def unlink(self):
        """Override of payment to clear the captive page's catalogue (its providers)."""
        self.env.registry.clear_cache()  # isp.hotspot._catalogue_cached
        return super().unlink()

    def _isp_hotspot_can_push(self):
        """Whether the captive page can take a payment with this provider without leaving
        the page: a direct flow that pushes the request to the customer's phone.

        The page uses Odoo's generic payment flow and knows no provider. A provider module
        offers the push through isp_billing's hooks ``payment.provider._isp_can_push`` and
        ``payment.transaction._isp_send_push(phone, client_ip=None)`` (isp_mpesa does, for
        M-Pesa and ClickPesa) and by selling through one of Odoo's mobile-money payment
        methods."""
        self.ensure_one()
        if not self._isp_can_push():
            return False
        codes = set(self.payment_method_ids.filtered("active").mapped("code"))
        return bool(codes & PUSH_METHOD_CODES)

    def _isp_hotspot_payment_method(self):
        self.ensure_one()
        methods = self.payment_method_ids.filtered(
            lambda m: m.active and m.code in PUSH_METHOD_CODES
        )
        return methods[:1]
