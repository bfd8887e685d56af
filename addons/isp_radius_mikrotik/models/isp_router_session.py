"""A RADIUS router's sessions are accounted by FreeRADIUS (isp_radius): its poll counts them
and adds no data use (it would count them twice)."""

from odoo import api, models

from odoo.addons.isp_mikrotik import routeros


class IspRouterSession(models.Model):
    _inherit = "isp.router.session"

    @api.model
    def _poll_router(self, router, client):
        if router.provisioning != "radius":
            return super()._poll_router(router, client)
        return sum(
            len(client.print(routeros.MENUS[service][2], [".id"]))
            for service in router._enabled_services()
        )
