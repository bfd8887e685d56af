from odoo import models


class IspPurchase(models.Model):
    _inherit = "isp.purchase"

    def _isp_fulfilled(self):
        result = super()._isp_fulfilled()
        # A new period changes expiry and limits: the routers follow.
        self.env["isp.router.job"].sudo()._isp_enqueue(self.subscription_id, reason="purchase")
        return result
