import base64
import hashlib
import hmac
import ipaddress
import json
import pprint
from datetime import datetime, timedelta

import requests

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.urls import urljoin

from odoo.addons.payment.logging import get_payment_logger

from .. import const

_logger = get_payment_logger(__name__, const.SENSITIVE_KEYS)


class IspProviderError(ValidationError):
    """A provider answered with an error (or did not answer): ``code`` is the provider's
    error code (``connection``, ``timeout`` or ``http-<status>`` when there is none)."""

    def __init__(self, message, code=None, status=None):
        super().__init__(message)
        self.code = code
        self.status = status


def clickpesa_checksum(key, payload):
    """HMAC-SHA256 (hex) of ``payload`` without ``checksum``/``checksumMethod``, keys sorted
    recursively, compact JSON."""
    data = {k: v for k, v in payload.items() if k not in ("checksum", "checksumMethod")}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


class PaymentProvider(models.Model):
    _name = "payment.provider"
    _inherit = ["payment.provider", "isp.secret.mixin"]

    code = fields.Selection(
        selection_add=[("daraja", "M-Pesa (Daraja)"), ("clickpesa", "ClickPesa")],
        ondelete={"daraja": "set default", "clickpesa": "set default"},
    )
    _isp_secret_fields = {
        "daraja_consumer_key": "daraja_consumer_key_encrypted",
        "daraja_consumer_secret": "daraja_consumer_secret_encrypted",
        "daraja_passkey": "daraja_passkey_encrypted",
        "clickpesa_client_id": "clickpesa_client_id_encrypted",
        "clickpesa_api_key": "clickpesa_api_key_encrypted",
        "clickpesa_checksum_key": "clickpesa_checksum_key_encrypted",
    }

    # === Daraja === #
    daraja_consumer_key = fields.Char(
        string="Consumer Key",
        compute="_compute_isp_secrets",
        inverse="_inverse_isp_secrets",
        groups="base.group_system",
    )
    daraja_consumer_key_encrypted = fields.Char(
        required_if_provider="daraja", copy=False, groups="base.group_system"
    )
    daraja_consumer_secret = fields.Char(
        string="Consumer Secret",
        compute="_compute_isp_secrets",
        inverse="_inverse_isp_secrets",
        groups="base.group_system",
    )
    daraja_consumer_secret_encrypted = fields.Char(
        required_if_provider="daraja", copy=False, groups="base.group_system"
    )
    daraja_passkey = fields.Char(
        string="Passkey",
        compute="_compute_isp_secrets",
        inverse="_inverse_isp_secrets",
        groups="base.group_system",
    )
    daraja_passkey_encrypted = fields.Char(
        required_if_provider="daraja", copy=False, groups="base.group_system"
    )
    daraja_shortcode = fields.Char(
        string="Business Short Code",
        help="Paybill number, or for a till the head-office store number.",
        required_if_provider="daraja",
    )
    daraja_transaction_type = fields.Selection(
        [("paybill", "Paybill"), ("till", "Till (Buy Goods)")],
        string="Receive On",
        default="paybill",
    )
    daraja_till_number = fields.Char(string="Till Number")
    daraja_account_reference = fields.Char(
        string="Account Reference",
        size=const.DARAJA_ACCOUNT_REFERENCE_MAX,
        help="Shown to the customer on the prompt; at most 12 characters. "
        "Empty: the transaction reference (cut to 12 characters).",
    )
    # Where the credentials and callbacks go (API URLs, the public callback URL, whose
    # paths carry per-transaction tokens) belongs to the credentials' group.
    daraja_base_url = fields.Char(
        string="Daraja API URL",
        groups="base.group_system",
        help="Empty: the sandbox in test mode, production when enabled.",
    )
    daraja_status_query = fields.Boolean(
        string="Confirm With Status Query",
        default=True,
        help="Ask M-Pesa for the status of every transaction a callback reports, before "
        "trusting the callback.",
    )
    daraja_allowed_ips = fields.Char(
        string="Callback Source Addresses",
        help="Comma-separated addresses or networks allowed to send callbacks. Empty: any "
        "(the per-transaction token and the status query still apply). Behind a reverse "
        "proxy, the forwarded address is used only when Odoo runs with proxy_mode.",
    )
    daraja_token_encrypted = fields.Char(copy=False, groups="base.group_system")
    daraja_token_expiry = fields.Datetime(copy=False, groups="base.group_system")

    # === ClickPesa === #
    clickpesa_client_id = fields.Char(
        string="Client ID",
        compute="_compute_isp_secrets",
        inverse="_inverse_isp_secrets",
        groups="base.group_system",
    )
    clickpesa_client_id_encrypted = fields.Char(
        required_if_provider="clickpesa", copy=False, groups="base.group_system"
    )
    clickpesa_api_key = fields.Char(
        string="API Key",
        compute="_compute_isp_secrets",
        inverse="_inverse_isp_secrets",
        groups="base.group_system",
    )
    clickpesa_api_key_encrypted = fields.Char(
        required_if_provider="clickpesa", copy=False, groups="base.group_system"
    )
    clickpesa_checksum_key = fields.Char(
        string="Checksum Key",
        help="Set when checksums are enabled on the ClickPesa account: requests are signed "
        "and webhooks without a valid checksum are refused.",
        compute="_compute_isp_secrets",
        inverse="_inverse_isp_secrets",
        groups="base.group_system",
    )
    clickpesa_checksum_key_encrypted = fields.Char(copy=False, groups="base.group_system")
    clickpesa_unsigned_webhooks = fields.Boolean(
        string="Unsigned Webhooks",
        compute="_compute_clickpesa_unsigned_webhooks",
        help="No checksum key: anyone can post webhooks. They are only acted on (and kept) "
        "once ClickPesa's status query confirms them.",
    )
    clickpesa_base_url = fields.Char(string="ClickPesa API URL", groups="base.group_system")
    clickpesa_preview = fields.Boolean(
        string="Preview Before Push",
        help="Check with ClickPesa that a payment method is available for the phone before "
        "sending the USSD push.",
    )
    clickpesa_token_encrypted = fields.Char(copy=False, groups="base.group_system")
    clickpesa_token_expiry = fields.Datetime(copy=False, groups="base.group_system")

    # === Both === #
    isp_callback_base_url = fields.Char(
        string="Public URL For Callbacks",
        groups="base.group_system",
        help="The address the provider reaches this Odoo at. Empty: the web.base.url.",
    )
    isp_request_timeout = fields.Integer(
        string="Request Timeout (s)", default=10, help="For every call to the provider's API."
    )
    isp_push_limit = fields.Integer(
        string="Pushes per Phone",
        default=3,
        help="Payment prompts one phone number may be sent within the window below. 0: no limit.",
    )
    isp_push_ip_limit = fields.Integer(
        string="Pushes per Client Address",
        default=60,
        help="Payment prompts one client address may ask for within the window below; "
        "0: no limit. Behind a hotspot router's NAT every customer reaches Odoo from the "
        "router's one address: keep it well above the per-phone limit.",
    )
    isp_push_window = fields.Integer(string="Within (s)", default=120)
    isp_poll_after = fields.Integer(
        string="Ask Status After (s)",
        default=30,
        help="A pushed transaction without an answer after this delay is asked for its status "
        "(lost callbacks).",
    )
    isp_push_timeout = fields.Integer(
        string="Give Up After (s)",
        default=180,
        help="The provider's own timeout window: a transaction still without an answer after "
        "this delay ends in error.",
    )
    isp_callback_retention_days = fields.Integer(
        string="Keep Notifications (days)",
        default=90,
        help="The callbacks, webhooks and status answers kept on the transactions (masked) "
        "are deleted after this many days. Transactions, payments and receipts stay.",
    )

    _isp_push_limit_positive = models.Constraint(
        "CHECK(isp_push_limit >= 0 AND isp_push_window >= 0)",
        "The push limit and its window cannot be negative.",
    )
    _isp_push_ip_limit_positive = models.Constraint(
        "CHECK(isp_push_ip_limit >= 0)",
        "The push limit per client address cannot be negative.",
    )
    _isp_delays_positive = models.Constraint(
        "CHECK(isp_poll_after >= 0 AND isp_push_timeout >= 0 AND isp_request_timeout >= 0)",
        "Delays cannot be negative.",
    )
    _isp_callback_retention_positive = models.Constraint(
        "CHECK(isp_callback_retention_days > 0)",
        "Notifications must be kept at least one day.",
    )

    # === Constraints === #

    @api.constrains("code", "daraja_transaction_type", "daraja_till_number", "daraja_shortcode")
    def _check_daraja_numbers(self):
        for provider in self.filtered(lambda p: p.code == "daraja"):
            if provider.daraja_shortcode and not provider.daraja_shortcode.isdigit():
                raise ValidationError(self.env._("The business short code is digits only."))
            till = provider.daraja_till_number
            if till and not till.isdigit():
                raise ValidationError(self.env._("The till number is digits only."))
            if (
                provider.daraja_transaction_type == "till"
                and provider.state != "disabled"
                and not till
            ):
                raise ValidationError(self.env._("Receiving on a till needs the till number."))

    @api.constrains("daraja_allowed_ips")
    def _check_daraja_allowed_ips(self):
        for provider in self:
            provider._isp_allowed_networks()

    # === Payment framework overrides === #

    @api.depends("code", "clickpesa_checksum_key_encrypted")
    def _compute_clickpesa_unsigned_webhooks(self):
        for provider in self:
            key = provider.sudo().clickpesa_checksum_key_encrypted
            provider.clickpesa_unsigned_webhooks = provider.code == "clickpesa" and not key

    def _get_supported_currencies(self):
        supported = super()._get_supported_currencies()
        if self.code == "daraja":
            return supported.filtered(lambda c: c.name == "KES")
        if self.code == "clickpesa":
            return supported.filtered(lambda c: c.name == "TZS")
        return supported

    def _get_default_payment_method_codes(self):
        self.ensure_one()
        if self.code == "daraja":
            return {"mpesa"}
        if self.code == "clickpesa":
            return {"mobile_money"}
        return super()._get_default_payment_method_codes()

    @api.model
    def _setup_provider(self, provider_code, **kwargs):
        """Also give each company's M-Pesa / ClickPesa provider a journal of its own."""
        result = super()._setup_provider(provider_code, **kwargs)
        if provider_code in const.PROVIDER_CODES:
            self.search(self._get_provider_domain(provider_code, **kwargs))._isp_ensure_journal()
        return result

    @api.model_create_multi
    def create(self, vals_list):
        """A provider made in a company that has its chart already (a copy for a new
        company, a duplicate) gets its journal now; otherwise loading the chart does it."""
        providers = super().create(vals_list)
        providers._isp_ensure_journal()
        return providers

    def _isp_can_push(self):
        return self.code in const.PROVIDER_CODES or super()._isp_can_push()

    def _isp_ensure_journal(self, replace_fallback=False):
        """Give these M-Pesa / ClickPesa providers a bank journal of their own in their
        company (MPESA / CLKP, created once per company), unless one was chosen for them.
        ``replace_fallback``: also replace the company's first bank journal, which Odoo
        falls back to for a provider enabled without a journal (installs made before the
        chart of accounts). Companies without a chart of accounts are left alone: loading
        their chart calls this again (``account.chart.template._post_load_data``)."""
        Journal = self.env["account.journal"].sudo()
        Line = self.env["account.payment.method.line"].sudo()
        for provider in self.filtered(lambda p: p.code in const.PROVIDER_CODES).sudo():
            company = provider.company_id
            if (
                not self.env["account.account"]
                .sudo()
                .search_count([("company_ids", "in", company.ids)], limit=1)
            ):
                continue
            prefix = "MPESA" if provider.code == "daraja" else "CLKP"
            journal = Journal.search(
                [
                    ("company_id", "=", company.id),
                    ("type", "=", "bank"),
                    ("code", "=like", prefix + "%"),
                ],
                limit=1,
            )
            chosen = Line.search(
                [("payment_provider_id", "=", provider.id), ("journal_id", "!=", False)], limit=1
            ).journal_id
            if chosen and (chosen == journal or not replace_fallback):
                continue
            if chosen and chosen != Journal.search(
                [("company_id", "=", company.id), ("type", "=", "bank")], limit=1
            ):
                continue  # a journal staff chose
            if not journal:
                taken = set(Journal.search([("company_id", "=", company.id)]).mapped("code"))
                code = next(
                    c
                    for c in [prefix] + [f"{prefix[:4]}{n}" for n in range(1, 100)]
                    if c not in taken
                )
                journal = Journal.create(
                    {"name": provider.name, "code": code, "type": "bank", "company_id": company.id}
                )
            _logger.info("%s of %s posts in journal %s", provider.name, company.name, journal.code)
            provider.journal_id = journal

    # === Settings and helpers === #

    def _isp_base_url(self):
        self.ensure_one()
        provider = self.sudo()  # the URL fields are the system administrators'
        if self.code == "daraja":
            url = provider.daraja_base_url or const.DARAJA_HOSTS.get(self.state, "")
        else:
            url = provider.clickpesa_base_url or const.CLICKPESA_HOSTS.get(self.state, "")
        if not url:
            raise UserError(self.env._("%(name)s is disabled.", name=self.name))
        return url.rstrip("/") + "/"

    def _isp_callback_base(self):
        self.ensure_one()
        return (self.sudo().isp_callback_base_url or self.get_base_url()).rstrip("/")

    def _isp_allowed_networks(self):
        self.ensure_one()
        networks = []
        for item in (self.daraja_allowed_ips or "").replace(";", ",").split(","):
            if not item.strip():
                continue
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError as exc:
                raise ValidationError(
                    self.env._("%(item)s is not an IP address or network.", item=item.strip())
                ) from exc
        return networks

    def _isp_address_allowed(self, address):
        networks = self._isp_allowed_networks()
        if not networks:
            return True
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        return any(ip in network for network in networks)

    # === HTTP requests (the payment module's hooks) === #

    def _build_request_url(self, endpoint, **kwargs):
        if self.code not in const.PROVIDER_CODES:
            return super()._build_request_url(endpoint, **kwargs)
        return urljoin(self._isp_base_url(), endpoint)

    def _build_request_headers(self, method, endpoint, payload, **kwargs):
        if self.code not in const.PROVIDER_CODES:
            return super()._build_request_headers(method, endpoint, payload, **kwargs)
        headers = {"Accept": "application/json"}
        if method != "GET":
            headers["Content-Type"] = "application/json"
        if self.code == "clickpesa" and kwargs.get("token_request"):
            headers["client-id"] = self._isp_secret("clickpesa_client_id") or ""
            headers["api-key"] = self._isp_secret("clickpesa_api_key") or ""
        elif not kwargs.get("token_request"):
            headers["Authorization"] = self._isp_bearer(refresh=kwargs.get("refresh_token"))
        return headers

    def _build_request_auth(self, **kwargs):
        if self.code not in const.PROVIDER_CODES:
            return super()._build_request_auth(**kwargs)
        if self.code == "daraja" and kwargs.get("token_request"):
            return (
                self._isp_secret("daraja_consumer_key") or "",
                self._isp_secret("daraja_consumer_secret") or "",
            )
        return None

    def _parse_response_error(self, response):
        if self.code not in const.PROVIDER_CODES:
            return super()._parse_response_error(response)
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            text = (response.text or "").strip()[:200] or response.reason
            return None, self.env._(
                "%(name)s answered HTTP %(status)s: %(text)s",
                name=self.name,
                status=response.status_code,
                text=text,
            )
        if self.code == "daraja" and body.get("errorCode"):
            code = str(body["errorCode"])
            label = const.DARAJA_ERROR_CODES.get(code, self.env._("M-Pesa refused the request"))
            return code, f"{label}: {body.get('errorMessage') or ''} ({code})"
        message = body.get("message") or body.get("errorMessage") or body.get("error") or body
        return None, self.env._(
            "%(name)s refused the request (HTTP %(status)s): %(message)s",
            name=self.name,
            status=response.status_code,
            message=message,
        )

    def _log_request(self, method, url, payload, *, reference=None):
        if self.code not in const.PROVIDER_CODES:
            return super()._log_request(method, url, payload, reference=reference)
        _logger.info(
            "%s %s for %s: %s",
            method,
            url,
            reference or f"provider {self.id}",
            pprint.pformat(payload) if payload else "",
        )

    def _log_response(self, response, *, reference=None):
        if self.code not in const.PROVIDER_CODES:
            return super()._log_response(response, reference=reference)
        log = _logger.info if response.ok else _logger.warning
        log(
            "HTTP %s from %s for %s: %s",
            response.status_code,
            response.url.split("?")[0],
            reference or f"provider {self.id}",
            (response.text or "")[:2000],
        )

    def _send_api_request(
        self, method, endpoint, *, params=None, data=None, json=None, reference=None, **kwargs
    ):
        """For M-Pesa and ClickPesa: the payment module's request, with the provider's own
        timeout, a clear message per failure, the provider's error code kept
        (:class:`IspProviderError`) and one retry with a new token when the token is refused."""
        if self.code not in const.PROVIDER_CODES:
            return super()._send_api_request(
                method, endpoint, params=params, data=data, json=json, reference=reference, **kwargs
            )
        self.ensure_one()
        try:
            return self._isp_send(method, endpoint, params, json, reference, **kwargs)
        except IspProviderError as error:
            token_refused = error.code == const.DARAJA_INVALID_TOKEN or (
                self.code == "clickpesa" and error.status == 401
            )
            if kwargs.get("token_request") or kwargs.get("refresh_token") or not token_refused:
                raise
            _logger.info("%s refused the cached token: getting a new one", self.name)
            return self._isp_send(method, endpoint, params, json, reference, refresh_token=True)

    def _isp_send(self, method, endpoint, params, json_payload, reference, **kwargs):
        url = self._build_request_url(endpoint, **kwargs)
        headers = self._build_request_headers(method, endpoint, json_payload, **kwargs)
        auth = self._build_request_auth(**kwargs)
        self._log_request(method, url, json_payload or params, reference=reference)
        timeout = self.isp_request_timeout or 10
        try:
            response = requests.request(
                method,
                url,
                params=params,
                json=json_payload,
                headers=headers,
                auth=auth,
                timeout=timeout,
            )
        except requests.exceptions.Timeout as exc:
            _logger.warning("%s did not answer within %s s (%s)", self.name, timeout, url)
            raise IspProviderError(
                self.env._(
                    "%(name)s did not answer in time. Nothing was charged by this attempt; "
                    "please try again in a moment.",
                    name=self.name,
                ),
                code="timeout",
            ) from exc
        except requests.exceptions.RequestException as exc:
            _logger.warning("%s cannot be reached (%s): %s", self.name, url, type(exc).__name__)
            raise IspProviderError(
                self.env._(
                    "%(name)s cannot be reached right now. Please try again in a moment.",
                    name=self.name,
                ),
                code="connection",
            ) from exc
        self._log_response(response, reference=reference)
        if not response.ok:
            code, message = self._parse_response_error(response)
            raise IspProviderError(
                message, code=code or f"http-{response.status_code}", status=response.status_code
            )
        try:
            return response.json()
        except ValueError as exc:
            raise IspProviderError(
                self.env._("%(name)s answered something that is not JSON.", name=self.name),
                code="invalid",
                status=response.status_code,
            ) from exc

    # === Tokens === #

    def _isp_bearer(self, refresh=False):
        """The ``Authorization`` header value, from the token cached on the provider (one per
        provider: a new token may invalidate the previous one) until shortly before expiry."""
        self.ensure_one()
        sudo = self.sudo()
        token_field, expiry_field = (
            ("daraja_token_encrypted", "daraja_token_expiry")
            if self.code == "daraja"
            else ("clickpesa_token_encrypted", "clickpesa_token_expiry")
        )
        now = fields.Datetime.now()
        if not refresh and sudo[token_field] and sudo[expiry_field] and sudo[expiry_field] > now:
            try:
                token = self._isp_decrypt(sudo[token_field])
            except UserError:
                token = None
            if token:
                return token if self.code == "clickpesa" else f"Bearer {token}"
        token, lifetime = self._isp_fetch_token()
        margin = min(const.TOKEN_MARGIN_SECONDS, lifetime // 2)
        sudo.write(
            {
                token_field: self._isp_encrypt(token),
                expiry_field: now + timedelta(seconds=lifetime - margin),
            }
        )
        # Take the row lock now: a concurrent refresh fails here (and its request is retried
        # with the new token) before anything is sent to the provider.
        sudo.flush_recordset([token_field, expiry_field])
        return token if self.code == "clickpesa" else f"Bearer {token}"

    def _isp_fetch_token(self):
        self.ensure_one()
        if self.code == "daraja":
            if not (
                self._isp_secret("daraja_consumer_key")
                and self._isp_secret("daraja_consumer_secret")
            ):
                raise UserError(self.env._("Set the consumer key and secret of %s.", self.name))
            answer = self._send_api_request(
                "GET",
                const.DARAJA_TOKEN_PATH,
                params={"grant_type": "client_credentials"},
                token_request=True,
            )
            token = answer.get("access_token") if isinstance(answer, dict) else None
            try:
                lifetime = int(float(answer.get("expires_in") or 3599))
            except (TypeError, ValueError):
                lifetime = 3599
        else:
            if not (
                self._isp_secret("clickpesa_client_id") and self._isp_secret("clickpesa_api_key")
            ):
                raise UserError(self.env._("Set the client ID and API key of %s.", self.name))
            answer = self._send_api_request("POST", const.CLICKPESA_TOKEN_PATH, token_request=True)
            token = answer.get("token") if isinstance(answer, dict) else None
            if token and not token.startswith("Bearer "):
                token = f"Bearer {token}"
            lifetime = 3600
        if not token:
            raise IspProviderError(
                self.env._("%(name)s did not return an access token.", name=self.name),
                code="invalid",
            )
        return token, max(lifetime, 60)

    def action_isp_test_connection(self):
        """Get a new token with the stored credentials and say plainly what failed."""
        self.ensure_one()
        if self.code not in const.PROVIDER_CODES:
            raise UserError(self.env._("This button is for M-Pesa and ClickPesa providers."))
        try:
            self._isp_bearer(refresh=True)
        except (UserError, ValidationError) as error:
            message, kind = str(error.args[0] if error.args else error), "danger"
            message = self.env._("Connection failed: %(reason)s", reason=message)
        else:
            message, kind = (
                self.env._("Connected: %(name)s accepted the credentials.", name=self.name),
                "success",
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"title": self.name, "message": message, "type": kind, "sticky": False},
        }

    # === Time === #

    @api.model
    def _isp_daraja_timestamp(self, now=None):
        now = now or datetime.now(tz=const.KENYA_TZ)
        return now.astimezone(const.KENYA_TZ).strftime("%Y%m%d%H%M%S")

    def _isp_daraja_password(self, timestamp):
        self.ensure_one()
        raw = f"{self.daraja_shortcode}{self._isp_secret('daraja_passkey') or ''}{timestamp}"
        return base64.b64encode(raw.encode()).decode()
