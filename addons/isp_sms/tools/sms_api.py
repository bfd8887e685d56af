"""The shared base of the ISP gateways' Odoo SMS API classes (NextSMS in ``sms_api_nextsms``,
Africa's Talking in ``sms_api_africastalking``), as sms_twilio keeps its own in its tools.

``sms.sms._send`` hands a class a batch of messages (``_send_sms_batch``) and maps the
per-number results it returns to Odoo's SMS states and failure types through
``PROVIDER_TO_SMS_FAILURE_TYPE``. A result state ``isp_retry`` (HTTP 5xx, timeout, connection
error, the gateway's own transient errors) makes ``sms.sms`` send the message again later
(see ``sms.sms._handle_call_result_hook``).

Credentials are sent in headers only and never logged: log lines carry the gateway's name, the
path, the HTTP status and counts.
"""

import logging

import requests

from odoo.addons.sms.tools.sms_api import SmsApiBase

_logger = logging.getLogger(__name__)

RETRY = "isp_retry"
SUCCESS = "success"
DEFAULT_TIMEOUT = 10


def digits(number):
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

    def _gateway(self):
        """The gateway this object sends through: its own, else its company's."""
        return (self.gateway or self.company.isp_sms_gateway_id).sudo()

    def _timeout(self, gateway):
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
        gateway = self._gateway()
        with requests.Session() as session:
            return self._send(gateway, session, messages)

    def _send(self, gateway, session, messages):
        raise NotImplementedError()

    # ------------------------------------------------------------------ helpers

    def _post(self, gateway, session, url, **kwargs):
        """POST and return (response or None, failure state, failure reason). Transport
        errors and HTTP 5xx give RETRY; the log never shows credentials or bodies."""
        try:
            response = session.post(url, timeout=self._timeout(gateway), **kwargs)
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
    def _result(uuid, state, reason=False, message_id=False):
        result = {"uuid": uuid, "state": state, "failure_reason": reason or False}
        if message_id:
            result["isp_message_id"] = str(message_id)
        return result

    def _fail_all(self, numbers, state, reason):
        return [self._result(n["uuid"], state, reason) for n in numbers]

    def _match(self, numbers, replies, reply_number):
        """Pair each of ``numbers`` ({uuid, number}) with its reply: the reply at the same
        position when its number matches, else the first unused reply for that number.
        Returns [(number_info, reply or None)]."""
        unused = list(enumerate(replies))
        pairs = []
        for position, info in enumerate(numbers):
            wanted = digits(info["number"])
            chosen = None
            for index, (reply_position, reply) in enumerate(unused):
                if digits(reply_number(reply)) == wanted and (
                    reply_position == position or chosen is None
                ):
                    chosen = index
                    if reply_position == position:
                        break
            pairs.append((info, unused.pop(chosen)[1] if chosen is not None else None))
        return pairs
