from odoo import models


class IspSubscription(models.Model):
    _inherit = "isp.subscription"

    def _isp_state_changed(self, previous_states):
        result = super()._isp_state_changed(previous_states)
        # Queue the routers' update now (no router call inside the customer's transaction).
        self.env["isp.router.job"].sudo()._isp_enqueue(self, reason="state")
        return result

    def _isp_hotspot_login(self, ip, mac, router):
        """Bring this paid hotspot customer online on ``router`` for the device at ``ip`` /
        ``mac`` (captive page hand-off), without the customer typing anything. Returns
        ``{"ok": bool, "message": str}``."""
        self.ensure_one()
        return router._isp_hotspot_login(self, ip, mac)
