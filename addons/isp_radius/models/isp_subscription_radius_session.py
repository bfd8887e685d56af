"""RADIUS sessions on the customer's subscription page (isp_billing's portal hook)."""

from odoo import models


class IspSubscription(models.Model):
    _inherit = "isp.subscription"  # pylint: disable=consider-merging-classes-inherited

    def _portal_sessions(self, limit=10):
        """The customer's RADIUS sessions, newest first, with the other modules' (router
        poll), the whole list cut at ``limit``."""
        result = super()._portal_sessions(limit=limit)
        sessions = (
            self.env["isp.radius.session"]
            .sudo()
            .search(
                [("subscription_id", "=", self.id)], order="last_update desc, id desc", limit=limit
            )
        )
        result += [
            {
                "start": session.start,
                "last_seen": session.stop or session.last_update,
                "data_mb": session.data_mb,
                "ip": session.ip,
                "online": session.state == "open",
            }
            for session in sessions
        ]
        result.sort(key=lambda s: s["last_seen"] or s["start"], reverse=True)
        return result[:limit]
