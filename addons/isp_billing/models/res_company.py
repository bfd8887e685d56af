import re
from datetime import timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain

from .isp_voucher_batch import CARD_LAYOUTS, DEFAULT_CARD_LAYOUT


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
    # M-Pesa Paybill: where customers pay, with their account number
    isp_paybill_number = fields.Char(
        string="Paybill Number",
        help="The M-Pesa Paybill number customers pay to, with their account number as the "
        "account: shown on the portal, invoices and payment reminder SMS. Empty: not shown. "
        "A Buy Goods Till takes no account number: leave this empty for a Till (customers "
        "who pay a Till claim their payment with its receipt code).",
    )
    # Voucher cards: what the customer needs to get online, printed on every card
    isp_wifi_ssid = fields.Char(
        string="Wi-Fi Network Name",
        help="The hotspot's network name (SSID), printed on voucher cards: the network to "
        "connect to. Empty: not printed.",
    )
    isp_login_address = fields.Char(
        string="Login Address",
        help="Where customers type their voucher code, printed on voucher cards: the "
        "hotspot's DNS name or address, e.g. http://wifi.net or 10.5.50.1. Empty: not "
        "printed (the card's QR code still opens the captive page).",
    )
    isp_voucher_card_layout = fields.Selection(
        CARD_LAYOUTS,
        string="Default Card Layout",
        default=DEFAULT_CARD_LAYOUT,
        # not required: a NOT NULL column on res_company breaks Odoo's own tests of the
        # modules loaded before ours (scripts/test.sh checks); empty means the default
        help="How new voucher batches are printed (each batch can change it).",
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

    def _isp_tz_name(self):
        """The company's time zone (customers' dates and times are written in it): its
        partner's, else its country's first (pytz.country_timezones: Africa/Dar_es_Salaam for
        Tanzania, Africa/Nairobi for Kenya), else UTC."""
        company = self[:1] or self.env.company
        tz_name = company.partner_id.tz
        if not tz_name and company.country_id.code:
            zones = pytz.country_timezones.get(company.country_id.code)
            tz_name = zones[0] if zones else None
        return tz_name if tz_name in pytz.all_timezones_set else "UTC"

    @api.constrains("isp_wifi_ssid", "isp_login_address")
    def _check_isp_card_texts(self):
        for company in self:
            if company.isp_wifi_ssid and len(company.isp_wifi_ssid.encode()) > 32:
                raise ValidationError(
                    self.env._("A Wi-Fi network name (SSID) has at most 32 bytes.")
                )
            address = company.isp_login_address or ""
            if address and (len(address) > 100 or any(c.isspace() for c in address)):
                raise ValidationError(
                    self.env._(
                        "The login address is one address without spaces, e.g. "
                        "http://wifi.net or 10.5.50.1."
                    )
                )

    @api.constrains("isp_paybill_number")
    def _check_isp_paybill_number(self):
        for company in self:
            number = company.isp_paybill_number
            if number and not re.fullmatch(r"[0-9]{5,10}", number):
                raise ValidationError(
                    self.env._(
                        "A Paybill or Till number is 5 to 10 digits, without spaces: %(number)s",
                        number=number,
                    )
                )

    def _isp_sale_refusal(self):
        """Why this company's customers cannot start a new purchase online right now (a
        neutral text for the customer), or False when they can. Hook: False here; a module
        that pauses a company's online sales (isp_platform: an operator's unpaid platform
        subscription) returns its message. Access already sold is never affected."""
        return False

    def _isp_paybill_number(self):
        """The Paybill / Till number this company's customers pay to (with their account
        number), or False when it has none: the setting here; isp_mpesa adds a fallback."""
        company = self[:1] or self.env.company
        return company.isp_paybill_number or False

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

    def _isp_cash_journal(self):
        """The company's Cash journal, where counter sales paid in cash are registered;
        created when the company has none. Odoo 19's chart templates give a company Sales,
        Purchases, Bank and miscellaneous journals but no Cash journal: it is made here the
        way Odoo makes one (code CSH1, CSH2... by ``_get_next_journal_default_code``; its
        liquidity account under the company's cash account prefix and its cash difference
        accounts by ``account.journal``'s own defaults). A company without a chart of
        accounts cannot invoice: it gets a clear error instead."""
        self.ensure_one()
        Journal = self.env["account.journal"].sudo().with_company(self)
        journal = Journal.search(
            [("type", "=", "cash"), ("company_id", "=", self.id)], order="sequence, id", limit=1
        )
        if journal:
            return journal
        if not self.sudo().chart_template:
            raise UserError(
                self.env._(
                    "%(company)s has no chart of accounts yet, so it cannot take payments: "
                    "an accountant sets up Invoicing (Settings > Invoicing > Fiscal "
                    "Localization) first.",
                    company=self.name,
                )
            )
        return Journal.create(
            {
                "name": self.env._("Cash"),
                "type": "cash",
                "code": Journal._get_next_journal_default_code("cash", self),
                "company_id": self.id,
            }
        )
