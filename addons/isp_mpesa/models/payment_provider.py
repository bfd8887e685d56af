from datetime import timedelta

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


class PaymentProvider(models.Model):
    """What M-Pesa (Daraja) and ClickPesa share: settings, journal, API requests, tokens.
    Their own fields and calls: payment_provider_daraja.py, payment_provider_clickpesa.py."""

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

    # Where the credentials and callbacks go (API URLs, the public callback URL, whose
    # paths carry per-transaction tokens) belongs to the credentials' group.
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

    # === Payment framework overrides === #

    def _get_supported_currencies(self):
        """Override of `payment` to return the provider's one currency."""
        supported = super()._get_supported_currencies()
        if self.code not in const.PROVIDER_CODES:
            return supported
        return supported.filtered(lambda c: c.name == const.SUPPORTED_CURRENCIES[self.code])

    def _get_default_payment_method_codes(self):
        """Override of `payment` to return the default payment method codes."""
        self.ensure_one()
        if self.code not in const.PROVIDER_CODES:
            return super()._get_default_payment_method_codes()
        return const.DEFAULT_PAYMENT_METHOD_CODES[self.code]

    @api.model
    def _setup_provider(self, provider_code, **kwargs):
        """Override of `payment` to give each company's provider a journal of its own."""
        result = super()._setup_provider(provider_code, **kwargs)
        if provider_code in const.PROVIDER_CODES:
            self.search(self._get_provider_domain(provider_code, **kwargs))._isp_ensure_journal()
        return result

    @api.model_create_multi
    def create(self, vals_list):
        """Override to give a provider made in a company that has its chart already (a copy
        for a new company, a duplicate) its journal now; otherwise loading the chart does."""
        providers = super().create(vals_list)
        providers._isp_ensure_journal()
        return providers

    def _isp_can_push(self):
        """Override of `isp_billing`: both providers push the request to the phone."""
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

    # === Settings === #

    def _isp_base_url(self):
        self.ensure_one()
        provider = self.sudo()  # the URL fields are the system administrators'
        if self.code == "daraja":
            url = provider.daraja_base_url or const.DARAJA_HOSTS.get(self.state, "")
        else:
            url = provider.clickpesa_base_url or (self.state != "disabled" and const.CLICKPESA_URL)
        if not url:
            raise UserError(self.env._("%(name)s is disabled.", name=self.name))
        return url.rstrip("/") + "/"

    def _isp_callback_base(self):
        self.ensure_one()
        return (self.sudo().isp_callback_base_url or self.get_base_url()).rstrip("/")

    # === HTTP requests (the payment module's hooks) === #

    def _build_request_url(self, endpoint, **kwargs):
        """Override of `payment` to build the request URL."""
        if self.code not in const.PROVIDER_CODES:
            return super()._build_request_url(endpoint, **kwargs)
        return urljoin(self._isp_base_url(), endpoint)

    def _build_request_headers(self, method, endpoint, payload, **kwargs):
        """Override of `payment` to send JSON with the bearer token (or ClickPesa's keys)."""
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
        """Override of `payment` to authenticate Daraja's token request."""
        if self.code not in const.PROVIDER_CODES:
            return super()._build_request_auth(**kwargs)
        if self.code == "daraja" and kwargs.get("token_request"):
            return (
                self._isp_secret("daraja_consumer_key") or "",
                self._isp_secret("daraja_consumer_secret") or "",
            )
        return None

    def _parse_response_error(self, response):
        """Override of `payment` to return (provider's error code, message)."""
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

    def _log_response(self, response, *, reference=None):
        """Override of `payment` to log a refusal as a warning, the body cut."""
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
        """Override of `payment` to use the provider's own timeout, say plainly what failed,
        keep the provider's error code (:class:`IspProviderError`) and retry once with a new
        token when the token is refused."""
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
        token_field, expiry_field = f"{self.code}_token_encrypted", f"{self.code}_token_expiry"
        now = fields.Datetime.now()
        if not refresh and sudo[token_field] and sudo[expiry_field] and sudo[expiry_field] > now:
            try:
                token = self._isp_decrypt(sudo[token_field])
            except UserError:
                token = None
            if token:
                return token if self.code == "clickpesa" else f"Bearer {token}"
        token, lifetime = (
            self._daraja_fetch_token() if self.code == "daraja" else self._clickpesa_fetch_token()
        )
        if not token:
            raise IspProviderError(
                self.env._("%(name)s did not return an access token.", name=self.name),
                code="invalid",
            )
        lifetime = max(lifetime, 60)
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
