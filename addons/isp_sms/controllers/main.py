import logging

from werkzeug.exceptions import BadRequest, NotFound

from odoo.http import Controller, request, route

from ..tools.sms_api_africastalking import AT_DLR_STATUSES

_logger = logging.getLogger(__name__)

# A delivery report is a short form (id, status, phoneNumber, networkCode, failureReason):
# anything bigger is refused (413) before it is parsed.
MAX_REPORT_BODY = 16 * 1024


class IspSmsController(Controller):
    @route(
        "/isp_sms/africastalking/<int:gateway_id>/<string:token>",
        type="http",
        auth="public",
        methods=["POST"],
        csrf=False,
        save_session=False,
        max_content_length=MAX_REPORT_BODY,
    )
    def africastalking_delivery_report(self, gateway_id, token, **post):
        """Africa's Talking delivery report (form fields id, status, phoneNumber,
        networkCode, failureReason). Africa's Talking does not sign its callbacks: the path
        carries a secret token derived from the database secret and the gateway."""
        gateway_sudo = request.env["isp.sms.gateway"].sudo().browse(gateway_id).exists()
        if (
            not gateway_sudo
            or gateway_sudo.provider != "africastalking"
            or not gateway_sudo._check_dlr_token(token)
        ):
            _logger.warning("Africa's Talking delivery report refused for gateway %s", gateway_id)
            raise NotFound()
        form = request.httprequest.form
        message_id, status = form.get("id"), form.get("status")
        if not message_id or status not in AT_DLR_STATUSES:
            raise BadRequest()
        sms_state, provider_error, final = AT_DLR_STATUSES[status]
        reason = False
        if provider_error:
            reason = request.env._(
                "Africa's Talking: %(status)s %(reason)s",
                status=status,
                reason=form.get("failureReason") or "",
            ).strip()
        gateway_sudo._apply_delivery_report(message_id, sms_state, provider_error, final, reason)
        return request.make_response("OK", headers=[("Content-Type", "text/plain")])
