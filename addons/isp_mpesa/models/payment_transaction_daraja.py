from odoo import api, models
from odoo.exceptions import UserError

from odoo.addons.payment import utils as payment_utils
from odoo.addons.payment.logging import get_payment_logger

from .. import const
from .payment_provider import IspProviderError

_logger = get_payment_logger(__name__, const.SENSITIVE_KEYS)


class PaymentTransaction(models.Model):
    """M-Pesa Daraja: STK push, status query, callback data."""

    _inherit = "payment.transaction"  # pylint: disable=consider-merging-classes-inherited

    def _daraja_callback_token(self):
        """The secret of this transaction's callback URL (``payment.utils``' HMAC)."""
        return payment_utils.generate_access_token("daraja-callback", self.reference, env=self.env)

    def _daraja_stk_push(self, phone):
        provider = self.provider_id
        timestamp = provider._daraja_timestamp()
        till = provider.daraja_transaction_type == "till"
        account_reference = (provider.daraja_account_reference or self.reference)[
            : const.DARAJA_ACCOUNT_REFERENCE_MAX
        ]
        description = (self.isp_bundle_id.name or self.env._("Payment"))[
            : const.DARAJA_DESCRIPTION_MAX
        ]
        payload = {
            "BusinessShortCode": int(provider.daraja_shortcode),
            "Password": provider._daraja_password(timestamp),
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

    def _daraja_query(self, receipt=None):
        """The STK status query, as payment data for ``_process`` (``ResultCode`` None while
        the customer is still on the prompt). The status query does not return the receipt
        number: ``receipt``, else the one a recorded callback gave."""
        self.ensure_one()
        if not self.daraja_checkout_request_id:
            return {"ResultCode": None}
        provider = self.provider_id
        timestamp = provider._daraja_timestamp()
        payload = {
            "BusinessShortCode": int(provider.daraja_shortcode),
            "Password": provider._daraja_password(timestamp),
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

    def _daraja_confirmed(self, data):
        """Whether the status query confirms the ResultCode of the callback ``data`` (always,
        when the provider does not ask). Only the ResultCode is compared: the callback's data
        is what is processed."""
        self.ensure_one()
        if not self.provider_id.daraja_status_query:
            return True
        try:
            confirmed = self._daraja_query(receipt=data["MpesaReceiptNumber"] or False)
        except UserError as error:  # IspProviderError too
            _logger.warning(
                "Callback for %s kept until M-Pesa confirms it: %s", self.reference, error.args[0]
            )
            return False
        if confirmed.get("ResultCode") != data["ResultCode"]:
            _logger.warning(
                "Callback for %s says %s, the status query %s: not applied",
                self.reference,
                data["ResultCode"],
                confirmed.get("ResultCode"),
            )
            return False
        return True

    # === Processing chain === #

    @api.model
    def _search_by_reference(self, provider_code, payment_data):
        """Override of `payment` to find the transaction by its CheckoutRequestID."""
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

    def _extract_amount_data(self, payment_data):
        """Override of `payment` to return the amount paid (ResultCode 0 only)."""
        if self.provider_code != "daraja":
            return super()._extract_amount_data(payment_data)
        if str(payment_data.get("ResultCode")) != "0":
            return None
        return {
            "amount": float(payment_data.get("Amount") or 0),
            "currency_code": const.SUPPORTED_CURRENCIES["daraja"],
            "precision_digits": 0,
        }

    def _apply_updates(self, payment_data):
        """Override of `payment` to update the transaction from Daraja's ResultCode."""
        if self.provider_code != "daraja":
            return super()._apply_updates(payment_data)
        code = payment_data.get("ResultCode")
        if code is None or self.isp_amount_refused:  # another amount paid: it stays as it ended
            return
        code = str(code)
        state = const.DARAJA_RESULT_STATES.get(code, "error")
        # our message of a known code; for an unknown one the state message quotes
        # M-Pesa's ResultDesc, for staff, and the customer is told in plain words
        message = self._daraja_messages().get(code)
        self.isp_public_message = message or self.env._(
            "The payment did not go through. Please try again."
        )
        message = message or self.env._(
            "The payment did not go through (M-Pesa: %(desc)s). Please try again.",
            desc=payment_data.get("ResultDesc") or code,
        )
        if state == "done":
            if payment_data.get("MpesaReceiptNumber"):
                self.provider_reference = payment_data["MpesaReceiptNumber"]
            self._set_done(state_message=message)
        elif state == "cancel":
            self._set_canceled(state_message=message)
        else:
            self._set_error(message)

    def _daraja_messages(self):
        """The customer's message of each known Daraja ResultCode."""
        return {
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
