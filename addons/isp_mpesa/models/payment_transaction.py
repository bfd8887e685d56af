import re
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import consteq, formatLang

from odoo.addons.isp_billing.exceptions import IspRateLimited
from odoo.addons.payment import utils as payment_utils
from odoo.addons.payment.logging import get_payment_logger

from .. import const
from .payment_provider import IspProviderError, clickpesa_checksum

_logger = get_payment_logger(__name__, const.SENSITIVE_KEYS)

DARAJA_PHONE = re.compile(r"^254[17]\d{8}$")
CLICKPESA_PHONE = re.compile(r"^255[67]\d{8}$")


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

    # === References === #

    @api.model
    def _compute_reference(self, provider_code, prefix=None, separator="-", **kwargs):
        """ClickPesa puts the order reference in a URL path: letters, digits and '-' only."""
        if provider_code == "clickpesa":
            if not prefix:
                prefix = self.sudo()._compute_reference_prefix(separator, **kwargs) or None
            if prefix:
                prefix = re.sub(r"[^A-Za-z0-9]", "", prefix) or None
        return super()._compute_reference(
            provider_code, prefix=prefix, separator=separator, **kwargs
        )

    def _get_specific_processing_values(self, processing_values):
        values = super()._get_specific_processing_values(processing_values)
        if self.provider_code in const.PROVIDER_CODES:
            values["isp_push_access_token"] = self._isp_push_access_token()
        return values

    def _isp_push_access_token(self):
        return payment_utils.generate_access_token(
            "isp-push", self.reference, self.amount, env=self.env
        )

    def _daraja_callback_token(self):
        return payment_utils.generate_access_token("daraja-callback", self.reference, env=self.env)

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
        pattern, example = (
            (DARAJA_PHONE, "0712 345 678") if kenya else (CLICKPESA_PHONE, "0712 345 678")
        )
        if not pattern.match(digits):
            raise UserError(
                self.env._(
                    "%(phone)s is not a %(country)s mobile money number (e.g. %(example)s).",
                    phone=phone,
                    country=country.name,
                    example=example,
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
        """Send the payment prompt to ``phone``. Bad input and the rate limit raise a
        UserError before anything changes; a provider error puts the transaction in error
        with a clear message (the caller reads ``state`` / ``state_message``)."""
        self.ensure_one()
        if self.provider_code not in const.PROVIDER_CODES:
            return super()._isp_send_push(phone, client_ip=client_ip)
        if self.state != "draft" or self.isp_pushed_at:
            raise UserError(
                self.env._("This payment was already requested; start a new payment to retry.")
            )
        phone = self._isp_normalize_push_phone(phone)
        self._isp_check_amount_for_push()
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
        except (IspProviderError, UserError) as error:
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

    def _isp_check_amount_for_push(self):
        expected = "KES" if self.provider_code == "daraja" else "TZS"
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

    def _isp_schedule_poll(self):
        cron = self.env.ref("isp_mpesa.ir_cron_isp_mpesa_poll", raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger(
                fields.Datetime.now() + timedelta(seconds=self.provider_id.isp_poll_after)
            )

    def _daraja_stk_push(self, phone):
        provider = self.provider_id
        timestamp = provider._isp_daraja_timestamp()
        till = provider.daraja_transaction_type == "till"
        account_reference = (provider.daraja_account_reference or self.reference)[
            : const.DARAJA_ACCOUNT_REFERENCE_MAX
        ]
        description = (self.isp_bundle_id.name or self.env._("Payment"))[
            : const.DARAJA_DESCRIPTION_MAX
        ]
        payload = {
            "BusinessShortCode": int(provider.daraja_shortcode),
            "Password": provider._isp_daraja_password(timestamp),
            "Timestamp": timestamp,
            "TransactionType": "CustomerBuyGoodsOnline" if till else "CustomerPayBillOnline",
            "Amount": int(self.amount),
            "PartyA": int(phone),
            "PartyB": int(provider.daraja_till_number if till else provider.daraja_shortcode),
            "PhoneNumber": int(phone),
            "CallBackURL": (
                f"{provider._isp_callback_base()}/payment/daraja/callback/"
                f"{self._daraja_callback_token()}"
            ),
            "AccountReference": account_reference,
            "TransactionDesc": description,
        }
        answer = self._send_api_request("POST", const.DARAJA_STK_PATH, json=payload)
        checkout = answer.get("CheckoutRequestID") if isinstance(answer, dict) else None
        if not checkout or str(answer.get("ResponseCode")) != "0":
            raise IspProviderError(
                self.env._(
                    "M-Pesa did not accept the request: %(reason)s",
                    reason=(answer or {}).get("ResponseDescription") or answer,
                ),
                code="invalid",
            )
        self.write(
            {
                "daraja_merchant_request_id": answer.get("MerchantRequestID"),
                "daraja_checkout_request_id": checkout,
                "provider_reference": checkout,
            }
        )

    def _clickpesa_push(self, phone):
        provider = self.provider_id
        key = provider._isp_secret("clickpesa_checksum_key")
        payload = {
            "amount": str(int(self.amount)),
            "currency": "TZS",
            "orderReference": self.reference,
            "phoneNumber": phone,
        }
        if provider.clickpesa_preview:
            preview = dict(payload)
            if key:
                preview["checksum"] = clickpesa_checksum(key, preview)
            answer = self._send_api_request("POST", const.CLICKPESA_PREVIEW_PATH, json=preview)
            methods = (answer or {}).get("activeMethods") or []
            if not any(m.get("status") == "AVAILABLE" for m in methods if isinstance(m, dict)):
                raise UserError(
                    self.env._(
                        "No mobile money service can take this payment from %(phone)s right "
                        "now. Check the number or try another network.",
                        phone=phone,
                    )
                )
        if key:
            payload["checksum"] = clickpesa_checksum(key, payload)
        answer = self._send_api_request("POST", const.CLICKPESA_INITIATE_PATH, json=payload)
        if not isinstance(answer, dict) or answer.get("orderReference") != self.reference:
            raise IspProviderError(
                self.env._("ClickPesa did not accept the request: %(answer)s", answer=answer),
                code="invalid",
            )
        self.write(
            {
                "clickpesa_payment_id": answer.get("id"),
                "clickpesa_channel": answer.get("channel"),
            }
        )

    # === Status queries === #

    def _daraja_query(self, receipt=None):
        """The STK status query, as payment data for ``_process`` (``ResultCode`` None while
        the customer is still on the prompt). The status query does not return the receipt
        number: ``receipt``, else the one a recorded callback gave."""
        self.ensure_one()
        provider = self.provider_id
        timestamp = provider._isp_daraja_timestamp()
        payload = {
            "BusinessShortCode": int(provider.daraja_shortcode),
            "Password": provider._isp_daraja_password(timestamp),
            "Timestamp": timestamp,
            "CheckoutRequestID": self.daraja_checkout_request_id,
        }
        try:
            answer = self._send_api_request("POST", const.DARAJA_QUERY_PATH, json=payload)
        except IspProviderError as error:
            if error.code == const.DARAJA_PROCESSING and "process" in str(error.args[0]).lower():
                return {"CheckoutRequestID": self.daraja_checkout_request_id, "ResultCode": None}
            raise
        code = answer.get("ResultCode") if isinstance(answer, dict) else None
        if code is None:
            return {"CheckoutRequestID": self.daraja_checkout_request_id, "ResultCode": None}
        return {
            "source": "query",
            "MerchantRequestID": answer.get("MerchantRequestID"),
            "CheckoutRequestID": answer.get("CheckoutRequestID"),
            "ResultCode": str(code),
            "ResultDesc": answer.get("ResultDesc"),
            "Amount": self._daraja_paid_amount() if str(code) == "0" else None,
            "MpesaReceiptNumber": (
                receipt if receipt is not None else self._daraja_known_receipt()
            ),
        }

    def _daraja_paid_amount(self):
        """The amount a ResultCode 0 of the status query stands for. The query reports no
        amount: a verified callback of this transaction that reported one (recorded, even
        when it was refused or not yet confirmed) is the provider's word and wins. Only
        when no callback reached us is it the amount pushed: an STK prompt's amount is set
        by our request and the customer can only accept or refuse it, so a paid
        CheckoutRequestID is a payment of that amount."""
        for callback in self.isp_callback_ids.sorted("id", reverse=True):
            code = (callback.result or "").split(" ", 1)[0]
            if callback.kind == "callback" and callback.amount and code == "0":
                return callback.amount
        return self.isp_push_amount

    def _daraja_known_receipt(self):
        for callback in self.isp_callback_ids.sorted("id", reverse=True):
            if callback.receipt:
                return callback.receipt
        return None

    def _clickpesa_query(self):
        """The payment ClickPesa holds for this order reference (final states first)."""
        self.ensure_one()
        try:
            answer = self._send_api_request("GET", const.CLICKPESA_STATUS_PATH % self.reference)
        except IspProviderError as error:
            if error.status == 404:
                return {"orderReference": self.reference, "status": None}
            raise
        payments = answer if isinstance(answer, list) else [answer]
        payments = [p for p in payments if isinstance(p, dict)]
        if not payments:
            return {"orderReference": self.reference, "status": None}
        for wanted in (const.CLICKPESA_DONE, const.CLICKPESA_ERROR):
            for payment in payments:
                if payment.get("status") in wanted:
                    return payment
        return payments[-1]

    # === Processing chain === #

    @api.model
    def _search_by_reference(self, provider_code, payment_data):
        if provider_code != "daraja":
            return super()._search_by_reference(provider_code, payment_data)
        checkout = payment_data.get("CheckoutRequestID")
        if not checkout:
            _logger.warning("M-Pesa data without CheckoutRequestID")
            return self
        tx = self.search(
            [("provider_code", "=", "daraja"), ("daraja_checkout_request_id", "=", checkout)],
            limit=1,
        )
        if not tx:
            _logger.warning("No M-Pesa transaction with CheckoutRequestID %s", checkout)
        return tx

    @api.model
    def _extract_reference(self, provider_code, payment_data):
        if provider_code == "clickpesa":
            return payment_data.get("orderReference")
        return super()._extract_reference(provider_code, payment_data)

    def _extract_amount_data(self, payment_data):
        if self.provider_code == "daraja":
            if str(payment_data.get("ResultCode")) != "0":
                return None
            return {
                "amount": float(payment_data.get("Amount") or 0),
                "currency_code": "KES",
                "precision_digits": 0,
            }
        if self.provider_code == "clickpesa":
            if payment_data.get("status") not in const.CLICKPESA_DONE:
                return None
            try:
                amount = float(payment_data.get("collectedAmount") or 0)
            except (TypeError, ValueError):
                amount = 0.0
            return {
                "amount": amount,
                "currency_code": payment_data.get("collectedCurrency"),
                "precision_digits": 0,
            }
        return super()._extract_amount_data(payment_data)

    def _validate_amount(self, payment_data):
        """A confirmed payment of another amount or currency than the one due ends the
        transaction in error, marked so that nothing later turns it into access (Odoo's
        own check would only set a generic error, which a later ``_set_done`` may undo)."""
        if self.provider_code not in const.PROVIDER_CODES or self.operation == "validation":
            return super()._validate_amount(payment_data)
        amount_data = self._extract_amount_data(payment_data)
        if amount_data is None:
            return None
        amount = amount_data.get("amount") or 0.0
        currency = amount_data.get("currency_code")
        wrong = self.currency_id.compare_amounts(amount, self.amount) != 0
        if wrong or currency != self.currency_id.name:
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

    def _apply_updates(self, payment_data):
        if self.isp_amount_refused:
            return None  # another amount was paid: nothing makes it done
        if self.provider_code == "daraja":
            return self._daraja_apply_updates(payment_data)
        if self.provider_code == "clickpesa":
            return self._clickpesa_apply_updates(payment_data)
        return super()._apply_updates(payment_data)

    def _daraja_result(self, code, description=None):
        """(state, message for the customer) of a Daraja ResultCode."""
        messages = {
            "0": self.env._("Payment received. Thank you!"),
            "1": self.env._(
                "The payment failed: there is not enough money on your M-Pesa account. "
                "Top up and try again."
            ),
            "2": self.env._("The payment failed: the amount is below the M-Pesa minimum."),
            "3": self.env._("The payment failed: the amount is above the M-Pesa maximum."),
            "4": self.env._("The payment failed: it would go over your daily M-Pesa limit."),
            "8": self.env._(
                "The payment could not be received right now (the merchant's till limit is "
                "reached). Please try again later."
            ),
            "17": self.env._(
                "A payment of the same amount was just made from this phone. "
                "Wait 2 minutes, then try again."
            ),
            "1019": self.env._(
                "The payment request expired before it was answered. Please try again."
            ),
            "1025": self.env._(
                "The payment prompt could not be shown on your phone. Please try again."
            ),
            "1032": self.env._("You cancelled the payment on your phone."),
            "1037": self.env._(
                "Your phone could not be reached. Check that it is on and has network, "
                "then try again."
            ),
            "2001": self.env._("The M-Pesa PIN was wrong. Please try again with the right PIN."),
            "2028": self.env._(
                "This payment is not allowed on the merchant's M-Pesa account. "
                "Please contact the operator."
            ),
            "8006": self.env._(
                "Your M-Pesa PIN is locked after too many wrong tries. "
                "Contact Safaricom to unlock it."
            ),
            "SFC_IC0003": self.env._("M-Pesa could not route the payment. Please try again later."),
        }
        if code in messages:
            return const.DARAJA_RESULT_STATES[code], messages[code]
        return "error", self.env._(
            "The payment did not go through (M-Pesa: %(desc)s). Please try again.",
            desc=description or code,
        )

    def _daraja_apply_updates(self, data):
        code = data.get("ResultCode")
        if code is None:
            return
        code = str(code)
        state, message = self._daraja_result(code, data.get("ResultDesc"))
        # our message of a known code; for an unknown one the state message quotes
        # M-Pesa's ResultDesc, for staff, and the customer is told in plain words
        self.isp_public_message = (
            message
            if code in const.DARAJA_RESULT_STATES
            else self.env._("The payment did not go through. Please try again.")
        )
        if state == "done":
            receipt = data.get("MpesaReceiptNumber")
            if receipt:
                self.provider_reference = receipt
            self._set_done(state_message=message)
        elif state == "cancel":
            self._set_canceled(state_message=message)
        else:
            self._set_error(message)

    def _clickpesa_apply_updates(self, data):
        status = data.get("status")
        if data.get("id"):
            self.clickpesa_payment_id = data["id"]
        if data.get("channel"):
            self.clickpesa_channel = data["channel"]
        if status in const.CLICKPESA_DONE:
            if data.get("paymentReference"):
                self.provider_reference = data["paymentReference"]
            self._set_done(state_message=self.env._("Payment received. Thank you!"))
        elif status in const.CLICKPESA_ERROR:
            reason = data.get("message") or status
            self._set_error(
                self.env._(
                    "The payment did not go through (%(reason)s). Please try again.",
                    reason=reason,
                )
            )
            # ClickPesa's message is for staff (state message); the customer's words
            self.isp_public_message = self.env._(
                "The payment did not go through. Please try again."
            )
        elif status in const.CLICKPESA_PENDING and self.state == "draft":
            self._set_pending()

    # === Verified notifications (controllers call these, with sudo) === #

    def _isp_refuse(self, status, reason, *args):
        _logger.warning("Refused %s notification: " + reason, self.provider_code, *args)
        return status, reason % args if args else reason

    def _daraja_handle_callback(self, callback, remote_addr=None):
        """A callback already matched to this transaction by its CheckoutRequestID and token.
        Returns (HTTP status, text); refusals change nothing."""
        self.ensure_one()
        code = callback.get("ResultCode")
        items = {}
        metadata = callback.get("CallbackMetadata") or {}
        for item in metadata.get("Item") or []:
            if isinstance(item, dict) and "Name" in item:
                items[item["Name"]] = item.get("Value")
        if code is None or not isinstance(code, int | str):
            return self._isp_refuse(400, "callback for %s without ResultCode", self.reference)
        code = str(code)
        if self.state in ("done", "cancel"):
            return self._isp_refuse(
                409, "callback for %s replayed after it ended (%s)", self.reference, self.state
            )
        data = {
            "source": "callback",
            "MerchantRequestID": callback.get("MerchantRequestID"),
            "CheckoutRequestID": callback.get("CheckoutRequestID"),
            "ResultCode": code,
            "ResultDesc": callback.get("ResultDesc"),
            "Amount": items.get("Amount"),
            "MpesaReceiptNumber": items.get("MpesaReceiptNumber"),
        }
        if code == "0":
            # a paid callback must say what was paid; another amount than due is recorded
            # and ends the transaction in error (``_validate_amount``), once confirmed
            try:
                data["Amount"] = float(items.get("Amount"))
            except (TypeError, ValueError):
                data["Amount"] = None
            if data["Amount"] is None or not 0 < data["Amount"] < float("inf"):
                return self._isp_refuse(400, "callback for %s without amount", self.reference)
            if self.currency_id.name != "KES":
                return self._isp_refuse(
                    400, "callback for %s in KES, due in %s", self.reference, self.currency_id.name
                )
            if not data["MpesaReceiptNumber"]:
                return self._isp_refuse(400, "callback for %s without receipt", self.reference)
        self.env["isp.mpesa.callback"]._isp_record(self, "callback", callback, remote_addr, data)
        if self.isp_amount_refused:
            return self._isp_refuse(
                409, "callback for %s after a payment of another amount", self.reference
            )
        if self.provider_id.daraja_status_query:
            try:
                # only its ResultCode is compared: the callback's data is what is processed
                confirmed = self._daraja_query(receipt=data["MpesaReceiptNumber"] or False)
            except (IspProviderError, UserError) as error:
                _logger.warning(
                    "Callback for %s kept until M-Pesa confirms it: %s",
                    self.reference,
                    error.args[0],
                )
                return 200, "kept: will be confirmed by the status query"
            if confirmed.get("ResultCode") != code:
                _logger.warning(
                    "Callback for %s says %s, the status query %s: not applied",
                    self.reference,
                    code,
                    confirmed.get("ResultCode"),
                )
                return 200, "not confirmed by the status query"
        self._isp_process(data)
        if self.isp_amount_refused:
            return 200, "recorded: another amount than due was paid, not applied"
        return 200, "accepted"

    def _clickpesa_verify_checksum(self, body, header_checksum=None):
        """True when no checksum key is set, or the body (or header) carries the right one."""
        self.ensure_one()
        key = self.provider_id._isp_secret("clickpesa_checksum_key")
        if not key:
            return True
        received = body.get("checksum") or header_checksum
        if not received or not isinstance(received, str):
            return False
        candidates = [body]
        if isinstance(body.get("data"), dict):
            candidates.append(body["data"])
        return any(consteq(clickpesa_checksum(key, c), received) for c in candidates)

    def _clickpesa_handle_webhook(self, body, remote_addr=None):
        """A webhook already matched and verified: confirm with the status query, check the
        amount and currency, then process. Returns (HTTP status, text)."""
        self.ensure_one()
        if self.state in ("done", "cancel"):
            return self._isp_refuse(
                409, "webhook for %s replayed after it ended (%s)", self.reference, self.state
            )
        # signed: its checksum was verified, it is kept as received. Unsigned (no checksum
        # key): anyone may have sent it, so nothing of it is stored; what is kept is
        # ClickPesa's own status answer, once the query confirms it
        signed = bool(self.provider_id._isp_secret("clickpesa_checksum_key"))
        if signed:
            self.env["isp.mpesa.callback"]._isp_record(self, "webhook", body, remote_addr)
        if self.isp_amount_refused:
            return self._isp_refuse(
                409, "webhook for %s after a payment of another amount", self.reference
            )
        try:
            payment = self._clickpesa_query()
        except (IspProviderError, UserError) as error:
            _logger.warning(
                "Webhook for %s kept until ClickPesa confirms it: %s", self.reference, error.args[0]
            )
            return 200, "will be confirmed by the status query"
        if not signed:
            self.env["isp.mpesa.callback"]._isp_record(self, "status", payment, remote_addr)
        # the amount and currency are ClickPesa's status answer (collectedAmount): another
        # amount than due ends the transaction in error (``_validate_amount``)
        self._isp_process(payment)
        if self.isp_amount_refused:
            return 200, "recorded: another amount than due was paid, not applied"
        return 200, "accepted"

    def _isp_process(self, data):
        """Process verified data. A payment for a bundle gives access as soon as it is done
        (isp_billing's ``_set_done``: exactly once); its invoice, payment and reconciliation
        follow in isp_billing's invoicing job, triggered at once, out of this request. Other
        confirmed transactions (e.g. an invoice paid online) are post-processed now. A
        transaction paid with another amount stays as it ended."""
        if self.isp_amount_refused:
            return
        self._process(self.provider_code, data)
        if (
            self.state == "done"
            and not self.is_post_processed
            and self.isp_invoice_status != "to_invoice"
        ):
            self._post_process()

    # === Lost callbacks === #

    @api.model
    def _cron_isp_mpesa_poll(self):
        """Ask the provider for pushed transactions still pending after the provider's
        "ask after" delay; end those past its timeout window."""
        now = fields.Datetime.now()
        candidates = self.search(
            [
                ("provider_code", "in", list(const.PROVIDER_CODES)),
                ("state", "in", ("draft", "pending")),
                ("isp_pushed_at", "!=", False),
            ],
            order="isp_pushed_at",
        )
        due = candidates.filtered(
            lambda tx: tx.isp_pushed_at + timedelta(seconds=tx.provider_id.isp_poll_after) <= now
        )
        cron = self.env["ir.cron"]
        for index, tx in enumerate(due):
            if tx.try_lock_for_update():
                tx._isp_poll_one(now)
            if not cron._commit_progress(1, remaining=len(due) - index - 1):
                break
        later = self.search(
            [
                ("provider_code", "in", list(const.PROVIDER_CODES)),
                ("state", "in", ("draft", "pending")),
                ("isp_pushed_at", "!=", False),
            ]
        )
        if later:
            delay = min(later.provider_id.mapped("isp_poll_after") or [30]) or 30
            cron_record = self.env.ref("isp_mpesa.ir_cron_isp_mpesa_poll", raise_if_not_found=False)
            if cron_record:
                cron_record.sudo()._trigger(now + timedelta(seconds=delay))

    def _isp_poll_one(self, now):
        self.ensure_one()
        try:
            if self.provider_code == "daraja":
                if not self.daraja_checkout_request_id:
                    data = {"ResultCode": None}
                else:
                    data = self._daraja_query()
                final = data.get("ResultCode") is not None
            else:
                data = self._clickpesa_query()
                final = data.get("status") in const.CLICKPESA_DONE | const.CLICKPESA_ERROR
        except (IspProviderError, UserError) as error:
            _logger.warning("Status of %s unknown: %s", self.reference, error.args[0])
            data, final = None, False
        if final:
            self.env["isp.mpesa.callback"]._isp_record(self, "status", data)
            _logger.info("Status query settles %s (callback lost)", self.reference)
            self._isp_process(data)
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
