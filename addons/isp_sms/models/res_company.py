from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .isp_sms_gateway import API_CLASSES


class ResCompany(models.Model):
    _inherit = "res.company"

    isp_sms_gateway_id = fields.Many2one(
        "isp.sms.gateway",
        string="ISP SMS Gateway",
        domain="[('company_id', '=', id)]",
        ondelete="set null",
        help="When set, this company's SMS go through this gateway (NextSMS or Africa's "
        "Talking); when empty, through Odoo's own choice (IAP, or Twilio).",
    )
    # SMS reminders before expiry (isp.subscription._cron_isp_sms_reminders)
    isp_reminder_hotspot_hours = fields.Integer(
        string="Hotspot Reminder (hours before expiry)",
        default=2,
    )
    isp_reminder_pppoe_days = fields.Char(
        string="PPPoE Reminders (days before expiry)",
        default="7,3,1",
        help="Comma-separated list of days before expiry at which PPPoE customers are reminded.",
    )

    # usage-threshold SMS (isp.subscription._sms_usage_alerts)
    isp_usage_alert_percent = fields.Integer(
        string="Data Use Alert (%)",
        default=80,
        help="Customers get one SMS per period when they have used this share of their data "
        "cap (0: no such SMS).",
    )

    _isp_usage_alert_percent_range = models.Constraint(
        "CHECK(isp_usage_alert_percent >= 0 AND isp_usage_alert_percent < 100)",
        "The data use alert is a percentage of the data cap from 1 to 99 (0: off).",
    )

    @api.constrains("isp_sms_gateway_id")
    def _check_isp_sms_gateway_company(self):
        """A company sends through one of its own gateways only (its credits, its sender
        name): the field's domain says so to the form, this to everything else."""
        for company in self.sudo():
            gateway = company.isp_sms_gateway_id
            if gateway and gateway.company_id != company:
                raise ValidationError(
                    self.env._(
                        "The SMS gateway %(gateway)s belongs to another company.",
                        gateway=gateway.display_name,
                    )
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

    def _get_sms_api_class(self):
        """Override of sms to send through the company's ISP gateway, when it has one."""
        self.ensure_one()
        gateway = self.sudo().isp_sms_gateway_id
        if gateway.active:
            return API_CLASSES[gateway.provider]
        return super()._get_sms_api_class()
