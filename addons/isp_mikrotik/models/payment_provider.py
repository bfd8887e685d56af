from odoo import models

# Hosts a customer's browser must reach, before being online, to pay with a provider whose
# payment page is on its own site (HTTPS: RouterOS' walled-garden/ip). Providers that push the
# payment to the phone (STK/USSD) need nothing here. Other modules extend
# ``_isp_walled_garden_hosts`` for their providers.
PROVIDER_HOSTS = {
    "stripe": ["js.stripe.com", "api.stripe.com", "checkout.stripe.com", "m.stripe.network"],
    "paypal": ["www.paypal.com", "www.paypalobjects.com", "www.sandbox.paypal.com"],
    "flutterwave": ["checkout.flutterwave.com", "api.flutterwave.com"],
    "adyen": ["checkoutshopper-live.adyen.com", "checkoutshopper-test.adyen.com"],
    "mercado_pago": ["www.mercadopago.com", "api.mercadopago.com", "sdk.mercadopago.com"],
    "razorpay": ["checkout.razorpay.com", "api.razorpay.com"],
    "xendit": ["checkout.xendit.co", "api.xendit.co", "js.xendit.co"],
    "dpo": ["secure.3gdirectpay.com"],
    "mollie": ["www.mollie.com", "js.mollie.com"],
    "authorize": ["accept.authorize.net", "jstest.authorize.net", "js.authorize.net"],
}


class PaymentProvider(models.Model):
    _inherit = "payment.provider"

    def _isp_walled_garden_hosts(self):
        """Host names to allow in the hotspot walled garden for these (enabled) providers."""
        hosts = []
        for provider in self:
            hosts += PROVIDER_HOSTS.get(provider.code, [])
        return hosts
