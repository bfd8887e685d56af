"""Odoo SMS API classes of the ISP gateways (NextSMS, Africa's Talking).

``sms.sms`` hands each class a batch of messages (``_send_sms_batch``) and maps the per-number
results it returns to Odoo's SMS states and failure types through
``PROVIDER_TO_SMS_FAILURE_TYPE``. A result state ``isp_retry`` (HTTP 5xx, timeout, connection
error, the gateway's own transient errors) makes ``sms.sms`` queue the message again later
(see ``sms.sms._handle_call_result_hook``).

Credentials are sent in headers only and never logged: log lines carry the gateway's name, the
path, the HTTP status and counts.
"""

import base64
import logging

import requests

from odoo.exceptions import UserError

from odoo.addons.sms.tools.sms_api import SmsApiBase

_logger = logging.getLogger(__name__)

RETRY = "isp_retry"
SUCCESS = "success"
DEFAULT_TIMEOUT = 10

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
NEXTSMS_DLR_GROUPS = {
    "PENDING": ("pending", None, False),
    "ACCEPTED": ("pending", None, False),
    "DELIVERED": ("sent", None, True),
    "UNDELIVERABLE": (None, "not_delivered", True),
    "EXPIRED": (None, "expired", True),
    "REJECTED": (None, "rejected", True),
}


def _digits(number):
    return "".join(ch for ch in (number or "") if ch.isdigit())


class IspSmsApi(SmsApiBase):
    """Common part of the ISP gateways: the gateway record, the HTTP session, the results."""

    PROVIDER_NAME = ""
    PROVIDER_TO_SMS_FAILURE_TYPE = SmsApiBase.PROVIDER_TO_SMS_FAILURE_TYPE | {
        "insufficient_credit": "sms_credit",
        "unregistered": "sms_acc",
        RETRY: "sms_server",
        "isp_rejected": "sms_rejected",
        "isp_blacklisted": "sms_blacklist",
        "isp_invalid_destination": "sms_invalid_destination",
        "isp_not_allowed": "sms_not_allowed",
    }

    def __init__(self, env, account=None, gateway=None):
        super().__init__(env, account=account)
        self.gateway = gateway

    def _isp_gateway(self):
        gateway = self.gateway or self.company.sudo().isp_sms_gateway_id
        if not gateway:
            raise UserError(
                self.env._(
                    "No SMS gateway is configured for %(company)s.", company=self.company.name
                )
            )
        return gateway.sudo()

    def _isp_timeout(self, gateway):
        return gateway.timeout or DEFAULT_TIMEOUT

    def _get_sms_api_error_messages(self):
        messages = super()._get_sms_api_error_messages()
        messages.update(
            {
                "insufficient_credit": self.env._("The SMS gateway account has no credit left."),
                "unregistered": self.env._(
                    "The SMS gateway refused the credentials or the sender ID."
                ),
                RETRY: self.env._("The SMS gateway is unavailable; the message will be retried."),
                "isp_rejected": self.env._("The SMS gateway rejected the message."),
                "isp_blacklisted": self.env._(
                    "The number does not accept promotional or automated messages (DND)."
                ),
                "isp_not_allowed": self.env._("The gateway cannot deliver to this number."),
                "wrong_number_format": self.env._("The number is not a valid mobile number."),
                "sms_number_missing": self.env._("The message has no destination number."),
                "server_error": self.env._("The SMS gateway answered with an error."),
            }
        )
        return messages

    def _send_sms_batch(self, messages, delivery_reports_url=False):
        gateway = self._isp_gateway()
        with requests.Session() as session:
            return self._isp_send(gateway, session, messages)

    def _isp_send(self, gateway, session, messages):
        raise NotImplementedError()

    # ------------------------------------------------------------------ helpers

    def _isp_post(self, gateway, session, url, **kwargs):
        """POST and return (response or None, failure state, failure reason). Transport
        errors and HTTP 5xx give RETRY; the log never shows credentials or bodies."""
        try:
            response = session.post(url, timeout=self._isp_timeout(gateway), **kwargs)
        except requests.exceptions.Timeout:
            _logger.warning(
                "%s %s: no answer from %s in time", self.PROVIDER_NAME, gateway.name, url
            )
            return None, RETRY, self.env._("The SMS gateway did not answer in time.")
        except requests.exceptions.RequestException as exc:
            _logger.warning(
                "%s %s: cannot reach %s (%s)", self.PROVIDER_NAME, gateway.name, url, type(exc)
            )
            return None, RETRY, self.env._("The SMS gateway cannot be reached.")
        _logger.info(
            "%s %s: POST %s -> HTTP %s", self.PROVIDER_NAME, gateway.name, url, response.status_code
        )
        if response.status_code >= 500:
            return (
                None,
                RETRY,
                self.env._(
                    "The SMS gateway is unavailable (HTTP %(status)s).",
                    status=response.status_code,
                ),
            )
        if response.status_code in (401, 403):
            return (
                None,
                "unregistered",
                self.env._(
                    "The SMS gateway refused the credentials (HTTP %(status)s).",
                    status=response.status_code,
                ),
            )
        if response.status_code >= 400:
            return (
                None,
                "server_error",
                self.env._(
                    "The SMS gateway refused the request (HTTP %(status)s): %(text)s",
                    status=response.status_code,
                    text=response.text[:200],
                ),
            )
        try:
            response.json()
        except ValueError:
            return (
                None,
                "server_error",
                self.env._(
                    "The SMS gateway's answer is not JSON: %(text)s", text=response.text[:200]
                ),
            )
        return response, None, None

    @staticmethod
    def _isp_result(uuid, state, reason=False, message_id=False):
        result = {"uuid": uuid, "state": state, "failure_reason": reason or False}
        if message_id:
            result["isp_message_id"] = str(message_id)
        return result

    def _isp_fail_all(self, numbers, state, reason):
        return [self._isp_result(n["uuid"], state, reason) for n in numbers]

    def _isp_match(self, numbers, replies, reply_number):
        """Pair each of ``numbers`` ({uuid, number}) with its reply: the reply at the same
        position when its number matches, else the first unused reply for that number.
        Returns [(number_info, reply or None)]."""
        unused = list(enumerate(replies))
        pairs = []
        for position, info in enumerate(numbers):
            wanted = _digits(info["number"])
            chosen = None
            for index, (reply_position, reply) in enumerate(unused):
                if _digits(reply_number(reply)) == wanted and (
                    reply_position == position or chosen is None
                ):
                    chosen = index
                    if reply_position == position:
                        break
            pairs.append((info, unused.pop(chosen)[1] if chosen is not None else None))
        return pairs


class SmsApiNextSms(IspSmsApi):
    """NextSMS (messaging-service.co.tz): JSON, Basic auth, sender ID.

    One number: ``/text/single`` (or the test endpoint in test mode, where nothing is
    delivered); several: ``/text/multi``, one entry per number. Delivery reports are pulled
    (``isp.sms.gateway._cron_isp_sms_poll_reports``).
    """

    PROVIDER_NAME = "NextSMS"
    SINGLE_PATH = "/api/sms/v1/text/single"
    MULTI_PATH = "/api/sms/v1/text/multi"
    REPORTS_PATH = "/api/sms/v1/reports"
    BALANCE_PATH = "/api/sms/v1/balance"
    # status name -> Odoo result state (anything else REJECTED* is a plain rejection)
    REJECTIONS = {
        "REJECTED_NETWORK": "isp_not_allowed",
        "REJECTED_PREFIX_MISSING": "wrong_number_format",
        "REJECTED_DND": "isp_blacklisted",
        "REJECTED_NOT_ENOUGH_CREDITS": "insufficient_credit",
        "REJECTED_SENDER": "unregistered",
        "REJECTED_DESTINATION": "wrong_number_format",
        "REJECTED_FLOODING_FILTER": "isp_rejected",
        "REJECTED_SYSTEM_ERROR": RETRY,
        "REJECTED_MESSAGE_TOO_LONG": "isp_rejected",
        "MISSING_TO": "sms_number_missing",
        "REJECTED_INVALID_DESTINATION": "wrong_number_format",
    }
    REJECTION_IDS = {
        6: "REJECTED_NETWORK",
        8: "REJECTED_PREFIX_MISSING",
        10: "REJECTED_DND",
        12: "REJECTED_NOT_ENOUGH_CREDITS",
        13: "REJECTED_SENDER",
        14: "REJECTED_DESTINATION",
        20: "REJECTED_FLOODING_FILTER",
        21: "REJECTED_SYSTEM_ERROR",
        25: "REJECTED_MESSAGE_TOO_LONG",
        51: "MISSING_TO",
        52: "REJECTED_INVALID_DESTINATION",
    }

    def _isp_headers(self, gateway):
        token = f"{gateway.nextsms_username or ''}:{gateway._isp_secret('nextsms_password') or ''}"
        return {
            "Authorization": "Basic " + base64.b64encode(token.encode()).decode(),
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    def _isp_url(self, gateway, path):
        return (gateway.nextsms_base_url or "").rstrip("/") + path

    def _isp_send(self, gateway, session, messages):
        headers = self._isp_headers(gateway)
        sender = gateway.sender_id or ""
        results = []
        if gateway.nextsms_test_mode:
            # the test endpoint takes one text with one or more numbers
            for message in messages:
                numbers = message["numbers"]
                payload = {
                    "from": sender,
                    "to": _digits(numbers[0]["number"])
                    if len(numbers) == 1
                    else [_digits(n["number"]) for n in numbers],
                    "text": message["content"],
                    "reference": numbers[0]["uuid"],
                }
                url = self._isp_url(gateway, gateway.nextsms_test_path or "")
                results += self._isp_call(gateway, session, url, headers, payload, numbers)
            return results
        numbers = [dict(n, content=m["content"]) for m in messages for n in m["numbers"]]
        if len(numbers) == 1:
            info = numbers[0]
            payload = {
                "from": sender,
                "to": _digits(info["number"]),
                "text": info["content"],
                "reference": info["uuid"],
            }
            url = self._isp_url(gateway, self.SINGLE_PATH)
        else:
            payload = {
                "messages": [
                    {"from": sender, "to": _digits(n["number"]), "text": n["content"]}
                    for n in numbers
                ]
            }
            url = self._isp_url(gateway, self.MULTI_PATH)
        return self._isp_call(gateway, session, url, headers, payload, numbers)

    def _isp_call(self, gateway, session, url, headers, payload, numbers):
        response, state, reason = self._isp_post(
            gateway, session, url, json=payload, headers=headers
        )
        if response is None:
            return self._isp_fail_all(numbers, state, reason)
        replies = response.json().get("messages") or []
        results = []
        for info, reply in self._isp_match(numbers, replies, lambda r: r.get("to")):
            results.append(self._isp_reply_result(info["uuid"], reply))
        return results

    def _isp_reply_result(self, uuid, reply):
        if reply is None:
            return self._isp_result(
                uuid, "server_error", self.env._("The number is missing from NextSMS's answer.")
            )
        status = reply.get("status") or {}
        name = status.get("name") or self.REJECTION_IDS.get(status.get("id")) or ""
        group = (status.get("groupName") or "").upper()
        rejected = group == "REJECTED" or name.startswith("REJECTED") or name in self.REJECTIONS
        if not rejected:
            return self._isp_result(uuid, SUCCESS, message_id=reply.get("messageId"))
        state = self.REJECTIONS.get(name, "isp_rejected")
        reason = self.env._(
            "NextSMS: %(name)s (%(description)s)",
            name=name or group,
            description=status.get("description") or "",
        )
        return self._isp_result(uuid, state, reason, reply.get("messageId"))

    def _isp_fetch_report(self, session, message_id):
        """The delivery report of ``message_id``: (group name, status name, description) or
        None when NextSMS has none yet or cannot be asked."""
        gateway = self._isp_gateway()
        url = self._isp_url(gateway, self.REPORTS_PATH)
        try:
            response = session.get(
                url,
                params={"messageId": message_id},
                headers=self._isp_headers(gateway),
                timeout=self._isp_timeout(gateway),
            )
        except requests.exceptions.RequestException as exc:
            _logger.warning("NextSMS %s: reports unavailable (%s)", gateway.name, type(exc))
            return None
        if response.status_code != 200:
            _logger.warning(
                "NextSMS %s: reports answered HTTP %s", gateway.name, response.status_code
            )
            return None
        try:
            body = response.json()
        except ValueError:
            return None
        for report in body.get("results") or body.get("messages") or []:
            if str(report.get("messageId")) == str(message_id):
                status = report.get("status") or {}
                return (
                    (status.get("groupName") or "").upper(),
                    status.get("name") or "",
                    status.get("description") or "",
                )
        return None

    def _isp_balance(self, session):
        gateway = self._isp_gateway()
        response = session.get(
            self._isp_url(gateway, self.BALANCE_PATH),
            headers=self._isp_headers(gateway),
            timeout=self._isp_timeout(gateway),
        )
        response.raise_for_status()
        return response.json().get("sms_balance")


class SmsApiAfricasTalking(IspSmsApi):
    """Africa's Talking: form-encoded POST with the ``apiKey`` header; one request per text,
    the numbers comma-separated. Delivery reports arrive on the callback route."""

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

    def _isp_url(self, gateway):
        base = gateway.at_sandbox_base_url if gateway.at_sandbox else gateway.at_base_url
        return (base or "").rstrip("/") + self.PATH

    def _isp_send(self, gateway, session, messages):
        headers = {"apiKey": gateway._isp_secret("at_api_key") or "", "Accept": "application/json"}
        url = self._isp_url(gateway)
        results = []
        for message in messages:
            numbers = message["numbers"]
            data = {
                "username": gateway.at_username or "",
                "to": ",".join("+" + _digits(n["number"]) for n in numbers),
                "message": message["content"],
            }
            if gateway.sender_id:
                data["from"] = gateway.sender_id
            response, state, reason = self._isp_post(
                gateway, session, url, data=data, headers=headers
            )
            if response is None:
                results += self._isp_fail_all(numbers, state, reason)
                continue
            replies = (response.json().get("SMSMessageData") or {}).get("Recipients") or []
            for info, reply in self._isp_match(numbers, replies, lambda r: r.get("number")):
                results.append(self._isp_reply_result(info["uuid"], reply))
        return results

    def _isp_reply_result(self, uuid, reply):
        if reply is None:
            return self._isp_result(
                uuid,
                "isp_rejected",
                self.env._("Africa's Talking did not accept this number."),
            )
        try:
            code = int(reply.get("statusCode"))
        except (TypeError, ValueError):
            code = None
        state = self.STATUS_CODES.get(code, "isp_rejected")
        if state == SUCCESS:
            return self._isp_result(uuid, SUCCESS, message_id=reply.get("messageId"))
        reason = self.env._(
            "Africa's Talking: %(status)s (%(code)s)", status=reply.get("status") or "", code=code
        )
        return self._isp_result(uuid, state, reason, reply.get("messageId"))
