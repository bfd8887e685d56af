import hashlib
import ipaddress
import logging
import re
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import ormcache
from odoo.tools.misc import formatLang

from odoo.addons.isp_billing.exceptions import IspVoucherRefused
from odoo.addons.isp_billing.models.isp_device import normalize_mac

from .isp_hotspot_attempt import IspHotspotRateLimited

_logger = logging.getLogger(__name__)

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
}
# What the captive page tells a customer, by transaction state.
PENDING_STATES = ("draft", "pending", "authorized")
OCTAL_ESCAPE = re.compile(r"\\([0-7]{1,3})")
# codes per batch generated or listed by one API call
MAX_API_VOUCHERS = 1000
# isp_billing's IspVoucherRefused result -> the API's error code ("blocked" is rate_limited)
VOUCHER_REFUSALS = {
    "malformed": "invalid_code",
    "unknown": "voucher_unknown",
    "used": "voucher_used",
    "void": "voucher_void",
    "expired": "voucher_expired",
}


class IspHotspotVoucherRefused(UserError):
    """A voucher that cannot be redeemed; ``code`` says why (see VOUCHER_REFUSALS)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def parse_ip(value):
    """A valid IPv4/IPv6 address as text, or None."""
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def chap_bytes(value):
    """RouterOS writes chap-id / chap-challenge octal-escaped ("\\371\\022..."): raw bytes."""
    value = value or ""
    out = bytearray()
    pos = 0
    for match in OCTAL_ESCAPE.finditer(value):
        out += value[pos : match.start()].encode("latin-1", "replace")
        out.append(int(match.group(1), 8) & 0xFF)
        pos = match.end()
    out += value[pos:].encode("latin-1", "replace")
    return bytes(out)


def chap_password(password, chap_id, chap_challenge):
    """The hotspot's http-chap response: hex MD5(chap-id + password + chap-challenge)."""
    data = chap_bytes(chap_id) + (password or "").encode() + chap_bytes(chap_challenge)
    return hashlib.md5(data).hexdigest()  # noqa: S324 - RouterOS' CHAP is MD5 by definition


DEFAULT_PORTS = {"http": 80, "https": 443}
LOGIN_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)$")


def login_origin(url):
    """(scheme, host, port) of a router's login URL (``link-login-only``), or None."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or parts.username or parts.password:
        return None
    return scheme, parts.hostname.lower().rstrip("."), port or DEFAULT_PORTS[scheme]


def parse_login_host(entry):
    """An allowed hotspot login address: ``(scheme or None, host, port or None)``, where
    ``entry`` is a host ("10.5.50.1", "[fd00::1]", "login.example.net:8080": http or https)
    or an origin ("https://login.example.net"); None when malformed."""
    if not isinstance(entry, str) or not entry.strip() or not entry.isprintable():
        return None
    entry = entry.strip()
    if "://" in entry:
        origin = login_origin(entry)
        parts = urlsplit(entry)
        if not origin or parts.path not in ("", "/") or parts.query or parts.fragment:
            return None
        return origin
    try:
        parts = urlsplit(f"//{entry}")
        port = parts.port
    except ValueError:
        return None
    netloc_host = parts.netloc.rsplit(":", 1)[0] if port else parts.netloc
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        return None
    if not parts.hostname or not LOGIN_HOST.match(netloc_host):
        return None
    return None, parts.hostname.lower().rstrip("."), port


def login_host_allows(entry, origin):
    """True when the allowed address ``entry`` (see parse_login_host) covers ``origin``."""
    allowed = parse_login_host(entry)
    if not allowed or not origin:
        return False
    scheme, host, port = allowed
    if host != origin[1]:
        return False
    if scheme:
        return (scheme, port) == (origin[0], origin[2])
    return origin[2] == (port or DEFAULT_PORTS[origin[0]])


class IspHotspot(models.AbstractModel):
    """The captive page's and the JSON API's business: the controllers parse and answer,
    this model decides. Methods are called with sudo() from the public entry points and
    take the website's company explicitly."""

    _name = "isp.hotspot"
    _description = "ISP Hotspot Captive Page"

    # ------------------------------------------------------------------ bundles

    @api.model
    def _isp_bundles(self, company):
        return self.env["product.product"].search(
            [
                ("is_isp_bundle", "=", True),
                ("isp_service_type", "=", "hotspot"),
                ("sale_ok", "=", True),
                ("company_id", "in", [company.id, False]),
            ],
            order="sequence, list_price, id",
        )

    @api.model
    def _isp_bundle(self, company, bundle_id):
        """The company's hotspot bundle ``bundle_id`` or a UserError."""
        try:
            bundle_id = int(bundle_id)
        except (TypeError, ValueError):
            bundle_id = 0
        bundle = self._isp_bundles(company).filtered(lambda b: b.id == bundle_id)
        if not bundle:
            raise UserError(self.env._("Choose one of the bundles on this page."))
        return bundle

    @api.model
    def _isp_money(self, amount, currency):
        """ "TSh 1,000": symbol first, no decimals for whole amounts."""
        digits = 0 if float(amount or 0).is_integer() else currency.decimal_places
        return (
            f"{currency.symbol or currency.name} {formatLang(self.env, amount or 0, digits=digits)}"
        )

    @api.model
    def _isp_duration_text(self, template):
        value = template.isp_duration_value or 0
        unit = template.isp_duration_unit or "days"
        if unit == "hours":
            if value == 1:
                return self.env._("1 hour")
            return self.env._("%(count)s hours", count=value)
        if unit == "months":
            if value == 1:
                return self.env._("1 month")
            return self.env._("%(count)s months", count=value)
        if value == 1:
            return self.env._("1 day")
        return self.env._("%(count)s days", count=value)

    @api.model
    def _isp_bundle_values(self, bundles, company):
        """What the page and the API show of the bundles ``company`` can sell: the price is
        the customer price (``product.product._isp_customer_price``: taxes included, in the
        company's currency), the amount a payment asks for. Bundles the company cannot sell
        for money (no company, another currency) are left out."""
        result = []
        for bundle in bundles:
            if bundle._isp_sale_error(company):
                continue
            template = bundle.product_tmpl_id
            price, currency = bundle._isp_customer_price(None, company)
            # the saving is computed on list prices: shown in customer prices, at this
            # bundle's tax ratio
            saving = (
                currency.round(template.isp_saving * price / bundle.lst_price)
                if template.isp_saving and bundle.lst_price
                else 0.0
            )
            result.append(
                {
                    "id": bundle.id,
                    "name": bundle.name,
                    "description": template.isp_marketing_description or "",
                    "price": price,
                    "price_text": self._isp_money(price, currency),
                    "currency": currency.name,
                    "duration_value": template.isp_duration_value,
                    "duration_unit": template.isp_duration_unit,
                    "duration_hours": template.isp_duration_hours,
                    "duration_text": self._isp_duration_text(template),
                    "saving": saving,
                    "saving_text": self._isp_money(saving, currency) if saving else "",
                    "data_cap_mb": template.isp_data_cap_mb,
                    "device_limit": template.isp_device_limit,
                }
            )
        return result

    @api.model
    def _isp_catalogue(self, company):
        """What the page and GET /api/bundles/ show, from a cache per company and language:
        ``{"company", "currency", "bundles": [values], "providers": [(id, name)]}`` (the
        providers a public visitor can pay with). Changes to bundles, providers, payment
        methods and companies clear it (this module's overrides of product.template,
        product.product, payment.provider, payment.method and res.company)."""
        catalogue = self._isp_catalogue_cached(company.id, self.env.lang or "en_US")
        return {
            "company": catalogue["company"],
            "currency": catalogue["currency"],
            "bundles": [dict(values) for values in catalogue["bundles"]],
            "providers": list(catalogue["providers"]),
        }

    @api.model
    @ormcache("company_id", "lang")
    def _isp_catalogue_cached(self, company_id, lang):
        hotspot = self.sudo().with_context(lang=lang)
        company = hotspot.env["res.company"].browse(company_id)
        bundles = hotspot._isp_bundle_values(hotspot._isp_bundles(company), company)
        public = hotspot.with_user(hotspot.env.ref("base.public_user")).sudo()
        providers = public._isp_providers(company)
        return {
            "company": company.name,
            "currency": company.currency_id.name,
            "bundles": tuple(bundles),
            "providers": tuple((provider.id, provider.name) for provider in providers),
        }

    @api.model
    def _isp_providers(self, company, amount=0.0):
        """The company's enabled providers the page can take a payment with."""
        providers = self.env["payment.provider"]._get_compatible_providers(
            company.id,
            self.env.ref("base.public_partner").id,
            amount,
            currency_id=company.currency_id.id,
        )
        return providers.filtered(lambda p: p._isp_hotspot_can_push())

    # ------------------------------------------------------------------ customers

    @api.model
    def _isp_phone(self, company, phone):
        """E.164 phone number or a UserError saying what is wrong with it."""
        if not isinstance(phone, str):
            raise UserError(self.env._("A phone number is required."))
        try:
            return self.env["res.partner"]._isp_normalize_phone(phone, company.country_id)
        except ValidationError as error:
            raise UserError(error.args[0]) from error

    @api.model
    def _isp_customer(self, company, phone):
        """The company's customer with this phone number (empty when unknown)."""
        e164 = self._isp_phone(company, phone)
        return self.env["res.partner"].search(
            [
                ("is_isp_customer", "=", True),
                ("company_id", "=", company.id),
                ("phone", "=", e164),
            ],
            limit=1,
        )

    @api.model
    def _isp_mac(self, value, required=False):
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
    def _isp_ip(self, value):
        if not value:
            return None
        ip = parse_ip(value) if isinstance(value, str) else None
        if not ip:
            raise UserError(self.env._("%(value)s is not an IP address.", value=str(value)[:40]))
        return ip

    @api.model
    def _isp_rate(self, kind, key, company=None):
        """Count one attempt of ``kind`` by ``key`` or raise IspHotspotRateLimited; a
        per-address limit is ``company``'s setting (0: no limit)."""
        limit, window = RATE_LIMITS[kind]
        if isinstance(limit, str):
            limit = (company or self.env.company)[limit]
            if limit <= 0:
                return True
        return self.env["isp.hotspot.attempt"]._isp_hit(kind, [key], limit, window)

    # ------------------------------------------------------------------ payment

    @api.model
    def _isp_initiate_payment(
        self, company, phone, bundle_id, provider_id=None, mac=None, ip=None, client_ip=None
    ):
        """Create the bundle's transaction for ``phone`` and push the payment request to it.
        Returns the transaction (pending once the provider took the request, or in error
        with its message). Bad input and rate limits raise a UserError and change nothing
        but the attempt counters."""
        e164 = self._isp_phone(company, phone)
        bundle = self._isp_bundle(company, bundle_id)
        # a bundle the company cannot sell (no company, another currency) is refused here,
        # before any transaction or push: never after the money is taken
        price, _currency = bundle._isp_customer_price(None, company)
        mac = self._isp_mac(mac)
        ip = self._isp_ip(ip)
        providers = self._isp_providers(company, price)
        if provider_id:
            try:
                provider_id = int(provider_id)
            except (TypeError, ValueError):
                provider_id = 0
            providers = providers.filtered(lambda p: p.id == provider_id)
        if not providers:
            raise UserError(
                self.env._("No mobile money payment is available here. Redeem a voucher instead.")
            )
        provider = providers[0]
        self._isp_rate("payment_phone", e164)
        self._isp_rate("payment_ip", client_ip, company)
        with self.env.cr.savepoint():
            # no partner is created for a typed number: a new payer's transaction is the
            # public partner's with the number in ``isp_phone``, and isp_billing creates the
            # customer when the payment is confirmed
            partner = self._isp_customer(company, e164)
            # what this customer's invoice will total (a fiscal position of theirs applies;
            # a new customer's price otherwise): the amount the fulfilment requires
            price, currency = bundle._isp_customer_price(partner or None, company)
            tx = self.env["payment.transaction"].create(
                {
                    "provider_id": provider.id,
                    "payment_method_id": provider._isp_hotspot_payment_method().id,
                    "reference": self.env["payment.transaction"]._compute_reference(
                        provider.code, prefix=f"HS{secrets.token_hex(4).upper()}"
                    ),
                    "amount": price,
                    "currency_id": currency.id,
                    "partner_id": partner.id or self.env.ref("base.public_partner").id,
                    "isp_phone": e164,
                    "operation": "online_direct",
                    "isp_bundle_id": bundle.id,
                    "isp_hotspot_mac": mac,
                    "isp_hotspot_ip": ip,
                }
            )
            tx._isp_hotspot_push(e164, client_ip=client_ip)
        return tx

    @api.model
    def _isp_find_transaction(self, reference, token=None, in_session=False):
        """The hotspot transaction ``reference`` when ``token`` is its access token (not
        expired), or when the caller's browser session started it (``in_session``: the
        controller's word) less than the token's lifetime ago."""
        Transaction = self.env["payment.transaction"]
        if not isinstance(reference, str) or len(reference) > 64 or not (token or in_session):
            return Transaction
        tx = Transaction.search(
            [("reference", "=", reference), ("isp_bundle_id", "!=", False)], limit=1
        )
        if not tx:
            return Transaction
        if in_session and tx._isp_hotspot_recent():
            return tx
        if token and tx._isp_hotspot_check_token(token):
            return tx
        return Transaction

    @api.model
    def _isp_payment_status(self, tx):
        """What the waiting view says: ``status`` (waiting / paid / not_applied / cancelled /
        failed: money taken without access, even a short payment ended in error, is
        not_applied, never an invitation to pay again),
        ``message`` in plain words, and, once paid, the access granted. A confirmed
        transaction is post-processed here (fulfilment) as Odoo's /payment/status/poll does,
        unless the post-processing cron got there first."""
        tx.ensure_one()
        if tx.state == "done" and not tx.is_post_processed:
            tx._post_process()
        values = {
            "reference": tx.reference,
            "state": tx.state,
            "amount": tx.amount,
            "amount_text": self._isp_money(tx.amount, tx.currency_id),
            "bundle": tx.isp_bundle_id.name,
        }
        if tx.state in PENDING_STATES:
            values.update(
                status="waiting",
                message=self.env._(
                    "Check your phone and enter your PIN to pay %(amount)s.",
                    amount=values["amount_text"],
                ),
            )
        elif tx.isp_purchase_id and (tx.state == "done" or tx.isp_access_state == "granted"):
            # paid, or a short payment staff granted the access for
            subscription = tx.isp_purchase_id.subscription_id
            values.update(
                status="paid",
                message=self.env._("Payment received. You are connected."),
                access_until=fields.Datetime.to_string(subscription.date_expiry),
                time_left=subscription.time_left or "",
            )
        elif tx.isp_access_state == "refunded":
            # money taken without access and given back: nothing is pending any more
            values.update(
                status="not_applied",
                message=self.env._(
                    "Your payment %(reference)s gave no access and was refunded to you.",
                    reference=tx.reference,
                ),
            )
        elif tx.isp_access_state == "not_applied" or tx.state == "done":
            # money taken without access (isp_billing flags it for staff), whether the
            # transaction ended confirmed or in error (a short payment): never "try again"
            values.update(
                status="not_applied",
                message=self.env._(
                    "Your payment %(reference)s was received but gave no access: "
                    "%(reason)s Do not pay again: we will give you the access or refund you.",
                    reference=tx.reference,
                    reason=tx.isp_not_applied_reason
                    or self.env._("it could not be applied to this bundle."),
                ),
            )
        elif tx.state == "cancel":
            values.update(
                status="cancelled",
                message=self._isp_plain_reason(tx.state_message)
                or tx.isp_public_message
                or self.env._("The payment was cancelled. Nothing was charged."),
            )
        else:
            values.update(
                status="failed",
                message=self._isp_plain_reason(tx.state_message)
                or tx.isp_public_message
                or self.env._("The payment did not go through."),
            )
        return values

    @api.model
    def _isp_plain_reason(self, text):
        """The provider's message in the customer's words where we recognise it, else ""
        (the provider's own text is for staff: it never reaches the page)."""
        lowered = (text or "").lower()
        if "insufficient" in lowered or "balance" in lowered:
            return self.env._("Not enough money on your mobile money account. Nothing was charged.")
        if "timeout" in lowered or "timed out" in lowered or "no answer" in lowered:
            return self.env._("You did not answer the payment request in time. Try again.")
        if "cancel" in lowered:
            return self.env._("You cancelled the payment on your phone. Nothing was charged.")
        return ""

    # ------------------------------------------------------------------ access

    @api.model
    def _isp_active_subscription(self, partner):
        return partner.isp_subscription_ids.filtered(
            lambda s: s.state == "active" and s.service_type == "hotspot"
        ).sorted("date_expiry", reverse=True)[:1]

    @api.model
    def _isp_verify_access(self, partner, mac, ip=None, user_agent=None):
        """Grant or deny ``partner``'s device; every outcome is in the access log. Returns
        ``{"granted", "reason", "message"}``."""
        Log = self.env["isp.access.log"]
        mac = self._isp_mac(mac, required=True)
        ip = self._isp_ip(ip)
        if not partner:
            message = self.env._("No customer has this phone number.")
            Log._isp_log(False, "unknown_customer", mac=mac, ip=ip, message=message)
            return {"granted": False, "reason": "unknown_customer", "message": message}
        subscription = self._isp_active_subscription(partner)
        if not subscription:
            latest = partner.isp_subscription_ids.filtered(
                lambda s: s.service_type == "hotspot"
            ).sorted("date_expiry", reverse=True)[:1]
            reason = latest.state if latest.state in ("expired", "suspended") else "no_subscription"
            message = {
                "expired": self.env._("Your bundle has expired. Buy a bundle to reconnect."),
                "suspended": self.env._("Your access is suspended. Please contact us."),
            }.get(reason, self.env._("You have no active bundle. Buy one to connect."))
            Log._isp_log(False, reason, partner, mac=mac, ip=ip, message=message)
            return {"granted": False, "reason": reason, "message": message}
        if subscription.data_cap_mb and subscription.data_used_mb >= subscription.data_cap_mb:
            message = self.env._("You have used all the data of your bundle.")
            Log._isp_log(False, "data_cap", partner, mac=mac, ip=ip, message=message)
            return {"granted": False, "reason": "data_cap", "message": message}
        result = self.env["isp.device"]._isp_register(partner, mac, ip=ip, user_agent=user_agent)
        return {
            "granted": result["granted"],
            "reason": result["reason"],
            "message": result["message"],
        }

    @api.model
    def _isp_customer_status(self, partner):
        partner.ensure_one()
        subscriptions = partner.isp_subscription_ids.filtered(
            lambda s: s.service_type == "hotspot" and s.state != "cancelled"
        ).sorted("date_expiry", reverse=True)
        active = subscriptions.filtered(lambda s: s.state == "active")[:1]
        return {
            "phone": partner.phone,
            "name": partner.name,
            "active": bool(active),
            "access_until": fields.Datetime.to_string(active.date_expiry) if active else None,
            "time_left": active.time_left or "" if active else "",
            "bundle": active.bundle_id.name if active else None,
            "data_cap_mb": active.data_cap_mb if active else 0,
            "data_used_mb": active.data_used_mb if active else 0.0,
            "data_left_mb": active.data_left_mb if active else 0.0,
            "device_limit": partner._isp_effective_device_limit(),
            "subscriptions": [
                {
                    "reference": s.name,
                    "bundle": s.bundle_id.name,
                    "state": s.state,
                    "expires": fields.Datetime.to_string(s.date_expiry) if s.date_expiry else None,
                }
                for s in subscriptions[:5]
            ],
            "devices": self._isp_devices(partner),
        }

    @api.model
    def _isp_devices(self, partner):
        return [
            {
                "mac": device.mac,
                "name": device.name or "",
                "type": device.device_type,
                "randomized_mac": device.is_randomized_mac,
                "last_seen": fields.Datetime.to_string(device.last_seen)
                if device.last_seen
                else None,
            }
            for device in partner.isp_device_ids
        ]

    @api.model
    def _isp_remove_device(self, partner, mac):
        mac = self._isp_mac(mac, required=True)
        device = partner.isp_device_ids.filtered(lambda d: d.mac == mac)
        if not device:
            raise UserError(self.env._("This device is not registered on your account."))
        device.action_remove()
        return True

    # ------------------------------------------------------------------ sign-in

    @api.model
    def _isp_send_code(self, company, phone, client_ip=None):
        """Send a one-time sign-in code to a known customer. Unknown numbers get the same
        answer (no way to probe who is a customer)."""
        e164 = self._isp_phone(company, phone)
        self._isp_rate("code_phone", e164)
        self._isp_rate("code_ip", client_ip, company)
        partner = self._isp_customer(company, e164)
        if partner:
            self.env["isp.hotspot.login.code"]._isp_issue(partner)
        elif not self.env["res.partner"]._isp_send_login_code(False):
            raise UserError(
                self.env._("Sign-in by SMS is not available here. Use a voucher or buy a bundle.")
            )
        return e164

    @api.model
    def _isp_check_code(self, company, phone, code, client_ip=None):
        """The customer when ``code`` is right, else a UserError."""
        self._isp_rate("signin_ip", client_ip, company)
        partner = self._isp_customer(company, phone)
        if not partner or not self.env["isp.hotspot.login.code"]._isp_check(partner, code):
            raise UserError(self.env._("This code is wrong or has expired. Ask for a new one."))
        return partner

    # ------------------------------------------------------------------ vouchers

    @api.model
    def _isp_voucher_code(self, text):
        """What a voucher field is pre-filled with: ``text`` normalised when it is a valid
        code, else ``text`` as typed (printable, 40 characters at most), else ""."""
        if not isinstance(text, str) or len(text) > 64:
            return ""
        normalized = self.env["isp.voucher"]._isp_normalize_code(text)
        if normalized:
            return normalized
        text = text.strip()[:40]
        return text if text.isprintable() else ""

    @api.model
    def _isp_redeem_voucher(
        self, company, code, phone, mac=None, ip=None, client_ip=None, signed_in=None
    ):
        """Redeem a voucher for ``phone`` through isp_billing's ``isp.voucher._isp_redeem``.
        Returns ``(purchase, sign_in)``: the isp.purchase, and whether the redeemer may be
        signed in as its customer.

        A voucher may credit any phone number, but holding a code proves nothing about
        owning the number: when the number is an existing customer's (and this session is
        not already signed in as that customer, ``signed_in``), the customer gets the time
        but the redeemer's device is not registered on their account and ``sign_in`` is
        False; the owner signs in with the SMS code to use it on a device. A customer this
        redemption creates may be signed in.

        A refusal raises IspHotspotVoucherRefused (its ``code`` says why: invalid_code,
        voucher_unknown, voucher_used, voucher_void, voucher_expired) or
        IspHotspotRateLimited (too many failures); bad input a UserError. Nothing changes
        on a refusal but the attempt counters, which the caller commits by answering
        normally (isp_billing's brute-force limit counts them)."""
        if not isinstance(code, str) or not code.strip():
            raise IspHotspotVoucherRefused(
                "invalid_code", self.env._("Enter the voucher code printed on your card.")
            )
        e164 = self._isp_phone(company, phone)
        mac = self._isp_mac(mac)
        ip = self._isp_ip(ip)
        self._isp_rate("voucher_ip", client_ip, company)
        existing = self._isp_customer(company, e164)
        owner_proven = not existing or existing == signed_in
        Voucher = self.env["isp.voucher"].with_company(company)
        refusal = None
        with self.env.cr.savepoint():
            try:
                purchase = Voucher._isp_redeem(
                    code.strip(),
                    e164,
                    mac=mac,
                    ip=ip,
                    company=company,
                    register_device=owner_proven,
                    client_ip=client_ip,
                    phone_owner=bool(existing) and existing == signed_in,
                )
            except IspVoucherRefused as error:
                # isp_billing wrote the failed attempt (and nothing else) just before
                # raising: keep it, it is what the brute-force limit counts. Any other error
                # rolls the savepoint back.
                refusal = error
        if not refusal:
            return purchase, owner_proven
        if refusal.result == "blocked":
            raise IspHotspotRateLimited(refusal.args[0]) from refusal
        raise IspHotspotVoucherRefused(
            VOUCHER_REFUSALS[refusal.result], refusal.args[0]
        ) from refusal

    @api.model
    def _isp_voucher_credited_message(self, purchase):
        """What the redeemer of a voucher credited to an existing customer's number (not
        signed in as them) is told: where the time went and how the owner uses it."""
        return self.env._(
            "The voucher was added to the account of %(phone)s. To use it on this device, "
            "sign in with the code we send by SMS to that number.",
            phone=purchase.partner_id.phone,
        )

    # ------------------------------------------------------------------ vouchers (admin API)

    @api.model
    def _isp_generate_vouchers(
        self,
        company,
        bundle_id,
        quantity,
        price=None,
        name=None,
        valid_until=None,
        notes=None,
    ):
        """A generated batch of ``quantity`` codes of the company's bundle ``bundle_id``,
        as the current user (an ISP manager: access rights apply). Bad input raises a
        UserError and creates nothing."""
        if not 1 <= quantity <= MAX_API_VOUCHERS:
            raise UserError(
                self.env._("quantity must be between 1 and %(max)s.", max=MAX_API_VOUCHERS)
            )
        if price is not None and price < 0:
            raise UserError(self.env._("price cannot be negative."))
        bundle = self.env["product.product"].search(
            [
                ("id", "=", bundle_id),
                ("is_isp_bundle", "=", True),
                ("company_id", "in", [company.id, False]),
            ],
            limit=1,
        )
        if not bundle:
            raise UserError(self.env._("Unknown bundle."))
        vals = {"bundle_id": bundle.id, "quantity": quantity, "company_id": company.id}
        if price is not None:
            vals["price"] = price
        if notes:
            vals["notes"] = notes
        if valid_until:
            try:
                vals["valid_until"] = len(valid_until) == 10 and fields.Date.to_date(valid_until)
            except ValueError:
                vals["valid_until"] = None
            if not vals["valid_until"] or vals["valid_until"] < fields.Date.context_today(self):
                raise UserError(
                    self.env._("valid_until must be a date from today on, like 2030-12-31.")
                )
        Batch = self.env["isp.voucher.batch"].with_company(company)
        if name:
            if Batch.search_count([("company_id", "=", company.id), ("name", "=", name)]):
                raise UserError(
                    self.env._("A voucher batch named %(name)s already exists.", name=name)
                )
            vals["name"] = name
        with self.env.cr.savepoint():
            batch = Batch.create(vals)
            batch.action_generate()
        return batch

    @api.model
    def _isp_list_vouchers(self, company, batch_id=None, state=None, limit=100, offset=0):
        """(count, vouchers) of the company, oldest first, as the current user."""
        if not 1 <= limit <= MAX_API_VOUCHERS:
            raise UserError(
                self.env._("limit must be between 1 and %(max)s.", max=MAX_API_VOUCHERS)
            )
        Voucher = self.env["isp.voucher"].with_company(company)
        domain = [("company_id", "=", company.id)]
        if batch_id:
            domain.append(("batch_id", "=", batch_id))
        if state:
            states = dict(Voucher._fields["state"].selection)
            if state not in states:
                raise UserError(self.env._("state is one of %(states)s.", states=", ".join(states)))
            domain.append(("state", "=", state))
        return (
            Voucher.search_count(domain),
            Voucher.search(domain, limit=limit, offset=offset, order="id"),
        )

    @api.model
    def _isp_batch_values(self, batch):
        return {
            "id": batch.id,
            "name": batch.name,
            "bundle_id": batch.bundle_id.id,
            "bundle": batch.bundle_id.name,
            "quantity": batch.quantity,
            "price": batch.price,
            "valid_until": fields.Date.to_string(batch.valid_until) or None,
        }

    @api.model
    def _isp_voucher_values(self, vouchers):
        return [
            {
                "code": voucher.code,
                "state": voucher.state,
                "batch_id": voucher.batch_id.id,
                "bundle": voucher.bundle_id.name,
                "price": voucher.price,
                "valid_until": fields.Date.to_string(voucher.valid_until) or None,
                "phone": voucher.phone or None,
                "redeemed_at": fields.Datetime.to_string(voucher.date_redeemed) or None,
            }
            for voucher in vouchers
        ]

    # ------------------------------------------------------------------ router hand-off

    @api.model
    def _isp_router_login(self, subscription, nas, ip, mac):
        """Server-side login through the router, when a router module (isp_mikrotik)
        implements isp_billing's ``isp.subscription._isp_router_hotspot_login`` hook. Returns
        ``{"ok", "message"}``, or None when not possible here (the page then posts to the
        router's login URL)."""
        if not (subscription and nas and ip):
            return None
        return subscription._isp_router_hotspot_login(nas, ip, mac)

    @api.model
    def _isp_connection_state(self, customer, access=None, router=None, login=None):
        """What the status view may truthfully say about this device:

        - ``online``: the router accepted the server-side login;
        - ``pending``: paid, but the router cannot be reached: the access follows (the page
          tries again by itself);
        - ``refused``: the router refused (``router["message"]`` says why);
        - ``denied``: refused before the router (device limit, data cap: ``access``);
        - ``connecting``: the page posts the login to the router's own login URL;
        - ``unknown_router``: that login URL is not one of the company's routers': no login
          is sent;
        - ``active`` / ``none``: nothing was tried for this device; a bundle or none."""
        if access and not access["granted"]:
            return "denied"
        if router:
            return router.get("state") or ("online" if router["ok"] else "refused")
        if login:
            return "unknown_router" if login.get("unknown") else "connecting"
        return "active" if customer["active"] else "none"

    @api.model
    def _isp_login_allowed(self, company, url, nas=None):
        """True when ``url`` (the page's ``link-login-only``) is the login address of one of
        ``company``'s hotspot routers: the company's setting, and the routers' addresses
        from isp_billing's hook ``res.company._isp_hotspot_login_hosts`` (of the router
        ``nas`` only when the page names one). Scheme, host and port must match."""
        origin = login_origin(url)
        if not origin:
            return False
        company = company.sudo()
        entries = company._isp_hotspot_login_host_entries()
        entries += company._isp_hotspot_login_hosts(nas=nas)
        return any(login_host_allows(entry, origin) for entry in entries)

    @api.model
    def _isp_login_cleartext_allowed(self, company, url):
        """True when the page may post the hotspot password itself (PAP, no CHAP) to
        ``url``: an https:// address, or an http:// one staff listed in the company setting
        *Hotspot Login Addresses* (a router's own address is not enough: a rogue hotspot
        can take it)."""
        origin = login_origin(url)
        if not origin:
            return False
        if origin[0] == "https":
            return True
        entries = company.sudo()._isp_hotspot_login_host_entries()
        return any(login_host_allows(entry, origin) for entry in entries)

    @api.model
    def _isp_login_form(self, subscription, params, company):
        """The form the browser posts to the router's ``link-login-only``: user name,
        password (http-chap: MD5 of chap-id + password + chap-challenge) and ``dst``.
        Only to one of ``company``'s routers (``_isp_login_allowed``): for any other
        address ``{"unknown": True, "host": ...}``, without the login or the password.

        Without CHAP (no chap-id: the password would travel in clear) to an http:// address
        not listed in the company setting (``_isp_login_cleartext_allowed``), the form is
        ``manual``: no password filled in, the customer types it, never submitted by
        itself."""
        url = params.get("link-login-only")
        if not subscription or not url:
            return None
        if not self._isp_login_allowed(company, url, params.get("nas")):
            origin = login_origin(url)
            host = f"{origin[0]}://{urlsplit(url.strip()).netloc}" if origin else ""
            return {"unknown": True, "host": host}
        manual = False
        if params.get("chap-id"):
            password = subscription.sudo().password or ""
            password = chap_password(password, params["chap-id"], params.get("chap-challenge"))
        elif self._isp_login_cleartext_allowed(company, url):
            password = subscription.sudo().password or ""
        else:
            password = ""
            manual = True
        return {
            "action": url,
            "username": subscription.login or "",
            "password": password,
            "manual": manual,
            "dst": params.get("link-orig") or "",
        }

    # ------------------------------------------------------------------ health

    @api.model
    def _isp_health(self):
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
            interval = {
                "minutes": timedelta(minutes=1),
                "hours": timedelta(hours=1),
                "days": timedelta(days=1),
                "weeks": timedelta(weeks=1),
                "months": timedelta(days=31),
            }[cron.interval_type] * cron.interval_number
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
