"""The captive page's and the JSON API's model: input checks, rate limits and health."""

import ipaddress
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.misc import formatLang

from odoo.addons.isp_billing.models.isp_device import normalize_mac

# Rate limits: kind -> (attempts, window in seconds), per phone number and per client address.
# The per-address attempts are the company's settings (a field name here): behind a hotspot
# router's NAT every customer reaches Odoo from the router's one address.
RATE_LIMITS = {
    "payment_phone": (5, 600),
    "payment_ip": ("isp_hotspot_ip_payment_limit", 600),
    "code_phone": (3, 900),
    "code_ip": ("isp_hotspot_ip_code_limit", 900),
    "signin_ip": ("isp_hotspot_ip_signin_limit", 900),
    "voucher_ip": ("isp_hotspot_ip_voucher_limit", 600),
    "lookup_ip": ("isp_hotspot_ip_lookup_limit", 60),
    # claims by receipt (paid by Paybill/Till): every claim per address (the voucher
    # redemptions' per-address setting, counted apart), failed claims per phone number
    "receipt_ip": ("isp_hotspot_ip_voucher_limit", 600),
    "receipt_phone": (5, 900),
}


def parse_ip(value):
    """A valid IPv4/IPv6 address as text, or None."""
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


class IspHotspot(models.AbstractModel):
    """The captive page's and the JSON API's business: the controllers parse and answer,
    this model decides. Methods are called with sudo() from the public entry points and
    take the website's company explicitly. Its parts are the models it inherits, one a file,
    which call each other through it."""

    _name = "isp.hotspot"
    _inherit = [
        "isp.hotspot.account",
        "isp.hotspot.catalogue",
        "isp.hotspot.payment",
        "isp.hotspot.receipt",
        "isp.hotspot.router.login",
        "isp.hotspot.voucher",
    ]
    _description = "ISP Hotspot Captive Page"

    @api.model
    def _phone(self, company, phone):
        """E.164 phone number or a UserError saying what is wrong with it."""
        if not isinstance(phone, str):
            raise UserError(self.env._("A phone number is required."))
        try:
            return self.env["res.partner"]._isp_normalize_phone(phone, company.country_id)
        except ValidationError as error:
            raise UserError(error.args[0]) from error

    @api.model
    def _customer(self, company, phone):
        """The company's customer with this phone number (empty when unknown)."""
        e164 = self._phone(company, phone)
        return self.env["res.partner"].search(
            [
                ("is_isp_customer", "=", True),
                ("company_id", "=", company.id),
                ("phone", "=", e164),
            ],
            limit=1,
        )

    @api.model
    def _mac(self, value, required=False):
        if not value:
            if required:
                raise UserError(self.env._("The device's MAC address is missing."))
            return None
        mac = normalize_mac(value) if isinstance(value, str) else None
        if not mac:
            raise UserError(
                self.env._("%(value)s is not a device MAC address.", value=str(value)[:40])
            )
        return mac

    @api.model
    def _ip(self, value):
        if not value:
            return None
        ip = parse_ip(value) if isinstance(value, str) else None
        if not ip:
            raise UserError(self.env._("%(value)s is not an IP address.", value=str(value)[:40]))
        return ip

    @api.model
    def _rate(self, kind, key, company=None, record=True):
        """Count one attempt of ``kind`` by ``key`` or raise IspHotspotRateLimited; a
        per-address limit is ``company``'s setting (0: no limit). ``record=False`` only
        checks the limit (the caller counts failures with ``isp.hotspot.attempt._record``)."""
        limit, window = RATE_LIMITS[kind]
        if isinstance(limit, str):
            limit = (company or self.env.company)[limit]
            if limit <= 0:
                return True
        return self.env["isp.hotspot.attempt"]._hit(kind, [key], limit, window, record=record)

    @api.model
    def _money(self, amount, currency):
        """ "TSh 1,000": symbol first, no decimals for whole amounts."""
        digits = 0 if float(amount or 0).is_integer() else currency.decimal_places
        return (
            f"{currency.symbol or currency.name} {formatLang(self.env, amount or 0, digits=digits)}"
        )

    @api.model
    def _health(self):
        self.env.cr.execute("SELECT 1")
        now = fields.Datetime.now()
        crons = {}
        for xmlid in (
            "isp_billing.ir_cron_isp_expire_subscriptions",
            "payment.cron_post_process_payment_tx",
        ):
            cron = self.env.ref(xmlid, raise_if_not_found=False)
            if not cron:
                continue
            interval = relativedelta(**{cron.interval_type: cron.interval_number})
            late = cron.nextcall and cron.nextcall < now - interval - timedelta(minutes=5)
            crons[xmlid] = {
                "active": cron.active,
                "last_run": fields.Datetime.to_string(cron.lastcall) if cron.lastcall else None,
                "alive": bool(cron.active and not late),
            }
        last = self.env["payment.transaction"].search(
            [("provider_reference", "!=", False), ("state", "not in", ("draft",))],
            order="last_state_change desc",
            limit=1,
        )
        return {
            "status": "ok" if all(c["alive"] for c in crons.values()) else "degraded",
            "database": "ok",
            "crons": crons,
            "last_provider_callback": (
                fields.Datetime.to_string(last.last_state_change) if last else None
            ),
            "time": fields.Datetime.to_string(now),
        }
