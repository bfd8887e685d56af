"""The sync queue serves the routers provisioned over the API only."""

from odoo import api, models


class IspRouterJob(models.Model):
    _inherit = "isp.router.job"

    @api.model
    def _enqueue(self, subscriptions, reason="state", routers=None):
        """No user job for a RADIUS router: its logins are answered by FreeRADIUS."""
        if routers is None:
            routers = self.env["isp.router"].sudo().search([("provisioning", "=", "api")])
        else:
            routers = routers.filtered(lambda r: r.provisioning == "api")
        if not routers:
            return self.browse()
        return super()._enqueue(subscriptions, reason=reason, routers=routers)
