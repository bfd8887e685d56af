from odoo import api, models


class IspHotspotRouterLogin(models.AbstractModel):
    _inherit = "isp.hotspot.router.login"

    @api.model
    def _router(self, company, nas):
        """``company``'s router named by the captive page's ``nas`` parameter (its id, which
        the router's login.html passes on), or an empty recordset: no ``nas``, a malformed
        one, an unknown router or another company's."""
        try:
            router_id = int(nas) if nas else 0
        except (TypeError, ValueError):
            router_id = 0
        if router_id <= 0 or not company:
            return self.env["isp.router"]
        Router = self.env["isp.router"].sudo()
        return Router.search([("id", "=", router_id), ("company_id", "=", company.id)], limit=1)

    @api.model
    def _router_login(self, subscription, nas, ip, mac):
        """Override of isp_hotspot: log the device in on the router ``nas`` through its
        RouterOS API (``isp.router._hotspot_login``). None for an unknown router (the page
        then posts to the router's login URL)."""
        result = super()._router_login(subscription, nas, ip, mac)
        if result is not None or not (subscription and ip):
            return result
        router = self._router(subscription.company_id, nas)
        if not router:
            return None
        return router._hotspot_login(subscription, ip, mac)

    @api.model
    def _router_login_hosts(self, company, nas=None):
        """Override of isp_hotspot: the *Hotspot Login Address* of the router ``nas``, only
        when the page names one (any rogue hotspot can use a router's address)."""
        hosts = super()._router_login_hosts(company, nas=nas)
        router = self._router(company, nas)
        if router.service_hotspot and router.hotspot_address:
            hosts = hosts + [router.hotspot_address.strip()]
        return hosts
