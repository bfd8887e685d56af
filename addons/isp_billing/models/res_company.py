from datetime import timedelta

from odoo import fields, models
from odoo.fields import Domain


class ResCompany(models.Model):
    _inherit = "res.company"

    isp_default_device_limit = fields.Integer(
        string="Default Device Limit",
        default=3,
        help="Devices a new ISP customer may register at once, unless the customer or the "
        "bundle says otherwise.",
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

    def _isp_retention_domain(self, date_field, days_field):
        """Records of every company older than that company's retention (``days_field``, in
        days), by ``date_field``: the domain the retention purges delete from."""
        now = fields.Datetime.now()
        return Domain.OR(
            [
                ("company_id", "=", company.id),
                (date_field, "<", now - timedelta(days=company[days_field])),
            ]
            for company in self.sudo().search([])
        )
