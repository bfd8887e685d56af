"""Reject an operator application with a reason (emailed to the applicant)."""

from odoo import fields, models


class IspPlatformApplicationReject(models.TransientModel):
    _name = "isp.platform.application.reject"
    _description = "Reject Operator Application"

    application_id = fields.Many2one("isp.platform.application", required=True, ondelete="cascade")
    reason = fields.Text(required=True, help="Sent to the applicant.")

    def action_reject(self):
        self.ensure_one()
        self.application_id._reject(self.reason)
        return {"type": "ir.actions.act_window_close"}
