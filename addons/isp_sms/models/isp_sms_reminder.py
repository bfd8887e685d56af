from odoo import fields, models


class IspSmsReminder(models.Model):
    """One expiry reminder queued for one subscription period: the reminders cron inserts a
    row before queueing the SMS, and the unique index makes every reminder once per period
    (the period is identified by its expiry: a renewal moves it)."""

    _name = "isp.sms.reminder"
    _description = "ISP SMS Expiry Reminder"
    _order = "id desc"
    _rec_name = "kind"

    subscription_id = fields.Many2one(
        "isp.subscription", required=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="subscription_id.company_id", store=True)
    partner_id = fields.Many2one(related="subscription_id.partner_id")
    date_expiry = fields.Datetime(
        string="Period Expiry", required=True, readonly=True, help="Expiry the reminder is for."
    )
    kind = fields.Char(
        required=True, readonly=True, help="Offset before expiry: h2 = 2 hours, d7 = 7 days."
    )
    message_id = fields.Many2one("mail.message", readonly=True, ondelete="set null")

    _once_per_period = models.Constraint(
        "UNIQUE(subscription_id, date_expiry, kind)",
        "This reminder was already sent for this subscription period.",
    )
