import json

from werkzeug.exceptions import Forbidden, NotFound

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request
from odoo.tools import config, consteq

from odoo.addons.payment import utils as payment_utils
from odoo.addons.payment.logging import get_payment_logger

from .. import const

_logger = get_payment_logger(__name__, const.SENSITIVE_KEYS)

# Largest body a public route reads (Odoo answers 413 before parsing): a Daraja callback or a
# ClickPesa webhook is well under 4 KB, a push request a few hundred bytes.
MAX_WEBHOOK_BODY = 64 * 1024
MAX_PUSH_BODY = 16 * 1024


def client_address():
    """The peer address; behind a reverse proxy (proxy_mode on) the address the proxy saw,
    i.e. the last entry of X-Forwarded-For (earlier entries are client-supplied)."""
    httprequest = request.httprequest
    forwarded = httprequest.headers.get("X-Forwarded-For")
    if config.get("proxy_mode") and forwarded:
        return forwarded.split(",")[-1].strip()
    return httprequest.environ.get("REMOTE_ADDR") or httprequest.remote_addr


def json_body():
    try:
        body = json.loads(request.httprequest.get_data() or b"null")
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return None
    return body if isinstance(body, dict) else None


def answer(status, text):
    code = 0 if status == 200 else 1
    return request.make_json_response({"ResultCode": code, "ResultDesc": text}, status=status)


def refuse(status, reason, *args):
    """Answer ``status``, the refusal logged; nothing was changed."""
    _logger.warning("Refused " + reason, *args)
    return answer(status, reason % args)


def ended(tx_sudo, what):
    """409 for a notification of a transaction that ended (a replay), else None."""
    if tx_sudo.state in ("done", "cancel"):
        return refuse(
            409, f"{what} for %s replayed after it ended (%s)", tx_sudo.reference, tx_sudo.state
        )
    return None


def paid_another_amount(tx_sudo, what):
    """409 for a notification of a transaction paid with another amount (it stays as it
    ended; the notification is recorded first, for staff), else None."""
    if tx_sudo.isp_amount_refused:
        return refuse(409, f"{what} for %s after a payment of another amount", tx_sudo.reference)
    return None


def processed(tx_sudo):
    if tx_sudo.isp_amount_refused:
        return answer(200, "recorded: another amount than due was paid, not applied")
    return answer(200, "accepted")


def daraja_payment_data(callback):
    """The payment data of an stkCallback, and what makes it unusable (or None): a paid
    callback must say what was paid, with its receipt."""
    code = callback.get("ResultCode")
    if code is None or not isinstance(code, int | str):
        return None, "without ResultCode"
    items = {
        item["Name"]: item.get("Value")
        for item in (callback.get("CallbackMetadata") or {}).get("Item") or []
        if isinstance(item, dict) and "Name" in item
    }
    data = {
        "source": "callback",
        "MerchantRequestID": callback.get("MerchantRequestID"),
        "CheckoutRequestID": callback.get("CheckoutRequestID"),
        "ResultCode": str(code),
        "ResultDesc": callback.get("ResultDesc"),
        "Amount": items.get("Amount"),
        "MpesaReceiptNumber": items.get("MpesaReceiptNumber"),
    }
    if data["ResultCode"] == "0":
        try:
            data["Amount"] = float(items.get("Amount"))
        except (TypeError, ValueError):
            data["Amount"] = None
        if data["Amount"] is None or not 0 < data["Amount"] < float("inf"):
            return data, "without amount"
        if not data["MpesaReceiptNumber"]:
            return data, "without receipt"
    return data, None


class IspMpesaController(http.Controller):
    """find the transaction → verify (token / checksum, source address, status query) →
    ``_process``; the HTTP answer is decided here."""

    _daraja_callback_url = "/payment/daraja/callback/<string:token>"
    _clickpesa_webhook_url = "/payment/clickpesa/webhook"
    # C2B (Paybill / Till): the provider's secret path token; no "mpesa" in the path, which
    # Safaricom refuses in registered URLs
    _daraja_c2b_url = "/payment/daraja/c2b/<string:token>/<any(validation,confirmation):kind>"
    # the seed API's path, where existing ClickPesa accounts may still post
    _clickpesa_webhook_alias = "/api/clickpesa-webhook/"

    @http.route(
        "/payment/isp_mpesa/push",
        type="jsonrpc",
        auth="public",
        max_content_length=MAX_PUSH_BODY,
    )
    def isp_mpesa_push(self, reference, access_token, phone):
        """Send the STK / USSD push of a draft transaction to ``phone`` (direct flow)."""
        tx_sudo = (
            request.env["payment.transaction"]
            .sudo()
            .search(
                [
                    ("reference", "=", reference),
                    ("provider_code", "in", list(const.PROVIDER_CODES)),
                ],
                limit=1,
            )
        )
        if not tx_sudo or not payment_utils.check_access_token(
            access_token, "isp-push", reference, tx_sudo.amount
        ):
            _logger.warning("Refused push request for %r: bad reference or token", reference)
            raise Forbidden()
        try:
            tx_sudo._isp_send_push(phone, client_ip=client_address())
        except UserError as error:
            return {"state": tx_sudo.state, "error": error.args[0]}
        # the customer's words; the provider's own error text stays for staff
        return {
            "state": tx_sudo.state,
            "error": (tx_sudo.isp_public_message or request.env._("The payment failed."))
            if tx_sudo.state == "error"
            else False,
        }

    @http.route(
        _daraja_callback_url,
        type="http",
        methods=["POST"],
        auth="public",
        csrf=False,
        save_session=False,
        max_content_length=MAX_WEBHOOK_BODY,
    )
    def daraja_callback(self, token):
        """Process the STK push result M-Pesa posts to the transaction's secret URL."""
        callback = ((json_body() or {}).get("Body") or {}).get("stkCallback")
        if not isinstance(callback, dict) or not callback.get("CheckoutRequestID"):
            return refuse(400, "M-Pesa callback: not an stkCallback")
        tx_sudo = request.env["payment.transaction"].sudo()._search_by_reference("daraja", callback)
        # an unknown CheckoutRequestID and a wrong token answer alike: no oracle of which
        # checkout requests exist
        if not tx_sudo or not consteq(token, tx_sudo._daraja_callback_token()):
            _logger.warning(
                "Refused M-Pesa callback for %s: unknown request or wrong token",
                tx_sudo.reference if tx_sudo else "an unknown checkout request",
            )
            raise NotFound()
        address = client_address()
        if not tx_sudo.provider_id._daraja_address_allowed(address):
            _logger.warning(
                "Refused M-Pesa callback for %s from %s: not an allowed address",
                tx_sudo.reference,
                address,
            )
            raise Forbidden()
        data, problem = daraja_payment_data(callback)
        if not problem and data["ResultCode"] == "0" and tx_sudo.currency_id.name != "KES":
            problem = f"in KES, due in {tx_sudo.currency_id.name}"
        if problem:
            return refuse(400, "callback for %s %s", tx_sudo.reference, problem)
        if response := ended(tx_sudo, "callback"):
            return response
        request.env["isp.mpesa.callback"].sudo()._record(
            tx_sudo, "callback", callback, address, data
        )
        if response := paid_another_amount(tx_sudo, "callback"):
            return response
        if not tx_sudo._daraja_confirmed(data):
            return answer(200, "kept until M-Pesa confirms it")
        tx_sudo._process("daraja", data)
        return processed(tx_sudo)

    @http.route(
        [_clickpesa_webhook_url, _clickpesa_webhook_alias],
        type="http",
        methods=["POST"],
        auth="public",
        csrf=False,
        save_session=False,
        max_content_length=MAX_WEBHOOK_BODY,
    )
    def clickpesa_webhook(self):
        """Process a ClickPesa webhook once its checksum is verified and ClickPesa's status
        query confirms it: what is processed is the status query's answer."""
        body = json_body()
        data = (body or {}).get("data")
        if not isinstance(data, dict) or not data.get("orderReference"):
            return refuse(400, "ClickPesa webhook: no data.orderReference")
        tx_sudo = request.env["payment.transaction"].sudo()._search_by_reference("clickpesa", data)
        if not tx_sudo:
            raise NotFound()
        header = request.httprequest.headers.get("X-ClickPesa-Signature")
        if not tx_sudo.provider_id._clickpesa_verify_checksum(body, header):
            _logger.warning("Refused ClickPesa webhook for %s: bad checksum", tx_sudo.reference)
            raise Forbidden()
        if response := ended(tx_sudo, "webhook"):
            return response
        # signed: its checksum was verified, it is kept as received. Unsigned (no checksum
        # key): anyone may have sent it, so nothing of it is stored; what is kept is
        # ClickPesa's own status answer, once the query confirms it
        Callback, address = request.env["isp.mpesa.callback"].sudo(), client_address()
        signed = bool(tx_sudo.provider_id._isp_secret("clickpesa_checksum_key"))
        if signed:
            Callback._record(tx_sudo, "webhook", body, address)
        if response := paid_another_amount(tx_sudo, "webhook"):
            return response
        try:
            payment = tx_sudo._clickpesa_query()
        except UserError as error:  # the provider's errors, or disabled
            _logger.warning(
                "Webhook for %s kept until ClickPesa confirms it: %s",
                tx_sudo.reference,
                error.args[0],
            )
            return answer(200, "will be confirmed by the status query")
        if not signed:
            Callback._record(tx_sudo, "status", payment, address)
        # the amount and currency are ClickPesa's status answer (collectedAmount): another
        # amount than due ends the transaction in Paid, Not Applied (``_validate_amount``)
        tx_sudo._process("clickpesa", payment)
        return processed(tx_sudo)

    @http.route(
        _daraja_c2b_url,
        type="http",
        methods=["POST"],
        auth="public",
        csrf=False,
        save_session=False,
        max_content_length=MAX_WEBHOOK_BODY,
    )
    def daraja_c2b(self, token, kind):
        """M-Pesa's validation request (answer at once, nothing recorded) or confirmation
        (recorded once per receipt, booked, matched) of a payment to the provider's Paybill
        / Till number."""
        provider_sudo = request.env["payment.provider"].sudo()._daraja_c2b_provider(token)
        if not provider_sudo:
            _logger.warning("Refused M-Pesa C2B %s: unknown token", kind)
            raise NotFound()
        address = client_address()
        if not provider_sudo._daraja_address_allowed(address):
            _logger.warning(
                "Refused M-Pesa C2B %s for %s from %s: not an allowed address",
                kind,
                provider_sudo.name,
                address,
            )
            raise Forbidden()
        payload = json_body()
        C2b = request.env["isp.mpesa.c2b"].sudo()
        if kind == "validation":
            if payload is None:
                code, text = const.C2B_OTHER_ERROR
            else:
                code, text = C2b._c2b_validate(provider_sudo, payload)
            return request.make_json_response({"ResultCode": code, "ResultDesc": text})
        if payload is None:
            return refuse(400, "M-Pesa C2B confirmation: not a JSON object")
        try:
            row, new = C2b._c2b_confirm(provider_sudo, payload, address)
        except UserError as error:
            return refuse(400, "M-Pesa C2B confirmation: %s", error.args[0])
        _logger.info(
            "M-Pesa C2B confirmation %s for %s: %s",
            row.trans_id,
            provider_sudo.name,
            "recorded" if new else "repeated, unchanged",
        )
        return answer(200, "Success")
