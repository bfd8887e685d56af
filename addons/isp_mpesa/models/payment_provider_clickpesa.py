import hashlib
import hmac
import json

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import consteq

from .. import const


def clickpesa_checksum(key, payload):
    """ClickPesa's checksum: HMAC-SHA256 (hex) with the merchant's checksum key of
    ``payload`` without ``checksum``/``checksumMethod``, keys sorted recursively, compact JSON
    (ClickPesa's algorithm and key: not Odoo's ``tools.misc.hmac``)."""
    data = {k: v for k, v in payload.items() if k not in ("checksum", "checksumMethod")}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


class PaymentProvider(models.Model):
    """ClickPesa (USSD push, Tanzania): settings, token, checksums."""

    _inherit = "payment.provider"  # pylint: disable=consider-merging-classes-inherited

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

    @api.depends("code", "clickpesa_checksum_key_encrypted")
    def _compute_clickpesa_unsigned_webhooks(self):
        for provider in self:
            key = provider.sudo().clickpesa_checksum_key_encrypted
            provider.clickpesa_unsigned_webhooks = provider.code == "clickpesa" and not key

    def _clickpesa_fetch_token(self):
        """(the ``Authorization`` value ClickPesa gives, lifetime in seconds)."""
        self.ensure_one()
        if not (self._isp_secret("clickpesa_client_id") and self._isp_secret("clickpesa_api_key")):
            raise UserError(self.env._("Set the client ID and API key of %s.", self.name))
        answer = self._send_api_request("POST", const.CLICKPESA_TOKEN_PATH, token_request=True)
        token = answer.get("token") if isinstance(answer, dict) else None
        if token and not token.startswith("Bearer "):
            token = f"Bearer {token}"
        return token, 3600

    def _clickpesa_sign(self, payload):
        """``payload`` with its checksum when a checksum key is set."""
        key = self._isp_secret("clickpesa_checksum_key")
        return dict(payload, checksum=clickpesa_checksum(key, payload)) if key else payload

    def _clickpesa_verify_checksum(self, body, header_checksum=None):
        """True when no checksum key is set, or the webhook's body (or header) carries the
        checksum of the body or of its ``data``."""
        self.ensure_one()
        key = self._isp_secret("clickpesa_checksum_key")
        if not key:
            return True
        received = body.get("checksum") or header_checksum
        if not received or not isinstance(received, str):
            return False
        candidates = [body]
        if isinstance(body.get("data"), dict):
            candidates.append(body["data"])
        return any(consteq(clickpesa_checksum(key, c), received) for c in candidates)
