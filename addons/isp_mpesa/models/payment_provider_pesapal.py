"""Pesapal API 3.0 (card and mobile money through Pesapal's hosted page, redirect flow):
settings, journal, requests (token and IPN: payment_provider_pesapal_ipn.py). Wire facts:
the reference's "Pesapal API 3.0" section (docs/architecture.md, isp_mpesa, "Pesapal")."""

import json
import re
from datetime import UTC, datetime

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.urls import urljoin

from odoo.addons.payment.logging import get_payment_logger

from .. import const
from .payment_provider import IspProviderError
from .payment_provider import PaymentProvider as IspPaymentProvider

_logger = get_payment_logger(__name__, const.SENSITIVE_KEYS)

PESAPAL_HOSTS = {
    "test": "https://cybqa.pesapal.com/pesapalv3",
    "enabled": "https://pay.pesapal.com/v3",
}
PESAPAL_TOKEN_PATH = "api/Auth/RequestToken"
PESAPAL_REGISTER_IPN_PATH = "api/URLSetup/RegisterIPN"
PESAPAL_IPN_LIST_PATH = "api/URLSetup/GetIpnList"
PESAPAL_SUBMIT_ORDER_PATH = "api/Transactions/SubmitOrderRequest"
PESAPAL_STATUS_PATH = "api/Transactions/GetTransactionStatus"
PESAPAL_RETURN_ROUTE = "/payment/pesapal/return"
PESAPAL_IPN_ROUTE = "/payment/pesapal/ipn"

# A token lives at most 5 minutes; it is used until this long before its expiryDate.
PESAPAL_TOKEN_LIFETIME = 300
PESAPAL_TOKEN_MARGIN = 60

# The reference lists no currencies. These are the ones Pesapal settles merchants in (Kenya,
# Uganda, Tanzania, and US dollars): an invoice in another currency is not offered Pesapal.
PESAPAL_CURRENCIES = ("KES", "UGX", "TZS", "USD")
PESAPAL_PAYMENT_METHOD_CODES = {"card", "mpesa", "mobile_money"}

# SubmitOrderRequest: ``id`` at most 50 characters, unique per merchant; ``description`` at
# most 100. The reference does not say which characters ``id`` takes: letters, digits and
# "-_.:" only (strict).
PESAPAL_REFERENCE = re.compile(r"^[A-Za-z0-9_.:-]{1,50}$")
PESAPAL_DESCRIPTION_MAX = 100

# GetTransactionStatus status_code
PESAPAL_INVALID, PESAPAL_COMPLETED, PESAPAL_FAILED, PESAPAL_REVERSED = 0, 1, 2, 3


def pesapal_error(answer):
    """(code, message) of a Pesapal answer that reports a failure, else None: any non-null
    ``error`` (an object whose members are all null counts as null), or a ``status`` other
    than "200", even with HTTP 200. Lists (GetIpnList) carry neither."""
    if isinstance(answer, list):
        return None
    if not isinstance(answer, dict):
        return "invalid", "not a JSON object"
    error = answer.get("error")
    if isinstance(error, dict):
        error = error if any(v not in (None, "") for v in error.values()) else None
    status = answer.get("status")
    if error in (None, "", {}) and str(status) == "200":
        return None
    if isinstance(error, dict):
        code = error.get("code") or error.get("error_type") or error.get("type")
        message = error.get("message") or code
    else:
        code, message = None, error
    message = message or answer.get("message") or f"status {status}"
    return str(code or f"status-{status}"), str(message)


def parse_expiry(value):
    """Pesapal's ``expiryDate`` (ISO 8601, .NET-style 7-digit fractions, "Z" or an offset, or
    naive meaning UTC) as a naive UTC datetime, or None."""
    if not isinstance(value, str):
        return None
    match = re.match(
        r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$",
        value.strip(),
    )
    if not match:
        return None
    day, time, fraction, zone = match.groups()
    text = f"{day}T{time}.{(fraction or '0')[:6].ljust(6, '0')}"
    if zone and zone != "Z":
        text += zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
    else:
        text += "+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None)


class PaymentProvider(models.Model):
    """Pesapal: credentials (encrypted), API URL, token, IPN registration and requests."""

    _inherit = "payment.provider"  # pylint: disable=consider-merging-classes-inherited

    code = fields.Selection(
        selection_add=[("pesapal", "Pesapal (card and mobile money)")],
        ondelete={"pesapal": "set default"},
    )
    _isp_secret_fields = {
        **IspPaymentProvider._isp_secret_fields,
        "pesapal_consumer_key": "pesapal_consumer_key_encrypted",
        "pesapal_consumer_secret": "pesapal_consumer_secret_encrypted",
    }

    pesapal_consumer_key = fields.Char(
        compute="_compute_isp_secrets",
        inverse="_inverse_isp_secrets",
        groups="base.group_system",
    )
    pesapal_consumer_key_encrypted = fields.Char(
        required_if_provider="pesapal", copy=False, groups="base.group_system"
    )
    pesapal_consumer_secret = fields.Char(
        compute="_compute_isp_secrets",
        inverse="_inverse_isp_secrets",
        groups="base.group_system",
    )
    pesapal_consumer_secret_encrypted = fields.Char(
        required_if_provider="pesapal", copy=False, groups="base.group_system"
    )
    # where the credentials go: the credentials' group's (as the other providers' URLs)
    pesapal_base_url = fields.Char(
        string="Pesapal API URL",
        groups="base.group_system",
        help="Empty: the sandbox (cybqa.pesapal.com/pesapalv3) in test mode, "
        "pay.pesapal.com/v3 when enabled.",
    )
    pesapal_ipn_method = fields.Selection(
        [("POST", "POST"), ("GET", "GET")],
        string="IPN Method",
        default="POST",
        help="How Pesapal notifies this Odoo of payment changes (both are served).",
    )
    pesapal_poll_hours = fields.Integer(
        string="Ask Status For (hours)",
        default=72,
        help="Unconfirmed Pesapal payments are asked for their status (lost notifications), "
        "less and less often, for this long after they started; then they end in error "
        "(a later confirmation from Pesapal still completes them).",
    )
    # The IPN URL's path token is an HMAC of this random key (payment.utils): a new key, a
    # new URL, registered again.
    pesapal_ipn_key = fields.Char(copy=False, groups="base.group_system")
    pesapal_ipn_id = fields.Char(string="IPN ID", readonly=True, copy=False)
    # the registered URL with its token masked, and a fingerprint of the whole URL (the token
    # itself is never stored: a database dump or an SQL log does not give it)
    pesapal_ipn_url = fields.Char(string="IPN URL", readonly=True, copy=False)
    pesapal_ipn_fingerprint = fields.Char(readonly=True, copy=False)
    pesapal_ipn_type = fields.Char(readonly=True, copy=False)
    pesapal_ipn_registered_at = fields.Datetime(
        string="IPN Registered On", readonly=True, copy=False
    )
    pesapal_token_encrypted = fields.Char(copy=False, groups="base.group_system")
    pesapal_token_expiry = fields.Datetime(copy=False, groups="base.group_system")

    _pesapal_poll_hours_positive = models.Constraint(
        "CHECK(pesapal_poll_hours IS NULL OR pesapal_poll_hours > 0)",
        "Pesapal payments must be asked for their status for at least one hour.",
    )

    # === Payment framework overrides === #

    def _get_supported_currencies(self):
        """Override of `payment` to return Pesapal's currencies."""
        supported = super()._get_supported_currencies()
        if self.code != "pesapal":
            return supported
        return supported.filtered(lambda c: c.name in PESAPAL_CURRENCIES)

    def _get_default_payment_method_codes(self):
        """Override of `payment` to return the default payment method codes."""
        self.ensure_one()
        if self.code != "pesapal":
            return super()._get_default_payment_method_codes()
        return PESAPAL_PAYMENT_METHOD_CODES

    @api.model
    def _setup_provider(self, provider_code, **kwargs):
        """Override of `payment` to give each company's Pesapal provider its journal."""
        result = super()._setup_provider(provider_code, **kwargs)
        if provider_code == "pesapal":
            self.search(self._get_provider_domain(provider_code, **kwargs))._isp_ensure_journal()
        return result

    def _isp_ensure_journal(self, replace_fallback=False):
        """Override of isp_mpesa: Pesapal providers post in a PSPL journal of their company."""
        result = super()._isp_ensure_journal(replace_fallback=replace_fallback)
        self.filtered(lambda p: p.code == "pesapal")._pesapal_ensure_journal(replace_fallback)
        return result

    def _pesapal_ensure_journal(self, replace_fallback=False):
        """A bank journal PSPL per company (created once), unless staff chose one. Companies
        without a chart of accounts are left alone (enabling the provider calls this again)."""
        Journal = self.env["account.journal"].sudo()
        Line = self.env["account.payment.method.line"].sudo()
        for provider in self.sudo():
            company = provider.company_id
            if (
                not self.env["account.account"]
                .sudo()
                .search_count([("company_ids", "in", company.ids)], limit=1)
            ):
                continue
            bank = [("company_id", "=", company.id), ("type", "=", "bank")]
            journal = Journal.search([*bank, ("code", "=like", "PSPL%")], limit=1)
            chosen = Line.search(
                [("payment_provider_id", "=", provider.id), ("journal_id", "!=", False)], limit=1
            ).journal_id
            if chosen and (
                chosen == journal or not replace_fallback or chosen != Journal.search(bank, limit=1)
            ):
                continue  # its own, or one staff chose
            if not journal:
                taken = set(Journal.search([("company_id", "=", company.id)]).mapped("code"))
                code = next(
                    c for c in ["PSPL"] + [f"PSPL{n}" for n in range(1, 100)] if c not in taken
                )
                journal = Journal.create(
                    {"name": "Pesapal", "code": code, "type": "bank", "company_id": company.id}
                )
            _logger.info("%s of %s posts in journal %s", provider.name, company.name, journal.code)
            provider.journal_id = journal

    _PESAPAL_ACCOUNT_FIELDS = (
        "state",
        "pesapal_base_url",
        "pesapal_consumer_key_encrypted",
        "pesapal_consumer_secret_encrypted",
    )

    def write(self, vals):
        """Override to forget the token and IPN registration when the account or environment
        changes (they belong to them), and to give an enabled provider its journal."""
        pesapal = self.filtered(lambda p: p.code == "pesapal").sudo()
        before = {p.id: [p[name] for name in self._PESAPAL_ACCOUNT_FIELDS] for p in pesapal}
        result = super().write(vals)
        changed = pesapal.filtered(
            lambda p: [p[name] for name in self._PESAPAL_ACCOUNT_FIELDS] != before[p.id]
        )
        if changed:
            changed.write(
                {
                    "pesapal_token_encrypted": False,
                    "pesapal_token_expiry": False,
                    "pesapal_ipn_id": False,
                    "pesapal_ipn_url": False,
                    "pesapal_ipn_fingerprint": False,
                    "pesapal_ipn_type": False,
                    "pesapal_ipn_registered_at": False,
                }
            )
        if pesapal and vals.get("state") in ("test", "enabled"):
            pesapal._pesapal_ensure_journal(replace_fallback=True)
        return result

    # === Settings === #

    def _pesapal_base_url(self):
        self.ensure_one()
        url = self.sudo().pesapal_base_url or PESAPAL_HOSTS.get(self.state)
        if not url:
            raise UserError(self.env._("%(name)s is disabled.", name=self.name))
        return url.rstrip("/") + "/"

    # === HTTP requests (the payment module's hooks) === #

    def _build_request_url(self, endpoint, **kwargs):
        """Override of `payment` to build the request URL."""
        if self.code != "pesapal":
            return super()._build_request_url(endpoint, **kwargs)
        return urljoin(self._pesapal_base_url(), endpoint)

    def _build_request_headers(self, method, endpoint, payload, **kwargs):
        """Override of `payment` to send JSON with the bearer token."""
        if self.code != "pesapal":
            return super()._build_request_headers(method, endpoint, payload, **kwargs)
        headers = {"Accept": "application/json"}
        if method != "GET":
            headers["Content-Type"] = "application/json"
        if not kwargs.get("token_request"):
            headers["Authorization"] = (
                f"Bearer {self._pesapal_token(refresh=kwargs.get('refresh_token'))}"
            )
        return headers

    def _build_request_auth(self, **kwargs):
        """Override of `payment`: no HTTP basic authentication."""
        if self.code != "pesapal":
            return super()._build_request_auth(**kwargs)
        return None

    def _parse_response_error(self, response):
        """Override of `payment` to return (Pesapal's error code, message)."""
        if self.code != "pesapal":
            return super()._parse_response_error(response)
        try:
            body = response.json()
        except ValueError:
            body = None
        problem = pesapal_error(body) if isinstance(body, dict) else None
        if not problem:
            text = (response.text or "").strip()[:200] or response.reason
            return None, self.env._(
                "%(name)s answered HTTP %(status)s: %(text)s",
                name=self.name,
                status=response.status_code,
                text=text,
            )
        code, message = problem
        return code, self.env._(
            "%(name)s refused the request (HTTP %(status)s): %(message)s (%(code)s)",
            name=self.name,
            status=response.status_code,
            message=message,
            code=code,
        )

    def _pesapal_mask(self, text):
        """``text`` without the IPN URL's secret path token."""
        key = self.sudo().pesapal_ipn_key
        return text.replace(self._pesapal_ipn_token(), "***") if key and text else text

    def _log_request(self, method, url, payload, *, reference=None):
        """Override of `payment` to keep the IPN URL's token out of the log."""
        if self.code == "pesapal" and isinstance(payload, dict):
            payload = json.loads(self._pesapal_mask(json.dumps(payload)))
        return super()._log_request(method, url, payload, reference=reference)

    def _log_response(self, response, *, reference=None):
        """Override of `payment` to log a refusal as a warning, the body cut and masked."""
        if self.code != "pesapal":
            return super()._log_response(response, reference=reference)
        log = _logger.info if response.ok else _logger.warning
        log(
            "HTTP %s from %s for %s: %s",
            response.status_code,
            response.url.split("?")[0],
            reference or f"provider {self.id}",
            self._pesapal_mask((response.text or "")[:2000]),
        )
        return None

    def _send_api_request(
        self, method, endpoint, *, params=None, data=None, json=None, reference=None, **kwargs
    ):
        """Override of `payment`: the provider's timeout, plain errors (:class:`IspProviderError`),
        an error body with HTTP 200 is an error, and a refused token (HTTP 401, or "401" in the
        body) is replaced once."""
        if self.code != "pesapal":
            return super()._send_api_request(
                method, endpoint, params=params, data=data, json=json, reference=reference, **kwargs
            )
        self.ensure_one()
        try:
            return self._pesapal_send(method, endpoint, params, json, reference, **kwargs)
        except IspProviderError as error:
            if error.status != 401 or kwargs.get("token_request") or kwargs.get("refresh_token"):
                raise
            _logger.info("%s refused the cached token: getting a new one", self.name)
            return self._pesapal_send(method, endpoint, params, json, reference, refresh_token=True)

    def _pesapal_send(self, method, endpoint, params, json_payload, reference, **kwargs):
        answer = self._isp_send(method, endpoint, params, json_payload, reference, **kwargs)
        problem = pesapal_error(answer)
        if problem:
            code, message = problem
            status = answer.get("status") if isinstance(answer, dict) else None
            raise IspProviderError(
                self.env._(
                    "%(name)s refused the request: %(message)s (%(code)s)",
                    name=self.name,
                    message=message,
                    code=code,
                ),
                code=code,
                status=int(status) if str(status).isdigit() else None,
            )
        return answer
