"""NextSMS (messaging-service.co.tz): JSON, Basic auth, sender ID."""

import base64
import logging

import requests

from .sms_api import RETRY, SUCCESS, IspSmsApi, digits

_logger = logging.getLogger(__name__)

# delivery report group -> (Odoo SMS state for a success, or None; provider error for a
# failure, as understood by sms.tracker._action_update_from_provider_error; final?)
NEXTSMS_DLR_GROUPS = {
    "PENDING": ("pending", None, False),
    "ACCEPTED": ("pending", None, False),
    "DELIVERED": ("sent", None, True),
    "UNDELIVERABLE": (None, "not_delivered", True),
    "EXPIRED": (None, "expired", True),
    "REJECTED": (None, "rejected", True),
}


class SmsApiNextSms(IspSmsApi):
    """One number: ``/text/single`` (or the test endpoint in test mode, where nothing is
    delivered); several: ``/text/multi``, one entry per number. Delivery reports are pulled
    (``isp.sms.gateway._cron_poll_reports``).
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

    def _headers(self, gateway):
        token = f"{gateway.nextsms_username or ''}:{gateway._isp_secret('nextsms_password') or ''}"
        return {
            "Authorization": "Basic " + base64.b64encode(token.encode()).decode(),
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    def _url(self, gateway, path):
        return (gateway.nextsms_base_url or "").rstrip("/") + path

    def _send(self, gateway, session, messages):
        headers = self._headers(gateway)
        sender = gateway.sender_id or ""
        results = []
        if gateway.nextsms_test_mode:
            # the test endpoint takes one text with one or more numbers
            for message in messages:
                numbers = message["numbers"]
                payload = {
                    "from": sender,
                    "to": digits(numbers[0]["number"])
                    if len(numbers) == 1
                    else [digits(n["number"]) for n in numbers],
                    "text": message["content"],
                    "reference": numbers[0]["uuid"],
                }
                url = self._url(gateway, gateway.nextsms_test_path or "")
                results += self._call(gateway, session, url, headers, payload, numbers)
            return results
        numbers = [dict(n, content=m["content"]) for m in messages for n in m["numbers"]]
        if len(numbers) == 1:
            info = numbers[0]
            payload = {
                "from": sender,
                "to": digits(info["number"]),
                "text": info["content"],
                "reference": info["uuid"],
            }
            url = self._url(gateway, self.SINGLE_PATH)
        else:
            payload = {
                "messages": [
                    {"from": sender, "to": digits(n["number"]), "text": n["content"]}
                    for n in numbers
                ]
            }
            url = self._url(gateway, self.MULTI_PATH)
        return self._call(gateway, session, url, headers, payload, numbers)

    def _call(self, gateway, session, url, headers, payload, numbers):
        response, state, reason = self._post(gateway, session, url, json=payload, headers=headers)
        if response is None:
            return self._fail_all(numbers, state, reason)
        replies = response.json().get("messages") or []
        return [
            self._reply_result(info["uuid"], reply)
            for info, reply in self._match(numbers, replies, lambda r: r.get("to"))
        ]

    def _reply_result(self, uuid, reply):
        if reply is None:
            return self._result(
                uuid, "server_error", self.env._("The number is missing from NextSMS's answer.")
            )
        status = reply.get("status") or {}
        name = status.get("name") or self.REJECTION_IDS.get(status.get("id")) or ""
        group = (status.get("groupName") or "").upper()
        rejected = group == "REJECTED" or name.startswith("REJECTED") or name in self.REJECTIONS
        if not rejected:
            return self._result(uuid, SUCCESS, message_id=reply.get("messageId"))
        state = self.REJECTIONS.get(name, "isp_rejected")
        reason = self.env._(
            "NextSMS: %(name)s (%(description)s)",
            name=name or group,
            description=status.get("description") or "",
        )
        return self._result(uuid, state, reason, reply.get("messageId"))

    def fetch_report(self, session, message_id):
        """The delivery report of ``message_id``: (group name, status name, description) or
        None when NextSMS has none yet or cannot be asked."""
        gateway = self._gateway()
        try:
            response = session.get(
                self._url(gateway, self.REPORTS_PATH),
                params={"messageId": message_id},
                headers=self._headers(gateway),
                timeout=self._timeout(gateway),
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

    def balance(self, session):
        gateway = self._gateway()
        response = session.get(
            self._url(gateway, self.BALANCE_PATH),
            headers=self._headers(gateway),
            timeout=self._timeout(gateway),
        )
        response.raise_for_status()
        return response.json().get("sms_balance")
