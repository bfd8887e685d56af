import base64
import ipaddress
from datetime import datetime

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from .. import const


class PaymentProvider(models.Model):
    """M-Pesa Daraja (STK Push): settings, source addresses, token, password."""

    _inherit = "payment.provider"  # pylint: disable=consider-merging-classes-inherited

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
            provider._daraja_allowed_networks()

    def _daraja_allowed_networks(self):
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

    def _daraja_address_allowed(self, address):
        """Whether a callback may come from ``address`` (any, without an allow-list)."""
        networks = self._daraja_allowed_networks()
        if not networks:
            return True
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        return any(ip in network for network in networks)

    def _daraja_fetch_token(self):
        """(access token, lifetime in seconds); ``expires_in`` may come as a string."""
        self.ensure_one()
        if not (
            self._isp_secret("daraja_consumer_key") and self._isp_secret("daraja_consumer_secret")
        ):
            raise UserError(self.env._("Set the consumer key and secret of %s.", self.name))
        answer = self._send_api_request(
            "GET",
            const.DARAJA_TOKEN_PATH,
            params={"grant_type": "client_credentials"},
            token_request=True,
        )
        answer = answer if isinstance(answer, dict) else {}
        try:
            lifetime = int(float(answer.get("expires_in") or 3599))
        except (TypeError, ValueError):
            lifetime = 3599
        return answer.get("access_token"), lifetime

    @api.model
    def _daraja_timestamp(self, now=None):
        now = now or datetime.now(tz=const.KENYA_TZ)
        return now.astimezone(const.KENYA_TZ).strftime("%Y%m%d%H%M%S")

    def _daraja_password(self, timestamp):
        self.ensure_one()
        raw = f"{self.daraja_shortcode}{self._isp_secret('daraja_passkey') or ''}{timestamp}"
        return base64.b64encode(raw.encode()).decode()
