import hashlib
import secrets
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, consteq

from odoo.addons.payment import utils as payment_utils
from odoo.addons.payment.logging import get_payment_logger

from .. import const
from .payment_provider import IspProviderError
from .payment_provider_pesapal import (
    PESAPAL_IPN_LIST_PATH,
    PESAPAL_IPN_ROUTE,
    PESAPAL_REGISTER_IPN_PATH,
    PESAPAL_TOKEN_LIFETIME,
    PESAPAL_TOKEN_MARGIN,
    PESAPAL_TOKEN_PATH,
    parse_expiry,
)

_logger = get_payment_logger(__name__, const.SENSITIVE_KEYS)


class PaymentProvider(models.Model):
    """Pesapal: the bearer token and the IPN URL (its secret path token, its registration)."""

    _inherit = "payment.provider"  # pylint: disable=consider-merging-classes-inherited

    # === Token === #

    def _pesapal_token(self, refresh=False):
        """The bearer token cached on the provider (encrypted) until shortly before its
        expiryDate, at most 5 minutes; a new one on expiry, or when asked (refused)."""
        self.ensure_one()
        sudo = self.sudo()
        now = fields.Datetime.now()
        if not refresh and sudo.pesapal_token_encrypted and sudo.pesapal_token_expiry:
            if sudo.pesapal_token_expiry > now:
                try:
                    token = self._isp_decrypt(sudo.pesapal_token_encrypted)
                except UserError:
                    token = None
                if token:
                    return token
        key = self._isp_secret("pesapal_consumer_key")
        secret = self._isp_secret("pesapal_consumer_secret")
        if not (key and secret):
            raise UserError(self.env._("Set the consumer key and secret of %s.", self.name))
        answer = self._send_api_request(
            "POST",
            PESAPAL_TOKEN_PATH,
            json={"consumer_key": key, "consumer_secret": secret},
            token_request=True,
        )
        token = answer.get("token") if isinstance(answer, dict) else None
        if not token or not isinstance(token, str):
            raise IspProviderError(
                self.env._("%(name)s did not return an access token.", name=self.name),
                code="invalid",
            )
        expiry = parse_expiry(answer.get("expiryDate"))
        lifetime = (expiry - now).total_seconds() if expiry else PESAPAL_TOKEN_LIFETIME
        lifetime = min(max(lifetime, 0), PESAPAL_TOKEN_LIFETIME) - PESAPAL_TOKEN_MARGIN
        sudo.write(
            {
                "pesapal_token_encrypted": self._isp_encrypt(token),
                "pesapal_token_expiry": now + timedelta(seconds=max(lifetime, 0)),
            }
        )
        # the row lock now: a concurrent refresh fails here (and is retried with this token)
        sudo.flush_recordset(["pesapal_token_encrypted", "pesapal_token_expiry"])
        return token

    # === IPN === #

    def _pesapal_ipn_token(self):
        """The secret path token of this provider's IPN URL (its key made on first use)."""
        self.ensure_one()
        provider = self.sudo()
        if not provider.pesapal_ipn_key:
            provider.pesapal_ipn_key = secrets.token_hex(16)
        return payment_utils.generate_access_token(
            "pesapal-ipn", provider.id, provider.pesapal_ipn_key, env=self.env
        )

    def _pesapal_ipn_url(self):
        self.ensure_one()
        token = self._pesapal_ipn_token()
        return f"{self._isp_callback_base()}{PESAPAL_IPN_ROUTE}/{self.id}/{token}"

    @api.model
    def _pesapal_ipn_provider(self, provider_id, token):
        """The enabled Pesapal provider (sudo) whose IPN URL carries ``token``, else empty.
        Nothing is sent anywhere for a wrong one."""
        provider = self.sudo().browse(provider_id).exists()
        if (
            not provider
            or provider.code != "pesapal"
            or provider.state == "disabled"
            or not provider.pesapal_ipn_key
            or not isinstance(token, str)
            or len(token) > 128
            or not consteq(token, provider._pesapal_ipn_token())
        ):
            return self.sudo().browse()
        return provider

    def _pesapal_ensure_ipn(self):
        """The ipn_id of this provider's IPN URL: registered once (or found among the
        account's registered IPNs); again only when the URL or method changes."""
        self.ensure_one()
        sudo = self.sudo()
        url, method = self._pesapal_ipn_url(), self.pesapal_ipn_method or "POST"

        fingerprint = hashlib.sha256(url.encode()).hexdigest()

        def current():
            if sudo.pesapal_ipn_id and sudo.pesapal_ipn_fingerprint == fingerprint:
                return sudo.pesapal_ipn_type == method and sudo.pesapal_ipn_id
            return False

        if ipn_id := current():
            return ipn_id
        # one registration at a time: a concurrent one waits, then fails to serialize and is
        # retried, and finds this one
        self.env.cr.execute(
            SQL("SELECT id FROM payment_provider WHERE id = %s FOR UPDATE", self.id)
        )
        sudo.invalidate_recordset(["pesapal_ipn_id", "pesapal_ipn_fingerprint", "pesapal_ipn_type"])
        if ipn_id := current():
            return ipn_id
        ipn_id = self._pesapal_find_ipn(url, method) or self._pesapal_register_ipn(url, method)
        sudo.write(
            {
                "pesapal_ipn_id": ipn_id,
                "pesapal_ipn_url": self._pesapal_mask(url),
                "pesapal_ipn_fingerprint": fingerprint,
                "pesapal_ipn_type": method,
                "pesapal_ipn_registered_at": fields.Datetime.now(),
            }
        )
        return ipn_id

    def _pesapal_find_ipn(self, url, method):
        """The ipn_id of ``url`` among the IPNs registered on the account, or None."""
        try:
            answer = self._send_api_request("GET", PESAPAL_IPN_LIST_PATH)
        except UserError as error:  # IspProviderError too: register instead
            _logger.info("%s: IPN list unavailable (%s)", self.name, error.args[0])
            return None
        for entry in answer if isinstance(answer, list) else []:
            if not isinstance(entry, dict) or entry.get("url") != url:
                continue
            kind = str(entry.get("ipn_notification_type_description") or "").upper()
            if kind == method and entry.get("ipn_id"):
                _logger.info("%s: IPN URL already registered, reused", self.name)
                return str(entry["ipn_id"])
        return None

    def _pesapal_register_ipn(self, url, method):
        answer = self._send_api_request(
            "POST", PESAPAL_REGISTER_IPN_PATH, json={"url": url, "ipn_notification_type": method}
        )
        ipn_id = answer.get("ipn_id") if isinstance(answer, dict) else None
        if not ipn_id or not isinstance(ipn_id, str):
            raise IspProviderError(
                self.env._("%(name)s did not return an IPN id.", name=self.name), code="invalid"
            )
        _logger.info("%s: IPN URL registered (%s)", self.name, ipn_id)
        return ipn_id

    def action_isp_test_connection(self):
        """Override of isp_mpesa: for Pesapal, a new token and the IPN registration."""
        self.ensure_one()
        if self.code != "pesapal":
            return super().action_isp_test_connection()
        self.check_access("write")
        try:
            self._pesapal_token(refresh=True)
            ipn_id = self._pesapal_ensure_ipn()
        except (UserError, ValidationError) as error:
            message = self.env._(
                "Connection failed: %(reason)s", reason=str(error.args[0] if error.args else error)
            )
            kind = "danger"
        else:
            message = self.env._(
                "Connected: %(name)s accepted the credentials; notifications come to this Odoo "
                "(IPN %(ipn)s).",
                name=self.name,
                ipn=ipn_id,
            )
            kind = "success"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"title": self.name, "message": message, "type": kind, "sticky": False},
        }
