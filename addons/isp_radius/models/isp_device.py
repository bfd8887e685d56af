"""A customer's device removed (archived or deleted) loses its RADIUS sessions: a
Disconnect-Request is queued for the open sessions from its MAC address (isp.radius.request),
nothing waits for the NAS."""

from odoo import models


class IspDevice(models.Model):
    _inherit = "isp.device"

    def write(self, vals):
        if "active" in vals and not vals["active"]:
            removed = self.filtered("active")
            result = super().write(vals)
            if removed:
                self.env["isp.radius.request"].sudo()._queue_device_disconnect(
                    removed, self.env._("Device removed")
                )
            return result
        return super().write(vals)

    def unlink(self):
        # queued before the rows go: the sessions are found by the device's MAC and owner
        if self:
            self.env["isp.radius.request"].sudo()._queue_device_disconnect(
                self.filtered("active"), self.env._("Device deleted")
            )
        return super().unlink()
