import re
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import formatLang

from odoo.addons.isp_billing.exceptions import IspRateLimited
from odoo.addons.payment import utils as payment_utils
from odoo.addons.payment.logging import get_payment_logger

from .. import const
from .payment_provider import IspProviderError

_logger = get_payment_logger(__name__, const.SENSITIVE_KEYS)

DARAJA_PHONE = re.compile(r"^254[17]\d{8}$")
CLICKPESA_PHONE = re.compile(r"^255[67]\d{8}$")
CLICKPESA_FINAL = const.CLICKPESA_STATUS_MAPPING["done"] + const.CLICKPESA_STATUS_MAPPING["error"]


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    isp_push_phone = fields.Char(string="Pushed To", readonly=True, index="btree_not_null")
    isp_push_ip = fields.Char(string="Client Address", readonly=True, index="btree_not_null")
    isp_pushed_at = fields.Datetime(string="Pushed At", readonly=True, index="btree_not_null")
    isp_push_amount = fields.Float(string="Amount Pushed", readonly=True)
    isp_amount_refused = fields.Boolean(
        string="Paid Another Amount",
        readonly=True,
        copy=False,
        help="The provider confirmed a payment of another amount or currency than the one "
        "due: the transaction ended in error without access, and later notifications of "
        "it are refused. The money stays with the provider: refund it or give the access.",
    )
    isp_paid_amount = fields.Float(
        string="Amount Paid",
        readonly=True,
        copy=False,
        help="The amount the provider confirmed, when it is not the amount due.",
    )
    isp_callback_ids = fields.One2many(
        "isp.mpesa.callback", "transaction_id", string="Callbacks", readonly=True
    )
    daraja_merchant_request_id = fields.Char(string="MerchantRequestID", readonly=True)
    daraja_checkout_request_id = fields.Char(string="CheckoutRequestID", readonly=True)
    clickpesa_payment_id = fields.Char(string="ClickPesa Payment ID", readonly=True)
    clickpesa_channel = fields.Char(string="ClickPesa Channel", readonly=True)

    _daraja_checkout_unique = models.UniqueIndex(
        "(daraja_checkout_request_id) WHERE daraja_checkout_request_id IS NOT NULL"
    )

    def _get_specific_processing_values(self, processing_values):
        """Override of `payment` to return the push route's access token."""
        values = super()._get_specific_processing_values(processing_values)
        if self.provider_code in const.PROVIDER_CODES:
            values["isp_push_access_token"] = self._isp_push_access_token()
        return values

    def _isp_push_access_token(self):
        return payment_utils.generate_access_token(
            "isp-push", self.reference, self.amount, env=self.env
        )

    # === Push (direct flow) === #

    def _isp_normalize_push_phone(self, phone):
        """``2547XXXXXXXX`` / ``2557XXXXXXXX`` (no +) or a UserError saying what is wrong."""
        self.ensure_one()
        kenya = self.provider_code == "daraja"
        country = self.env.ref("base.ke" if kenya else "base.tz")
        try:
            e164 = self.env["res.partner"]._isp_normalize_phone(phone, country)
        except ValidationError as error:
            raise UserError(error.args[0]) from error
        digits = e164.lstrip("+")
        if not (DARAJA_PHONE if kenya else CLICKPESA_PHONE).match(digits):
            raise UserError(
                self.env._(
                    "%(phone)s is not a %(country)s mobile money number (e.g. %(example)s).",
                    phone=phone,
                    country=country.name,
                    example="0712 345 678",
                )
            )
        return digits

    def _isp_check_push_rate(self, phone, client_ip):
        """At most the provider's pushes per phone, and (far more) per client address: the
        address of a hotspot is its router's, shared by every customer behind its NAT."""
        self.ensure_one()
        provider = self.provider_id
        since = fields.Datetime.now() - timedelta(seconds=provider.isp_push_window)
        base = Domain("isp_pushed_at", ">=", since) & Domain("id", "!=", self.id)
        minutes = max(1, round(provider.isp_push_window / 60))
        limit = provider.isp_push_limit
        if (
            limit
            and self.sudo().search_count(base & Domain("isp_push_phone", "=", phone), limit=limit)
            >= limit
        ):
            raise IspRateLimited(
                self.env._(
                    "Too many payment requests for this phone number: at most %(limit)s every "
                    "%(minutes)s minutes. Please wait a moment, then try again.",
                    limit=limit,
                    minutes=minutes,
                )
            )
        limit = provider.isp_push_ip_limit
        if (
            client_ip
            and limit
            and self.sudo().search_count(base & Domain("isp_push_ip", "=", client_ip), limit=limit)
            >= limit
        ):
            raise IspRateLimited(
                self.env._(
                    "Too many payment requests from this network right now. Please wait a "
                    "minute, then try again."
                )
            )

    def _isp_send_push(self, phone, client_ip=None):
        """Override of `isp_billing` to send the payment prompt to ``phone``. Bad input, the
        provider's limits and the rate limit raise a UserError before anything changes; a
        provider error puts the transaction in error with a clear message (the caller reads
        ``state`` / ``state_message``)."""
        self.ensure_one()
        if self.provider_code not in const.PROVIDER_CODES:
            return super()._isp_send_push(phone, client_ip=client_ip)
        if self.state != "draft" or self.isp_pushed_at:
            raise UserError(
                self.env._("This payment was already requested; start a new payment to retry.")
            )
        phone = self._isp_normalize_push_phone(phone)
        self._isp_check_pushable()
        self._isp_check_push_rate(phone, client_ip)
        values = {}
        if self.isp_bundle_id and not self.partner_id.is_isp_customer and not self.isp_phone:
            # no partner for a typed number: isp_billing creates the customer from it when
            # the payment is confirmed
            values["isp_phone"] = "+" + phone
        self.write(
            {
                **values,
                "isp_push_phone": phone,
                "isp_push_ip": client_ip or False,
                "isp_pushed_at": fields.Datetime.now(),
                "isp_push_amount": self.amount,
            }
        )
        try:
            if self.provider_code == "daraja":
                self._daraja_stk_push(phone)
            else:
                self._clickpesa_push(phone)
        except UserError as error:  # IspProviderError too
            # the provider's words (HTTP body, errorMessage) for staff, in the state
            # message and the log; the customer gets a plain message
            _logger.warning("Push for %s failed: %s", self.reference, error.args[0])
            self._set_error(error.args[0])
            self.isp_public_message = self._isp_push_public_message(error)
            return self
        self._set_pending()
        self._isp_schedule_poll()
        return self

    def _isp_push_public_message(self, error):
        """What the customer is told when the push failed: our own words for a timeout,
        an unreachable provider or a refusal of ours, never the provider's text."""
        code = getattr(error, "code", None)
        if code in ("timeout", "connection") or not isinstance(error, IspProviderError):
            return error.args[0]
        return self.env._(
            "%(name)s could not send the payment request right now. Nothing was charged; "
            "please try again in a moment.",
            name=self.provider_id.name,
        )

    def _isp_check_pushable(self):
        """What the provider takes: its currency, whole amounts (M-Pesa: at most 250,000),
        and for ClickPesa a reference it can put in a URL."""
        expected = const.SUPPORTED_CURRENCIES[self.provider_code]
        if self.currency_id.name != expected:
            raise UserError(
                self.env._(
                    "%(name)s takes payments in %(expected)s only, not %(currency)s.",
                    name=self.provider_id.name,
                    expected=expected,
                    currency=self.currency_id.name,
                )
            )
        if self.amount != int(self.amount) or self.amount < const.DARAJA_AMOUNT_MIN:
            raise UserError(self.env._("Mobile money takes whole amounts of at least 1."))
        if self.provider_code == "daraja" and self.amount > const.DARAJA_AMOUNT_MAX:
            raise UserError(
                self.env._(
                    "M-Pesa takes at most %(max)s KES in one payment.", max=const.DARAJA_AMOUNT_MAX
                )
            )
        if self.provider_code == "clickpesa" and not re.match(
            r"^[A-Za-z0-9-]{1,50}$", self.reference
        ):
            raise UserError(
                self.env._(
                    "ClickPesa needs a reference made of letters, digits and '-' "
                    "(%(reference)s): create the transaction with its computed reference.",
                    reference=self.reference,
                )
            )

    def _isp_schedule_poll(self):
        cron = self.env.ref("isp_mpesa.ir_cron_isp_mpesa_poll", raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger(
                fields.Datetime.now() + timedelta(seconds=self.provider_id.isp_poll_after)
            )

    # === Processing chain === #

    def _process(self, provider_code, payment_data):
        """Override of `payment` to leave a transaction paid with another amount as it ended,
        and to post-process a confirmed one now. A payment for a bundle gives access as soon
        as it is done (isp_billing's ``_set_done``: exactly once); its invoice, payment and
        reconciliation follow in the transaction's post-processing (isp_billing), by Odoo's
        post-processing cron, triggered at once, out of this request. Other confirmed
        transactions (e.g. an invoice paid online) are post-processed now."""
        if provider_code not in const.PROVIDER_CODES:
            return super()._process(provider_code, payment_data)
        if not self:
            tx = self._search_by_reference(provider_code, payment_data)
            return tx._process(provider_code, payment_data) if tx else tx
        if self.isp_amount_refused:
            return self
        super()._process(provider_code, payment_data)
        if (
            self.state == "done"
            and not self.is_post_processed
            and self.isp_invoice_status != "to_invoice"
        ):
            self._post_process()
        return self

    def _validate_amount(self, payment_data):
        """Override of `payment` to end a payment of another amount or currency than the one
        due in Paid, Not Applied, for good (``_isp_set_wrong_amount``): Odoo's own check sets
        a bare error that a later notification may turn into done, and leaves a transaction
        the timeout already ended in error as it is."""
        if self.provider_code not in const.PROVIDER_CODES or self.operation == "validation":
            return super()._validate_amount(payment_data)
        amount_data = self._extract_amount_data(payment_data)
        if amount_data is None:
            return None
        amount, currency = amount_data["amount"], amount_data["currency_code"]
        if currency != self.currency_id.name or self.currency_id.compare_amounts(
            amount, self.amount
        ):
            receipt = payment_data.get("MpesaReceiptNumber") or payment_data.get("paymentReference")
            self._isp_set_wrong_amount(amount, currency, receipt)
        return None

    def _isp_set_wrong_amount(self, amount, currency_code, receipt=None):
        """End this transaction in error: the provider took ``amount`` ``currency_code``,
        which is not what is due. No access, no invoice; the receipt is kept for a refund."""
        self.ensure_one()
        _logger.warning(
            "Transaction %s paid %s %s, %s %s is due: not applied",
            self.reference,
            amount,
            currency_code,
            self.amount,
            self.currency_id.name,
        )
        message = self.env._(
            "Paid %(paid)s of %(due)s: the payment does not match the price, so it was not "
            "applied. Please contact us with your receipt to get the access or a refund.",
            paid=self._isp_money(amount, currency_code),
            due=self._isp_money(self.amount, self.currency_id.name),
        )
        values = {"isp_amount_refused": True, "isp_paid_amount": amount}
        if receipt:
            values["provider_reference"] = receipt
        self.write(values)
        self.isp_public_message = message
        if self.state == "error":  # e.g. ended by the timeout before the provider answered
            self.state_message = message
        else:
            self._set_error(message)
        # money taken without access: isp_billing's "Paid, Not Applied" (dashboard figure,
        # staff's Grant Access / Record Refund)
        self._isp_mark_not_applied(message)

    def _isp_money(self, amount, currency_code):
        currency = (
            self.env["res.currency"]
            .with_context(active_test=False)
            .search([("name", "=", currency_code)], limit=1)
        )
        digits = currency.decimal_places if currency else 2
        if float(amount or 0) == int(amount or 0):
            digits = 0
        return f"{formatLang(self.env, amount or 0.0, digits=digits)} {currency_code or '?'}"

    # === Lost callbacks === #

    @api.model
    def _cron_isp_mpesa_poll(self):
        """Ask the provider for pushed transactions still pending after the provider's
        "ask after" delay; end those past its timeout window."""
        now = fields.Datetime.now()
        domain = [
            ("provider_code", "in", list(const.PROVIDER_CODES)),
            ("state", "in", ("draft", "pending")),
            ("isp_pushed_at", "!=", False),
        ]
        candidates = self.search(domain, order="isp_pushed_at")
        due = candidates.filtered(
            lambda tx: tx.isp_pushed_at + timedelta(seconds=tx.provider_id.isp_poll_after) <= now
        )
        cron = self.env["ir.cron"]
        for index, tx in enumerate(due):
            if tx.try_lock_for_update():
                tx._isp_poll_one(now)
            if not cron._commit_progress(1, remaining=len(due) - index - 1):
                break
        if later := self.search(domain):
            delay = min(later.provider_id.mapped("isp_poll_after") or [30]) or 30
            cron_record = self.env.ref("isp_mpesa.ir_cron_isp_mpesa_poll", raise_if_not_found=False)
            if cron_record:
                cron_record.sudo()._trigger(now + timedelta(seconds=delay))

    def _isp_poll_one(self, now):
        self.ensure_one()
        try:
            if self.provider_code == "daraja":
                data = self._daraja_query()
                final = data.get("ResultCode") is not None
            else:
                data = self._clickpesa_query()
                final = data.get("status") in CLICKPESA_FINAL
        except UserError as error:  # IspProviderError too
            _logger.warning("Status of %s unknown: %s", self.reference, error.args[0])
            data, final = None, False
        if final:
            self.env["isp.mpesa.callback"]._record(self, "status", data)
            _logger.info("Status query settles %s (callback lost)", self.reference)
            self._process(self.provider_code, data)
            return
        if self.isp_pushed_at + timedelta(seconds=self.provider_id.isp_push_timeout) <= now:
            _logger.info("No answer for %s within the provider's window: ended", self.reference)
            message = self.env._(
                "No confirmation came from %(name)s in time. If money left your account, "
                "it will be applied as soon as the provider confirms it; otherwise please "
                "try again.",
                name=self.provider_id.name,
            )
            self.isp_public_message = message
            self._set_error(message)
