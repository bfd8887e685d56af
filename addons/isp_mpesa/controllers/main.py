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


class IspMpesaController(http.Controller):
    """find the transaction → verify (token / checksum, source address) → delegate."""

    _daraja_callback_url = "/payment/daraja/callback/<string:token>"
    _clickpesa_webhook_url = "/payment/clickpesa/webhook"

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
        body = json_body()
        callback = ((body or {}).get("Body") or {}).get("stkCallback")
        if not isinstance(callback, dict) or not callback.get("CheckoutRequestID"):
            _logger.warning("Refused M-Pesa callback: not an stkCallback")
            return answer(400, "not an stkCallback")
        tx_sudo = (
            request.env["payment.transaction"]
            .sudo()
            ._search_by_reference("daraja", {"CheckoutRequestID": callback["CheckoutRequestID"]})
        )
        # an unknown CheckoutRequestID and a wrong token answer alike: no oracle of which
        # checkout requests exist
        if not tx_sudo or not consteq(token, tx_sudo._daraja_callback_token()):
            _logger.warning(
                "Refused M-Pesa callback for %s: unknown request or wrong token",
                tx_sudo.reference if tx_sudo else "an unknown checkout request",
            )
            raise NotFound()
        address = client_address()
        if not tx_sudo.provider_id._isp_address_allowed(address):
            _logger.warning(
                "Refused M-Pesa callback for %s from %s: not an allowed address",
                tx_sudo.reference,
                address,
            )
            raise Forbidden()
        status, text = tx_sudo._daraja_handle_callback(callback, remote_addr=address)
        return answer(status, text)

    @http.route(
        _clickpesa_webhook_url,
        type="http",
        methods=["POST"],
        auth="public",
        csrf=False,
        save_session=False,
        max_content_length=MAX_WEBHOOK_BODY,
    )
    def clickpesa_webhook(self):
        body = json_body()
        data = (body or {}).get("data")
        if not isinstance(data, dict) or not data.get("orderReference"):
            _logger.warning("Refused ClickPesa webhook: no data.orderReference")
            return answer(400, "no data.orderReference")
        tx_sudo = (
            request.env["payment.transaction"]
            .sudo()
            ._search_by_reference("clickpesa", {"orderReference": data["orderReference"]})
        )
        if not tx_sudo:
            raise NotFound()
        header = request.httprequest.headers.get("X-ClickPesa-Signature")
        if not tx_sudo._clickpesa_verify_checksum(body, header):
            _logger.warning("Refused ClickPesa webhook for %s: bad checksum", tx_sudo.reference)
            raise Forbidden()
        status, text = tx_sudo._clickpesa_handle_webhook(body, remote_addr=client_address())
        return answer(status, text)
