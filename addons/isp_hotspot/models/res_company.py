from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .isp_hotspot_router_login import parse_login_host


class ResCompany(models.Model):
    _inherit = "res.company"

    # Per client address limits of the captive page and API (0: no limit). Behind a hotspot
    # router's NAT every customer reaches Odoo from the router's one address: these are
    # well above the per-phone limits.
    isp_hotspot_ip_payment_limit = fields.Integer(
        string="Payment Requests per Address (10 minutes)",
        default=200,
        help="Mobile-money payment requests one client address may make in 10 minutes; "
        "0: no limit. Each phone number may make 5.",
    )
    isp_hotspot_ip_code_limit = fields.Integer(
        string="Sign-in Codes per Address (15 minutes)",
        default=100,
        help="Sign-in codes by SMS one client address may ask for in 15 minutes; 0: no "
        "limit. Each phone number may ask for 3.",
    )
    isp_hotspot_ip_signin_limit = fields.Integer(
        string="Sign-in Attempts per Address (15 minutes)",
        default=200,
        help="Sign-in code checks one client address may make in 15 minutes; 0: no limit.",
    )
    isp_hotspot_ip_voucher_limit = fields.Integer(
        string="Voucher Redemptions per Address (10 minutes)",
        default=100,
        help="Voucher redemptions one client address may try in 10 minutes; 0: no limit. "
        "Wrong codes are also limited per phone and device (ISP → Vouchers). Claims by "
        "M-Pesa receipt (paid by Paybill/Till) have the same limit, counted apart.",
    )
    isp_hotspot_ip_lookup_limit = fields.Integer(
        string="Account Lookups per Address (minute)",
        default=600,
        help="Customer status lookups of the API one client address may make in a minute; "
        "0: no limit.",
    )

    isp_hotspot_login_hosts = fields.Text(
        string="Hotspot Login Addresses",
        help="The routers' hotspot login addresses (their link-login-only) the captive page "
        "may send a customer's hotspot login to, one a line or comma-separated: a host "
        "(10.5.50.1, login.example.net:8080: http or https) or an origin "
        "(https://login.example.net). The address of the router the page names (ISP → "
        "Routers) is added to these. A login page of any other host gets no login: the page "
        "says the router is unknown. Without CHAP, the page fills in the password for an "
        "http:// address only when it is listed here; otherwise the customer types it.",
    )

    _isp_hotspot_ip_limits_not_negative = models.Constraint(
        "CHECK(isp_hotspot_ip_payment_limit >= 0 AND isp_hotspot_ip_code_limit >= 0 "
        "AND isp_hotspot_ip_signin_limit >= 0 AND isp_hotspot_ip_voucher_limit >= 0 "
        "AND isp_hotspot_ip_lookup_limit >= 0)",
        "Per-address limits cannot be negative.",
    )

    @api.constrains("isp_hotspot_login_hosts")
    def _check_isp_hotspot_login_hosts(self):
        for company in self:
            for entry in company._isp_hotspot_login_host_entries():
                if not parse_login_host(entry):
                    raise ValidationError(
                        self.env._(
                            "%(entry)s is not a hotspot login address: write a host name or "
                            "IP address (with :port if not 80/443), or an http(s):// origin.",
                            entry=entry[:80],
                        )
                    )

    def _isp_hotspot_login_host_entries(self):
        self.ensure_one()
        return (self.isp_hotspot_login_hosts or "").replace(",", " ").split()

    def cache_invalidation_fields(self):
        """Override of base to clear the captive page's catalogue on a name or currency change."""
        return super().cache_invalidation_fields() | {"name", "currency_id"}
