import ipaddress
import secrets
from urllib.parse import urlsplit

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import consteq

from odoo.addons.payment import utils as payment_utils
from odoo.addons.payment.logging import get_payment_logger

from .. import const

_logger = get_payment_logger(__name__, const.SENSITIVE_KEYS)


class PaymentProvider(models.Model):
    """M-Pesa Daraja C2B (Paybill / Till): the shortcode customers pay to, URL registration,
    and the secret path token of the validation and confirmation URLs."""

    _inherit = "payment.provider"  # pylint: disable=consider-merging-classes-inherited

    daraja_c2b_shortcode = fields.Char(
        string="Paybill / Till Number",
        help="The number customers pay to with their account number (Paybill), or the till "
        "number (Buy Goods). May differ from the STK Push short code. Empty: no C2B.",
    )
    daraja_c2b_type = fields.Selection(
        [("paybill", "Paybill"), ("till", "Till (Buy Goods)")],
        string="C2B Number Type",
        default="paybill",
    )
    daraja_c2b_validation = fields.Boolean(
        string="Validate Account Numbers",
        help="Refuse payments whose account number names no customer, PPPoE login, open "
        "invoice or customer phone of this company. Works only once Safaricom has enabled "
        "external validation on the short code; otherwise M-Pesa never asks.",
    )
    daraja_c2b_response_type = fields.Selection(
        [("Completed", "Complete the payment"), ("Cancelled", "Cancel the payment")],
        string="When Validation Does Not Answer",
        default="Completed",
        help="What M-Pesa does with a payment when this Odoo does not answer its validation "
        "request in time (the ResponseType of the URL registration).",
    )
    # The path token of the C2B URLs is an HMAC of this random key (payment.utils, as the STK
    # callback tokens): never stored itself, changed by generating a new key.
    daraja_c2b_key = fields.Char(copy=False, groups="base.group_system")
    daraja_c2b_registered_at = fields.Datetime(string="URLs Registered On", readonly=True)
    daraja_c2b_register_result = fields.Char(string="Registration Result", readonly=True)
    daraja_c2b_url_warning = fields.Char(compute="_compute_daraja_c2b_url_warning")

    @api.constrains("code", "daraja_c2b_shortcode")
    def _check_daraja_c2b_shortcode(self):
        for provider in self.filtered(lambda p: p.code == "daraja" and p.daraja_c2b_shortcode):
            number = provider.daraja_c2b_shortcode
            if not number.isdigit() or not 5 <= len(number) <= 7:
                raise ValidationError(
                    self.env._("A Paybill or Till number is 5 to 7 digits: %(n)s", n=number)
                )
            clash = self.sudo().search(
                [
                    ("id", "!=", provider.id),
                    ("code", "=", "daraja"),
                    ("daraja_c2b_shortcode", "=", number),
                    ("company_id", "=", provider.company_id.id),
                ],
                limit=1,
            )
            if clash:
                raise ValidationError(
                    self.env._(
                        "%(name)s already receives C2B payments on %(n)s.",
                        name=clash.name,
                        n=number,
                    )
                )

    @api.depends("code", "isp_callback_base_url", "daraja_c2b_shortcode")
    def _compute_daraja_c2b_url_warning(self):
        for provider in self:
            provider.daraja_c2b_url_warning = (
                provider._daraja_c2b_url_problem()
                if provider.code == "daraja" and provider.daraja_c2b_shortcode
                else False
            )

    # === URLs === #

    def _daraja_c2b_enabled(self):
        """Whether this provider receives C2B payments (enabled or in test, a number set)."""
        self.ensure_one()
        return (
            self.code == "daraja" and self.state != "disabled" and bool(self.daraja_c2b_shortcode)
        )

    def _daraja_c2b_token(self):
        """The secret path token of this provider's C2B URLs (its key made on first use)."""
        self.ensure_one()
        provider = self.sudo()
        if not provider.daraja_c2b_key:
            provider.daraja_c2b_key = secrets.token_hex(16)
        return payment_utils.generate_access_token(
            "daraja-c2b", provider.id, provider.daraja_c2b_key, env=self.env
        )

    def _daraja_c2b_urls(self):
        """(validation URL, confirmation URL): no "mpesa" in them, as Safaricom requires."""
        self.ensure_one()
        base = f"{self._isp_callback_base()}/payment/daraja/c2b/{self._daraja_c2b_token()}"
        return f"{base}/validation", f"{base}/confirmation"

    def _daraja_c2b_url_problem(self):
        """Why Safaricom would refuse the C2B URLs of this provider (a text), or False."""
        self.ensure_one()
        base = self._isp_callback_base()
        parts = urlsplit(base)
        lowered = base.lower()
        words = [w for w in const.DARAJA_C2B_FORBIDDEN_WORDS if w in lowered]
        if words:
            return self.env._(
                "The public URL %(url)s contains %(words)s: Safaricom refuses such URLs.",
                url=base,
                words=", ".join(words),
            )
        host = parts.hostname or ""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if (
            parts.scheme != "https"
            or host == "localhost"
            or (address and not address.is_global)
            or "." not in host
        ):
            return self.env._(
                "The public URL %(url)s is not a public https address: Safaricom's "
                "production refuses it and cannot reach it. Set the Public URL For Callbacks.",
                url=base,
            )
        return False

    @api.model
    def _daraja_c2b_provider(self, token):
        """The provider (sudo) whose C2B URLs carry ``token``, else an empty recordset."""
        if not token or len(token) > 128:
            return self.sudo().browse()
        providers = self.sudo().search(
            [
                ("code", "=", "daraja"),
                ("state", "!=", "disabled"),
                ("daraja_c2b_shortcode", "!=", False),
                ("daraja_c2b_key", "!=", False),
            ]
        )
        for provider in providers:
            if consteq(token, provider._daraja_c2b_token()):
                return provider
        return self.sudo().browse()

    # === Registration === #

    def action_daraja_c2b_register(self):
        """Register the validation and confirmation URLs of the C2B number with M-Pesa
        (``registerurl`` v2); the date and M-Pesa's answer are kept on the provider."""
        self.ensure_one()
        self.check_access("write")
        if not self._daraja_c2b_enabled():
            raise UserError(
                self.env._("Set the Paybill / Till number of an enabled M-Pesa provider first.")
            )
        validation, confirmation = self._daraja_c2b_urls()
        payload = {
            "ShortCode": self.daraja_c2b_shortcode,
            "ResponseType": self.daraja_c2b_response_type or "Completed",
            "ConfirmationURL": confirmation,
            "ValidationURL": validation,
        }
        try:
            answer = self._send_api_request("POST", const.DARAJA_C2B_REGISTER_PATH, json=payload)
        except (UserError, ValidationError) as error:  # IspProviderError too
            answer, failure = None, str(error.args[0] if error.args else error)
        else:
            failure = None
            if not isinstance(answer, dict) or str(answer.get("ResponseCode")) != "0":
                failure = self.env._(
                    "M-Pesa did not accept the URLs: %(reason)s",
                    reason=(answer or {}).get("ResponseDescription")
                    if isinstance(answer, dict)
                    else answer,
                )
        if failure:
            _logger.warning("C2B URL registration of %s failed: %s", self.name, failure)
            self.daraja_c2b_register_result = failure[:250]
            message, kind = self.env._("Registration failed: %(r)s", r=failure), "danger"
        else:
            self.write(
                {
                    "daraja_c2b_registered_at": fields.Datetime.now(),
                    "daraja_c2b_register_result": (
                        f"{answer.get('ResponseDescription') or 'Success'} "
                        f"({answer.get('OriginatorCoversationID') or ''})"
                    )[:250],
                }
            )
            message, kind = (
                self.env._(
                    "M-Pesa will post the payments to %(number)s to this Odoo.",
                    number=self.daraja_c2b_shortcode,
                ),
                "success",
            )
        warning = self._daraja_c2b_url_problem()
        if warning:
            message = f"{message} {warning}"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"title": self.name, "message": message, "type": kind, "sticky": False},
        }
