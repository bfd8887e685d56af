from odoo import models


class IspSubscription(models.Model):
    _inherit = "isp.subscription"

    def _state_changed(self, previous_states):
        result = super()._state_changed(previous_states)
        # Queue the routers' update now (no router call inside the customer's transaction).
        self.env["isp.router.job"].sudo()._enqueue(self, reason="state")
        return result

    def _portal_sessions(self, limit=10):
        """The customer's sessions on the routers for the portal (isp_billing's hook)."""
        result = super()._portal_sessions(limit=limit)
        sessions = (
            self.env["isp.router.session"]
            .sudo()
            .search(
                [("subscription_id", "=", self.id)], order="last_seen desc, id desc", limit=limit
            )
        )
        return result + [
            {
                "start": session.first_seen,
                "last_seen": session.last_seen,
                "data_mb": session.data_mb,
                "ip": session.ip,
                "online": True,
            }
            for session in sessions
        ]
