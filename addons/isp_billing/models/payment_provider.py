from odoo import models


class PaymentProvider(models.Model):
    _inherit = "payment.provider"

    def _isp_can_push(self):
        """Hook: whether this provider can push a payment request to the customer's phone
        (STK / USSD push: a direct flow the customer completes on the phone, so a page such
        as the captive page never leaves). Provider modules return True for their codes and
        implement ``payment.transaction._isp_send_push``."""
        self.ensure_one()
        return False
