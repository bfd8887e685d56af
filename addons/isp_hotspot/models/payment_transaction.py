from odoo import fields, models
from odoo.exceptions import UserError

from odoo.addons.payment import utils as payment_utils


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    isp_hotspot_mac = fields.Char(string="Hotspot Device MAC", readonly=True)
    isp_hotspot_ip = fields.Char(string="Hotspot Device Address", readonly=True)

    def _isp_hotspot_access_token(self):
        self.ensure_one()
        return payment_utils.generate_access_token("isp-hotspot", self.reference, env=self.env)

    def _isp_hotspot_check_token(self, token):
        self.ensure_one()
        return bool(token) and payment_utils.check_access_token(
            token, "isp-hotspot", self.reference
        )

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
