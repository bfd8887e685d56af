from odoo import http
from odoo.exceptions import UserError
from odoo.http import request

from odoo.addons.isp_billing.url_secrets import mask_path_secret
from odoo.addons.payment.logging import get_payment_logger

from .. import const
from ..models.payment_provider_pesapal import PESAPAL_IPN_ROUTE, PESAPAL_RETURN_ROUTE
from .main import MAX_WEBHOOK_BODY, json_body

_logger = get_payment_logger(__name__, const.SENSITIVE_KEYS)

# the IPN URL's per-provider token: not in the HTTP request log
mask_path_secret(r"^/payment/pesapal/ipn/\d+/(?P<secret>[^/?#]+)")

IPN_KEYS = ("OrderTrackingId", "OrderMerchantReference", "OrderNotificationType")


def refuse(status, reason, *args):
    """A 4xx JSON answer, the refusal logged; nothing was changed."""
    _logger.warning("Refused Pesapal notification: " + reason, *args)
    return request.make_json_response({"error": reason % args}, status=status)


class PesapalController(http.Controller):
    """Pesapal's IPN and the payer's return both only say which order changed: what is
    processed is Pesapal's GetTransactionStatus answer (``payment.transaction._pesapal_settle``).
    """

    _return_url = PESAPAL_RETURN_ROUTE
    _ipn_url = f"{PESAPAL_IPN_ROUTE}/<int:provider_id>/<string:token>"

    @http.route(_return_url, type="http", methods=["GET"], auth="public")
    def pesapal_return(self, **data):
        """The payer back from Pesapal's page (OrderNotificationType CALLBACKURL): settle the
        order unless it is done or cancelled, then Odoo's payment status page."""
        tx_sudo = (
            request.env["payment.transaction"]
            .sudo()
            ._pesapal_find(None, data.get("OrderTrackingId"), data.get("OrderMerchantReference"))
        )
        if not tx_sudo:
            _logger.warning("Pesapal return for an unknown order: nothing done")
        elif tx_sudo.state in ("draft", "pending", "error") and not tx_sudo.isp_amount_refused:
            # error too: a failed attempt may be followed by a paid one on Pesapal's page
            try:
                with request.env.cr.savepoint():
                    tx_sudo._pesapal_settle()
            except UserError as error:  # IspProviderError too: the IPN or the cron settles it
                _logger.warning(
                    "Pesapal return for %s: status unknown (%s)", tx_sudo.reference, error.args[0]
                )
        return request.redirect("/payment/status")

    @http.route(
        _ipn_url,
        type="http",
        methods=["GET", "POST"],
        auth="public",
        csrf=False,
        save_session=False,
        max_content_length=MAX_WEBHOOK_BODY,
    )
    def pesapal_ipn(self, provider_id, token, **data):
        """Pesapal's IPN (GET with query parameters, or POST with a JSON or form body):
        acknowledged in Pesapal's shape once the status query settled it; status 500 when the
        status could not be had, so that Pesapal sends it again."""
        provider_sudo = (
            request.env["payment.provider"].sudo()._pesapal_ipn_provider(provider_id, token)
        )
        if not provider_sudo:
            return refuse(404, "unknown IPN URL")
        if request.httprequest.method == "POST" and not data.get("OrderTrackingId"):
            data = json_body() or {}
        tracking, reference, kind = (data.get(key) for key in IPN_KEYS)
        if not all(isinstance(v, str) and v for v in (tracking, reference, kind)):
            return refuse(400, "%s missing", ", ".join(IPN_KEYS))
        if kind != "IPNCHANGE":
            return refuse(400, "OrderNotificationType %s is not IPNCHANGE", kind[:40])
        tx_sudo = (
            request.env["payment.transaction"]
            .sudo()
            ._pesapal_find(provider_sudo, tracking, reference)
        )
        if not tx_sudo:  # unknown order, or another provider's: same answer
            return refuse(404, "unknown order %s", reference[:60])
        status = 200
        try:
            with request.env.cr.savepoint():
                tx_sudo._pesapal_settle()
        except UserError as error:  # IspProviderError too
            _logger.warning("Pesapal IPN for %s not settled: %s", tx_sudo.reference, error.args[0])
            status = 500
        return request.make_json_response(
            {
                "orderNotificationType": kind,
                "orderTrackingId": tracking,
                "orderMerchantReference": reference,
                "status": status,
            },
            status=status,
        )
