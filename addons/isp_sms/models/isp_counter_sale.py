from odoo import api, fields, models

SMS_STATUSES = [
    ("queued", "Queued"),
    ("sent", "Sent"),
    ("failed", "Failed"),
    ("none", "Not Queued"),
]
NOTIFICATION_TO_STATUS = {
    "ready": "queued",
    "process": "queued",
    "pending": "sent",
    "sent": "sent",
    "exception": "failed",
    "bounce": "failed",
    "canceled": "none",
}


class IspCounterSale(models.Model):
    _inherit = "isp.counter.sale"

    isp_sms_status = fields.Selection(
        SMS_STATUSES,
        string="Confirmation SMS",
        compute="_compute_isp_sms_status",
        compute_sudo=True,
        help="The confirmation SMS of the sale, as its notification in the subscription's "
        "chatter says: queued (waiting for the SMS queue), sent, failed, or not queued.",
    )
    isp_sms_status_detail = fields.Char(compute="_compute_isp_sms_status", compute_sudo=True)

    @api.depends("purchase_id.isp_sms_message_id.notification_ids.notification_status")
    def _compute_isp_sms_status(self):
        for sale in self:
            sale.isp_sms_status = False
            sale.isp_sms_status_detail = False
            if sale.state != "done":
                continue
            notifications = sale.purchase_id.isp_sms_message_id.notification_ids.filtered(
                lambda n: n.notification_type == "sms"
            )
            if not notifications:
                sale.isp_sms_status = "none"
                sale.isp_sms_status_detail = self.env._(
                    "No confirmation SMS was queued (no SMS template, or it could not be "
                    "rendered: see the server log)."
                )
                continue
            notification = notifications[:1]
            sale.isp_sms_status = NOTIFICATION_TO_STATUS.get(
                notification.notification_status, "queued"
            )
            if sale.isp_sms_status == "failed":
                sale.isp_sms_status_detail = notification.failure_reason or dict(
                    notification._fields["failure_type"]._description_selection(self.env)
                ).get(notification.failure_type)
            else:
                sale.isp_sms_status_detail = notification.sms_number
