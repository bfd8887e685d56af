from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    isp_default_device_limit = fields.Integer(
        string="Default Device Limit",
        default=3,
        help="Devices a new ISP customer may register at once, unless the customer or the "
        "bundle says otherwise.",
    )
    isp_reminder_hotspot_hours = fields.Integer(
        string="Hotspot Reminder (hours before expiry)",
        default=2,
    )
    isp_reminder_pppoe_days = fields.Char(
        string="PPPoE Reminders (days before expiry)",
        default="7,3,1",
        help="Comma-separated list of days before expiry at which PPPoE customers are reminded.",
    )
    isp_access_log_retention_days = fields.Integer(
        string="Access Log Retention (days)",
        default=90,
    )

    _isp_default_device_limit_positive = models.Constraint(
        "CHECK(isp_default_device_limit > 0)",
        "The default device limit must be at least 1.",
    )
    _isp_access_log_retention_positive = models.Constraint(
        "CHECK(isp_access_log_retention_days > 0)",
        "The access log retention must be at least one day.",
    )

    @api.constrains("isp_reminder_pppoe_days")
    def _check_isp_reminder_pppoe_days(self):
        for company in self:
            company._isp_parse_day_offsets(company.isp_reminder_pppoe_days)

    def _isp_parse_day_offsets(self, text):
        """Parse "7,3,1" into [7, 3, 1] (descending, unique); raise a readable error otherwise."""
        offsets = set()
        for part in (text or "").split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isdigit() or int(part) <= 0:
                raise ValidationError(
                    self.env._(
                        "Reminder offsets must be whole numbers of days above zero, "
                        "separated by commas (e.g. 7,3,1); %(value)r is not.",
                        value=part,
                    )
                )
            offsets.add(int(part))
        return sorted(offsets, reverse=True)
