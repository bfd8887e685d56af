import time
from datetime import timedelta

from odoo import fields, models
from odoo.exceptions import UserError
from odoo.tools import consteq
from odoo.tools.misc import hmac

# How long the payer can follow a hotspot payment (its status signs the paying device in):
# the access token, and the paying browser's session, stop working after this.
ACCESS_TOKEN_LIFETIME = timedelta(hours=6)


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    isp_hotspot_mac = fields.Char(string="Hotspot Device MAC", readonly=True)
    isp_hotspot_ip = fields.Char(string="Hotspot Device Address", readonly=True)
    isp_hotspot_lang = fields.Char(
        string="Hotspot Page Language",
        readonly=True,
        help="The language of the captive page (or API request) the payment started on: the "
        "payer's language once the payment makes them a customer (res.partner._isp_adopt_lang).",
    )

    def _isp_customer_partner(self):
        """Override of isp_billing: the payer speaks the language of the page they paid on
        (a new customer gets it; a found one adopts it as ``_isp_adopt_lang`` decides), so
        that the confirmation SMS is in it."""
        lang = self.isp_hotspot_lang
        tx = self.with_context(isp_customer_lang=lang) if lang else self
        partner = super(PaymentTransaction, tx)._isp_customer_partner().with_env(self.env)
        if lang and partner.is_isp_customer:
            partner._isp_adopt_lang(lang)
        return partner

    def _isp_hotspot_token_signature(self, issued):
        return hmac(self.env(su=True), "isp-hotspot-status", f"{self.reference}:{issued}")

    def _isp_hotspot_access_token(self, now=None):
        """``<issued at, hex seconds>.<HMAC of the reference and that time>``: it follows
        this payment (and signs the paying device in once paid) for
        ``ACCESS_TOKEN_LIFETIME`` after it was issued. Sent in a header, never in a URL."""
        self.ensure_one()
        issued = int(now if now is not None else time.time())
        return f"{issued:x}.{self._isp_hotspot_token_signature(issued)}"

    def _isp_hotspot_check_token(self, token, now=None):
        """True when ``token`` is this payment's and was issued less than
        ``ACCESS_TOKEN_LIFETIME`` ago."""
        self.ensure_one()
        if not isinstance(token, str) or len(token) > 100 or token.count(".") != 1:
            return False
        issued, signature = token.split(".")
        try:
            issued = int(issued, 16)
        except ValueError:
            return False
        if not consteq(signature, self._isp_hotspot_token_signature(issued)):
            return False
        age = (now if now is not None else time.time()) - issued
        return 0 <= age <= ACCESS_TOKEN_LIFETIME.total_seconds()

    def _isp_hotspot_recent(self, now=None):
        """True while the payment can still be followed (``ACCESS_TOKEN_LIFETIME`` after its
        creation): the limit of the paying browser's session, which needs no token."""
        self.ensure_one()
        now = now or fields.Datetime.now()
        return bool(self.create_date) and now - self.create_date <= ACCESS_TOKEN_LIFETIME

    def _isp_hotspot_push(self, phone, client_ip=None):
        """Ask the provider to push the payment request to ``phone`` (direct flow). The
        provider module implements ``_isp_send_push`` (see
        ``payment.provider._isp_hotspot_can_push``); bad input raises a UserError."""
        self.ensure_one()
        if not self.provider_id._isp_hotspot_can_push():
            raise UserError(
                self.env._(
                    "%(provider)s cannot take payments on this page.",
                    provider=self.provider_id.name,
                )
            )
        return self._isp_send_push(phone, client_ip=client_ip)
