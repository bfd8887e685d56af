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

    # PPPoE recurring billing
    isp_recurring_prorate = fields.Boolean(
        string="Pro-rate First Period",
        default=True,
        help="Bill PPPoE subscriptions on the first day of each month: the first period runs "
        "from activation to the end of that month and is charged for its days only. Off: "
        "periods run monthly from the activation date.",
    )
    isp_recurring_due_days = fields.Integer(
        string="PPPoE Invoice Due (days)",
        default=7,
        help="Days between a PPPoE invoice's date and its due date.",
    )
    isp_recurring_grace_days = fields.Integer(
        string="PPPoE Grace Period (days)",
        default=3,
        help="Days after the due date before an unpaid PPPoE subscription is suspended.",
    )
    # Resellers
    isp_reseller_commission_percent = fields.Float(
        string="Reseller Commission (%)",
        default=10.0,
        digits=(5, 2),
        help="Default discount resellers get on the face value of the vouchers they buy.",
    )

    # Vouchers: brute-force limit on the captive page
    isp_voucher_max_failures = fields.Integer(
        string="Voucher Attempts Allowed",
        default=5,
        help="Failed voucher redemptions (unknown, used, expired or void codes) allowed per "
        "phone and per device MAC within the window; 0 disables the limit.",
    )
    isp_voucher_max_failures_ip = fields.Integer(
        string="Voucher Attempts Allowed per IP Address",
        default=50,
        help="Failed voucher redemptions allowed per IP address within the window; 0 disables "
        "the limit. Higher than per phone: behind a router's NAT many customers share one "
        "address.",
    )
    isp_voucher_window_minutes = fields.Integer(
        string="Voucher Attempt Window (minutes)",
        default=15,
    )
    isp_voucher_attempt_retention_days = fields.Integer(
        string="Failed Voucher Attempts Kept (days)",
        default=30,
    )

    _isp_voucher_limits_valid = models.Constraint(
        "CHECK(isp_voucher_max_failures >= 0 AND isp_voucher_max_failures_ip >= 0 "
        "AND isp_voucher_window_minutes > 0 "
        "AND isp_voucher_attempt_retention_days > 0)",
        "Voucher attempts allowed cannot be negative; the window and the retention must be "
        "above zero.",
    )
    _isp_recurring_days_not_negative = models.Constraint(
        "CHECK(isp_recurring_due_days >= 0 AND isp_recurring_grace_days >= 0)",
        "Due and grace days cannot be negative.",
    )
    _isp_reseller_commission_range = models.Constraint(
        "CHECK(isp_reseller_commission_percent >= 0 AND isp_reseller_commission_percent < 100)",
        "A reseller commission is a percentage from 0 to below 100.",
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

    # ------------------------------------------------------------------ hooks

    def _isp_hotspot_login_hosts(self, nas=None):
        """Hook: the login addresses of this company's hotspot routers, as the router puts
        them in the captive page's ``link-login-only`` ("10.5.50.1", "login.example.net:8080"
        or "https://login.example.net"); only of the router ``nas`` (the captive page's
        router parameter), none when the page names no router. The captive page posts a
        customer's hotspot login only to these and to its own setting. Empty here
        (isp_billing knows no routers); a router module (isp_mikrotik) adds its router's."""
        self.ensure_one()
        return []
