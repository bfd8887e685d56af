import re

from odoo import api, models
from odoo.exceptions import UserError

from .. import const
from .payment_provider import IspProviderError


class PaymentTransaction(models.Model):
    """ClickPesa: USSD push, status query, webhook data."""

    _inherit = "payment.transaction"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _compute_reference(self, provider_code, prefix=None, separator="-", **kwargs):
        """Override of `payment` to make ClickPesa's references URL-safe: ClickPesa puts the
        order reference in a URL path (letters, digits and '-' only)."""
        if provider_code == "clickpesa":
            if not prefix:
                prefix = self.sudo()._compute_reference_prefix(separator, **kwargs) or None
            if prefix:
                prefix = re.sub(r"[^A-Za-z0-9]", "", prefix) or None
        return super()._compute_reference(
            provider_code, prefix=prefix, separator=separator, **kwargs
        )

    def _clickpesa_push(self, phone):
        provider = self.provider_id
        payload = {
            "amount": str(int(self.amount)),
            "currency": const.SUPPORTED_CURRENCIES["clickpesa"],
            "orderReference": self.reference,
            "phoneNumber": phone,
        }
        if provider.clickpesa_preview:
            answer = self._send_api_request(
                "POST", const.CLICKPESA_PREVIEW_PATH, json=provider._clickpesa_sign(payload)
            )
            methods = (answer or {}).get("activeMethods") or []
            if not any(m.get("status") == "AVAILABLE" for m in methods if isinstance(m, dict)):
                raise UserError(
                    self.env._(
                        "No mobile money service can take this payment from %(phone)s right "
                        "now. Check the number or try another network.",
                        phone=phone,
                    )
                )
        answer = self._send_api_request(
            "POST", const.CLICKPESA_INITIATE_PATH, json=provider._clickpesa_sign(payload)
        )
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
        for state in ("done", "error"):
            for payment in payments:
                if payment.get("status") in const.CLICKPESA_STATUS_MAPPING[state]:
                    return payment
        return payments[-1]

    # === Processing chain === #

    @api.model
    def _extract_reference(self, provider_code, payment_data):
        """Override of `payment` to read ClickPesa's order reference."""
        if provider_code != "clickpesa":
            return super()._extract_reference(provider_code, payment_data)
        return payment_data.get("orderReference")

    def _extract_amount_data(self, payment_data):
        """Override of `payment` to return the amount collected (paid statuses only)."""
        if self.provider_code != "clickpesa":
            return super()._extract_amount_data(payment_data)
        if payment_data.get("status") not in const.CLICKPESA_STATUS_MAPPING["done"]:
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

    def _apply_updates(self, payment_data):
        """Override of `payment` to update the transaction from ClickPesa's status."""
        if self.provider_code != "clickpesa":
            return super()._apply_updates(payment_data)
        if self.isp_amount_refused:  # another amount was paid: it stays as it ended
            return
        status = payment_data.get("status")
        if payment_data.get("id"):
            self.clickpesa_payment_id = payment_data["id"]
        if payment_data.get("channel"):
            self.clickpesa_channel = payment_data["channel"]
        if status in const.CLICKPESA_STATUS_MAPPING["done"]:
            if payment_data.get("paymentReference"):
                self.provider_reference = payment_data["paymentReference"]
            self._set_done(state_message=self.env._("Payment received. Thank you!"))
        elif status in const.CLICKPESA_STATUS_MAPPING["error"]:
            self._set_error(
                self.env._(
                    "The payment did not go through (%(reason)s). Please try again.",
                    reason=payment_data.get("message") or status,
                )
            )
            # ClickPesa's message is for staff (state message); the customer's words
            self.isp_public_message = self.env._(
                "The payment did not go through. Please try again."
            )
        elif status in const.CLICKPESA_STATUS_MAPPING["pending"] and self.state == "draft":
            self._set_pending()
