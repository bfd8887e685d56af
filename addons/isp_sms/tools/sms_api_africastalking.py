"""Africa's Talking: form-encoded POST with the ``apiKey`` header."""

from .sms_api import RETRY, SUCCESS, IspSmsApi, digits

# delivery report status -> (Odoo SMS state for a success, or None; provider error for a
# failure, as understood by sms.tracker._action_update_from_provider_error; final?)
AT_DLR_STATUSES = {
    "Sent": ("pending", None, False),
    "Submitted": ("pending", None, False),
    "Buffered": ("pending", None, False),
    "Success": ("sent", None, True),
    "Rejected": (None, "rejected", True),
    "Failed": (None, "not_delivered", True),
    "AbsentSubscriber": (None, "not_delivered", True),
    "Expired": (None, "expired", True),
}


class SmsApiAfricasTalking(IspSmsApi):
    """One request per text, the numbers comma-separated. Delivery reports arrive on the
    callback route (controllers/main.py)."""

    PROVIDER_NAME = "Africa's Talking"
    PATH = "/version1/messaging"
    STATUS_CODES = {
        100: SUCCESS,
        101: SUCCESS,
        102: SUCCESS,
        401: "isp_rejected",  # risk hold
        402: "unregistered",  # invalid sender id
        403: "wrong_number_format",  # invalid phone number
        404: "isp_not_allowed",  # unsupported number type
        405: "insufficient_credit",
        406: "isp_blacklisted",
        407: "isp_not_allowed",  # could not route
        500: RETRY,
        501: RETRY,
        502: "isp_rejected",
    }

    def _url(self, gateway):
        base = gateway.at_sandbox_base_url if gateway.at_sandbox else gateway.at_base_url
        return (base or "").rstrip("/") + self.PATH

    def _send(self, gateway, session, messages):
        headers = {"apiKey": gateway._isp_secret("at_api_key") or "", "Accept": "application/json"}
        url = self._url(gateway)
        results = []
        for message in messages:
            numbers = message["numbers"]
            data = {
                "username": gateway.at_username or "",
                "to": ",".join("+" + digits(n["number"]) for n in numbers),
                "message": message["content"],
            }
            if gateway.sender_id:
                data["from"] = gateway.sender_id
            response, state, reason = self._post(gateway, session, url, data=data, headers=headers)
            if response is None:
                results += self._fail_all(numbers, state, reason)
                continue
            replies = (response.json().get("SMSMessageData") or {}).get("Recipients") or []
            results += [
                self._reply_result(info["uuid"], reply)
                for info, reply in self._match(numbers, replies, lambda r: r.get("number"))
            ]
        return results

    def _reply_result(self, uuid, reply):
        if reply is None:
            return self._result(
                uuid, "isp_rejected", self.env._("Africa's Talking did not accept this number.")
            )
        try:
            code = int(reply.get("statusCode"))
        except (TypeError, ValueError):
            code = None
        state = self.STATUS_CODES.get(code, "isp_rejected")
        if state == SUCCESS:
            return self._result(uuid, SUCCESS, message_id=reply.get("messageId"))
        reason = self.env._(
            "Africa's Talking: %(status)s (%(code)s)", status=reply.get("status") or "", code=code
        )
        return self._result(uuid, state, reason, reply.get("messageId"))
