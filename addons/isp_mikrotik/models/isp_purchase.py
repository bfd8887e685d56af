from odoo import models


class IspPurchase(models.Model):
    _inherit = "isp.purchase"

    def _fulfilled(self):
        result = super()._fulfilled()
        # A new period changes expiry and limits: the routers follow.
        self.env["isp.router.job"].sudo()._enqueue(self.subscription_id, reason="purchase")
        return result
