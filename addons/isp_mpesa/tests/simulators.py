"""Loopback simulators of M-Pesa Daraja (STK Push) and ClickPesa (USSD push), strict to
/work/shared/reference/payment-and-sms-apis.md: they check authentication, every field's
presence, type, format and length, Daraja's Password formula and a Timestamp within 5 minutes
of Kenya time; they answer the documented success and error bodies, send the documented
callback / webhook (any ResultCode or status, after a delay, several times, or never) and
answer status queries consistently with what they decided.

Each runs a ThreadingHTTPServer on 127.0.0.1 (random port) in a daemon thread::

    with DarajaSimulator(consumer_key="k", ...) as sim:
        provider.daraja_base_url = sim.url
        sim.next_result(code=1032, delay=0.2, repeat=2)

Outcomes are taken from ``sim.outcomes`` (a queue: one per push; default success now).
"""

import base64
import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import requests

KENYA = timezone(timedelta(hours=3))
DARAJA_RESULT_DESC = {
    0: "The service request is processed successfully.",
    1: "The balance is insufficient for the transaction.",
    17: "Rule limited.",
    1019: "Transaction has expired.",
    1025: "An error occurred while sending a push request.",
    1032: "Request cancelled by user.",
    1037: "DS timeout user cannot be reached.",
    2001: "The initiator information is invalid.",
}


@dataclass
class Outcome:
    """What happens after a push: the final ResultCode (Daraja) or status (ClickPesa), when
    it is decided (``delay`` seconds after the push), how many callbacks are sent (0: lost),
    and optional overrides of the callback's amount / currency / receipt."""

    code: object = 0
    delay: float = 0.0
    repeat: int = 1
    amount: object = None
    currency: str = None
    receipt: str = None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - quiet
        return

    def _dispatch(self, method):
        sim = self.server.simulator
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        sim.requests.append((method, self.path, dict(self.headers), raw))
        fault = sim._take_fault(self.path)
        if fault == "timeout":
            time.sleep(sim.hang_seconds)
            return
        self._send(*sim._respond(fault, method, self.path, self.headers, raw))

    def _send(self, status, content_type, data, headers=None):
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            return

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")


class _Simulator:
    url_suffix = ""

    def __init__(self):
        self.requests = []
        self.sent = []  # (url, status code or exception, body)
        self.outcomes = deque()
        self.faults = deque()
        self.hang_seconds = 3.0
        self.lock = threading.Lock()
        self.server = None
        self._threads = []

    # lifecycle
    def start(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.simulator = self
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        self.root = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = self.root + self.url_suffix
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        self.wait_callbacks()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # scenario
    def next_result(self, code=0, delay=0.0, repeat=1, **overrides):
        self.outcomes.append(Outcome(code=code, delay=delay, repeat=repeat, **overrides))

    def fail_next(self, kind="500", count=1):
        """``500``: answer HTTP 500; ``timeout``: answer nothing for ``hang_seconds``."""
        self.faults.extend([kind] * count)

    def _take_fault(self, path):
        with self.lock:
            return self.faults.popleft() if self.faults else None

    def _respond(self, fault, method, path, headers, raw):
        """(status, content type, body bytes, headers) of the answer to a request: the
        fault asked for (``500``), else ``handle``'s (status, JSON body)."""
        if fault == "500":
            status, body = 500, {"message": "Internal Server Error"}
        else:
            status, body = self.handle(method, path, headers, raw)
        return status, "application/json", json.dumps(body).encode(), {}

    def _take_outcome(self):
        with self.lock:
            return self.outcomes.popleft() if self.outcomes else Outcome()

    def wait_callbacks(self, timeout=30):
        for thread in list(self._threads):
            thread.join(timeout)

    def _post_later(self, url, bodies_fn, delay, repeat, headers=None):
        def run():
            if delay:
                time.sleep(delay)
            for _i in range(repeat):
                body = bodies_fn()
                try:
                    response = requests.post(url, json=body, headers=headers or {}, timeout=60)
                    self.sent.append((url, response.status_code, body))
                except requests.RequestException as exc:
                    self.sent.append((url, exc, body))

        if repeat <= 0:
            return
        thread = threading.Thread(target=run, daemon=True)
        self._threads.append(thread)
        thread.start()


class DarajaSimulator(_Simulator):
    TOKEN_PATH = "/oauth/v1/generate"
    STK_PATH = "/mpesa/stkpush/v1/processrequest"
    QUERY_PATH = "/mpesa/stkpushquery/v1/query"
    PHONE = re.compile(r"^254[17]\d{8}$")
    STK_FIELDS = {
        "BusinessShortCode",
        "Password",
        "Timestamp",
        "TransactionType",
        "Amount",
        "PartyA",
        "PartyB",
        "PhoneNumber",
        "CallBackURL",
        "AccountReference",
        "TransactionDesc",
    }

    C2B_REGISTER_PATH = "/mpesa/c2b/v2/registerurl"
    C2B_FIELDS = {"ShortCode", "ResponseType", "ConfirmationURL", "ValidationURL"}
    C2B_FORBIDDEN = ("mpesa", "safaricom", "sql", "exec", "cmd")

    def __init__(
        self,
        consumer_key="ck-test",
        consumer_secret="cs-test",
        passkey="pk-test",
        shortcode="174379",
        till=None,
        token_lifetime="3599",
        send_callbacks=True,
        c2b_shortcodes=None,
        sandbox=True,
    ):
        super().__init__()
        # C2B: the numbers whose URLs may be registered (None: any 5-7 digit number), and
        # whether http:// URLs are taken: Daraja's sandbox takes them, production only
        # https; tests run the sandbox rules (the loopback test server speaks plain http)
        self.c2b_shortcodes = c2b_shortcodes
        self.sandbox = sandbox
        self.c2b_registrations = {}  # ShortCode -> registered body
        self.c2b_sent = []  # (url, status, answer json or text)
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.passkey = passkey
        self.shortcode = shortcode
        self.till = till
        self.token_lifetime = token_lifetime
        self.send_callbacks = send_callbacks
        self.tokens = {}  # token -> expiry (monotonic)
        self.tokens_issued = 0
        self.pushes = {}  # CheckoutRequestID -> dict
        self._ids = itertools.count(1)

    # helpers
    @staticmethod
    def _error(status, code, message):
        return status, {
            "requestId": f"{secrets.randbelow(99999)}-{secrets.randbelow(9999999)}-1",
            "errorCode": code,
            "errorMessage": message,
        }

    def _invalid(self, field):
        return self._error(400, "400.002.02", f"Bad Request - Invalid {field}")

    def expire_tokens(self):
        with self.lock:
            self.tokens.clear()

    def _auth_ok(self, headers):
        value = headers.get("Authorization") or ""
        if not value.startswith("Bearer "):
            return False
        expiry = self.tokens.get(value[7:])
        return bool(expiry and expiry > time.monotonic())

    @staticmethod
    def _digits(value, pattern=r"^\d+$"):
        """Daraja takes numbers or digit strings for its numeric fields."""
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            value = str(value)
        if isinstance(value, str) and re.match(pattern, value):
            return value
        return None

    def _check_password(self, body):
        stamp = body.get("Timestamp")
        if not isinstance(stamp, str) or not re.match(r"^\d{14}$", stamp):
            return self._invalid("Timestamp")
        try:
            when = datetime.strptime(stamp, "%Y%m%d%H%M%S").replace(tzinfo=KENYA)
        except ValueError:
            return self._invalid("Timestamp")
        if abs((datetime.now(tz=KENYA) - when).total_seconds()) > 300:
            return self._invalid("Timestamp")
        expected = base64.b64encode(f"{self.shortcode}{self.passkey}{stamp}".encode()).decode()
        if not isinstance(body.get("Password"), str) or not hmac.compare_digest(
            body["Password"], expected
        ):
            return self._error(400, "400.002.02", "Bad Request - Invalid Password")
        return None

    # dispatch
    def handle(self, method, path, headers, raw):
        parts = urlsplit(path)
        if parts.path == self.TOKEN_PATH:
            if method != "GET":
                return self._error(405, "405.001", "Method Not Allowed")
            return self._token(parts, headers)
        if parts.path == self.C2B_REGISTER_PATH:
            if method != "POST":
                return self._error(405, "405.001", "Method Not Allowed")
            if not self._auth_ok(headers):
                return self._error(404, "404.001.03", "Invalid Access Token")
            if "application/json" not in (headers.get("Content-Type") or ""):
                return self._invalid("ShortCode")
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                return self._invalid("JSON")
            if not isinstance(body, dict):
                return self._invalid("JSON")
            return self._register_urls(body)
        if parts.path in (self.STK_PATH, self.QUERY_PATH):
            if method != "POST":
                return self._error(405, "405.001", "Method Not Allowed")
            if not self._auth_ok(headers):
                return self._error(404, "404.001.03", "Invalid Access Token")
            if "application/json" not in (headers.get("Content-Type") or ""):
                return self._invalid("BusinessShortCode")
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                return self._invalid("JSON")
            if not isinstance(body, dict):
                return self._invalid("JSON")
            if parts.path == self.STK_PATH:
                return self._stk(body)
            return self._query(body)
        return self._error(404, "404.001.01", "Resource not found")

    def _token(self, parts, headers):
        if parse_qs(parts.query).get("grant_type") != ["client_credentials"]:
            return self._error(400, "400.008.02", "Invalid grant type passed")
        expected = base64.b64encode(f"{self.consumer_key}:{self.consumer_secret}".encode())
        if (headers.get("Authorization") or "") != f"Basic {expected.decode()}":
            return self._error(400, "400.008.01", "Invalid Authentication passed")
        token = secrets.token_urlsafe(20)
        with self.lock:
            # a new token invalidates the previous one
            self.tokens = {token: time.monotonic() + float(self.token_lifetime)}
            self.tokens_issued += 1
        return 200, {"access_token": token, "expires_in": self.token_lifetime}

    def _stk(self, body):
        unknown = set(body) - self.STK_FIELDS
        if unknown:
            return self._invalid(sorted(unknown)[0])
        for field in self.STK_FIELDS - {"TransactionDesc"}:
            if body.get(field) in (None, ""):
                return self._invalid(field)
        if self._digits(body["BusinessShortCode"], r"^\d{5,7}$") != self.shortcode:
            return self._invalid("BusinessShortCode")
        error = self._check_password(body)
        if error:
            return error
        kind = body["TransactionType"]
        if kind not in ("CustomerPayBillOnline", "CustomerBuyGoodsOnline"):
            return self._invalid("TransactionType")
        party_b = self._digits(body["PartyB"], r"^\d{5,7}$")
        expected_b = self.till if kind == "CustomerBuyGoodsOnline" else self.shortcode
        if not party_b or party_b != expected_b:
            return self._invalid("PartyB")
        amount = body["Amount"]
        if isinstance(amount, str) and amount.isdigit():
            amount = int(amount)
        if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= 250000:
            return self._invalid("Amount")
        phone = self._digits(body["PhoneNumber"], self.PHONE.pattern)
        party_a = self._digits(body["PartyA"], self.PHONE.pattern)
        if not phone:
            return self._invalid("PhoneNumber")
        if not party_a or party_a != phone:
            return self._invalid("PartyA")
        url = body["CallBackURL"]
        if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+/\S*$", url):
            return self._invalid("CallBackURL")
        ref = body["AccountReference"]
        if not isinstance(ref, str) or not 1 <= len(ref) <= 12:
            return self._invalid("AccountReference")
        desc = body.get("TransactionDesc")
        if desc is not None and (not isinstance(desc, str) or len(desc) > 13):
            return self._invalid("TransactionDesc")
        outcome = self._take_outcome()
        number = next(self._ids)
        merchant = f"29115-{34620561 + number}-1"
        checkout = f"ws_CO_{datetime.now(tz=KENYA):%d%m%Y%H%M%S}{number:06d}"
        push = {
            "merchant": merchant,
            "checkout": checkout,
            "amount": amount,
            "phone": phone,
            "outcome": outcome,
            "decided_at": time.monotonic() + outcome.delay,
            "receipt": outcome.receipt or f"NLJ{number:07d}",
            "callback_url": url,
        }
        with self.lock:
            self.pushes[checkout] = push
        if self.send_callbacks:
            self._post_later(
                url, lambda: self.callback_body(checkout), outcome.delay, outcome.repeat
            )
        return 200, {
            "MerchantRequestID": merchant,
            "CheckoutRequestID": checkout,
            "ResponseCode": "0",
            "ResponseDescription": "Success. Request accepted for processing",
            "CustomerMessage": "Success. Request accepted for processing",
        }

    def callback_body(self, checkout, **overrides):
        """The callback Safaricom sends for this push (``overrides``: any stkCallback key,
        or Amount / MpesaReceiptNumber for the metadata)."""
        push = self.pushes[checkout]
        outcome = push["outcome"]
        code = overrides.pop("ResultCode", outcome.code)
        callback = {
            "MerchantRequestID": push["merchant"],
            "CheckoutRequestID": checkout,
            "ResultCode": code,
            "ResultDesc": DARAJA_RESULT_DESC.get(code, "Failed"),
        }
        if code == 0:
            amount = overrides.pop("Amount", outcome.amount)
            callback["CallbackMetadata"] = {
                "Item": [
                    {"Name": "Amount", "Value": push["amount"] if amount is None else amount},
                    {
                        "Name": "MpesaReceiptNumber",
                        "Value": overrides.pop("MpesaReceiptNumber", push["receipt"]),
                    },
                    {"Name": "Balance"},
                    {
                        "Name": "TransactionDate",
                        "Value": int(f"{datetime.now(tz=KENYA):%Y%m%d%H%M%S}"),
                    },
                    {"Name": "PhoneNumber", "Value": int(push["phone"])},
                ]
            }
        callback.update(overrides)
        return {"Body": {"stkCallback": callback}}

    def _register_urls(self, body):
        """``POST /mpesa/c2b/v2/registerurl``: strict on fields, ResponseType, URL words."""
        unknown = set(body) - self.C2B_FIELDS
        if unknown:
            return self._invalid(sorted(unknown)[0])
        for field in sorted(self.C2B_FIELDS):
            if body.get(field) in (None, ""):
                return self._invalid(field)
        code = self._digits(body["ShortCode"], r"^\d{5,7}$")
        if not code or (self.c2b_shortcodes is not None and code not in self.c2b_shortcodes):
            return self._invalid("ShortCode")
        if body["ResponseType"] not in ("Completed", "Cancelled"):
            return self._invalid("ResponseType")
        for field in ("ConfirmationURL", "ValidationURL"):
            url = body[field]
            if not isinstance(url, str) or not re.match(r"^https?://[^\s/]+/\S*$", url):
                return self._invalid(field)
            if any(word in url.lower() for word in self.C2B_FORBIDDEN):
                return self._invalid(field)
            if not url.startswith("https://") and not self.sandbox:
                return self._invalid(field)
        with self.lock:
            self.c2b_registrations[code] = dict(body)
        return 200, {
            "OriginatorCoversationID": f"{secrets.randbelow(99999)}-{next(self._ids)}-1",
            "ResponseCode": "0",
            "ResponseDescription": "Success",
        }

    def c2b_body(
        self,
        trans_id=None,
        amount="50.00",
        bill_ref="",
        shortcode=None,
        msisdn="2547 ***** 149",
        **overrides,
    ):
        """A C2B validation / confirmation body as M-Pesa posts it (MSISDN masked, amounts
        as strings); ``shortcode``: the number paid to (default: the only one registered)."""
        number = next(self._ids)
        if shortcode is None:
            shortcode = next(iter(self.c2b_registrations), self.shortcode)
        body = {
            "TransactionType": "Pay Bill",
            "TransID": trans_id or f"SHJ{number:07d}",
            "TransTime": f"{datetime.now(tz=KENYA):%Y%m%d%H%M%S}",
            "TransAmount": amount,
            "BusinessShortCode": shortcode,
            "BillRefNumber": bill_ref,
            "InvoiceNumber": "",
            "OrgAccountBalance": "",
            "ThirdPartyTransID": "",
            "MSISDN": msisdn,
            "FirstName": "JOHN",
            "MiddleName": "",
            "LastName": "DOE",
        }
        body.update(overrides)
        return body

    def deliver_c2b(self, kind, body, shortcode=None, repeat=1, headers=None, url=None):
        """POST ``body`` to the ``kind`` ("validation" / "confirmation") URL registered for
        ``shortcode`` (default: the body's), ``repeat`` times, as M-Pesa does; returns the
        responses. Refuses to deliver to a number whose URLs were never registered."""
        if url is None:
            code = str(shortcode or body.get("BusinessShortCode"))
            registration = self.c2b_registrations.get(code)
            if not registration:
                raise AssertionError(f"no URLs registered for {code}")
            url = registration["ValidationURL" if kind == "validation" else "ConfirmationURL"]
        responses = []
        for _i in range(repeat):
            response = requests.post(url, json=body, headers=headers or {}, timeout=60)
            self.c2b_sent.append((url, response.status_code, response.text[:500]))
            responses.append(response)
        return responses

    def _query(self, body):
        expected = {"BusinessShortCode", "Password", "Timestamp", "CheckoutRequestID"}
        if set(body) != expected:
            missing = sorted(expected ^ set(body))
            return self._invalid(missing[0])
        if self._digits(body["BusinessShortCode"], r"^\d{5,7}$") != self.shortcode:
            return self._invalid("BusinessShortCode")
        error = self._check_password(body)
        if error:
            return error
        push = self.pushes.get(body["CheckoutRequestID"])
        if not push:
            return self._invalid("CheckoutRequestID")
        if time.monotonic() < push["decided_at"]:
            return self._error(500, "500.001.1001", "The transaction is being processed")
        code = push["outcome"].code
        return 200, {
            "ResponseCode": "0",
            "ResponseDescription": "The service request has been accepted successsfully",
            "MerchantRequestID": push["merchant"],
            "CheckoutRequestID": push["checkout"],
            "ResultCode": str(code),
            "ResultDesc": DARAJA_RESULT_DESC.get(code, "Failed"),
        }


def clickpesa_checksum(key, payload):
    data = {k: v for k, v in payload.items() if k not in ("checksum", "checksumMethod")}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


class ClickPesaSimulator(_Simulator):
    url_suffix = "/third-parties"
    PHONE = re.compile(r"^255[67]\d{8}$")
    CHANNELS = {"74": "M-PESA", "75": "M-PESA", "76": "M-PESA", "71": "TIGO-PESA",
                "65": "TIGO-PESA", "67": "TIGO-PESA", "68": "AIRTEL-MONEY", "69": "AIRTEL-MONEY",
                "78": "AIRTEL-MONEY", "62": "HALOPESA", "61": "HALOPESA"}  # fmt: skip

    def __init__(self, client_id="cid-test", api_key="ak-test", checksum_key=None):
        super().__init__()
        self.client_id = client_id
        self.api_key = api_key
        self.checksum_key = checksum_key
        self.webhook_url = None
        self.tokens = set()
        self.tokens_issued = 0
        self.payments = {}  # orderReference -> dict
        self._ids = itertools.count(1)

    def expire_tokens(self):
        with self.lock:
            self.tokens.clear()

    def handle(self, method, path, headers, raw):
        route = urlsplit(path).path
        if not route.startswith("/third-parties/"):
            return 404, {"message": "Not Found"}
        route = route[len("/third-parties") :]
        if route == "/generate-token":
            if method != "POST":
                return 405, {"message": "Method Not Allowed"}
            if headers.get("client-id") != self.client_id or headers.get("api-key") != self.api_key:
                return 401, {"message": "Unauthorized: invalid client-id or api-key"}
            token = "Bearer " + secrets.token_urlsafe(24)
            with self.lock:
                self.tokens = {token}
                self.tokens_issued += 1
            return 200, {"success": True, "token": token}
        if headers.get("Authorization") not in self.tokens:
            return 401, {"message": "Unauthorized"}
        if route.startswith("/payments/") and method == "GET":
            reference = route[len("/payments/") :]
            payment = self.payments.get(reference)
            if not payment:
                return 404, {"message": "Payment not found"}
            return 200, [self._status_record(payment)]
        if route not in (
            "/payments/preview-ussd-push-request",
            "/payments/initiate-ussd-push-request",
        ):
            return 404, {"message": "Not Found"}
        if method != "POST":
            return 405, {"message": "Method Not Allowed"}
        if "application/json" not in (headers.get("Content-Type") or ""):
            return 415, {"message": "Content-Type must be application/json"}
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            return 400, {"message": "Invalid JSON"}
        preview = route.endswith("preview-ussd-push-request")
        error = self._validate(body, preview)
        if error:
            return 400, {"message": error}
        if preview:
            return 200, {
                "activeMethods": [
                    {
                        "name": self._channel(body["phoneNumber"]),
                        "status": "AVAILABLE",
                        "fee": 0,
                        "message": "Available",
                    }  # fmt: skip
                ],
                "sender": {
                    "accountName": "Test Customer",
                    "accountNumber": body["phoneNumber"],
                    "accountProvider": self._channel(body["phoneNumber"]),
                },
            }
        if body["orderReference"] in self.payments:
            return 409, {"message": "orderReference already used"}
        return self._initiate(body)

    def _validate(self, body, preview):
        if not isinstance(body, dict):
            return "Body must be a JSON object"
        allowed = {"amount", "currency", "orderReference", "phoneNumber", "checksum"}
        if preview:
            allowed.add("fetchSenderDetails")
        unknown = set(body) - allowed
        if unknown:
            return f"Unknown field {sorted(unknown)[0]}"
        for field in ("amount", "currency", "orderReference", "phoneNumber"):
            if not isinstance(body.get(field), str) or not body[field]:
                return f"{field} is required (string)"
        if not re.match(r"^\d+(\.\d{1,2})?$", body["amount"]) or float(body["amount"]) < 1:
            return "amount must be a positive number as a string"
        if body["currency"] != "TZS":
            return "currency must be TZS"
        if not re.match(r"^[A-Za-z0-9-]{1,50}$", body["orderReference"]):
            return "orderReference must be alphanumeric"
        if not self.PHONE.match(body["phoneNumber"]):
            return "phoneNumber must be 255XXXXXXXXX"
        if "fetchSenderDetails" in body and not isinstance(body["fetchSenderDetails"], bool):
            return "fetchSenderDetails must be a boolean"
        if self.checksum_key:
            if not isinstance(body.get("checksum"), str):
                return "checksum is required"
            if not hmac.compare_digest(
                body["checksum"], clickpesa_checksum(self.checksum_key, body)
            ):
                return "Invalid checksum"
        elif "checksum" in body:
            return "checksum is not enabled for this account"
        return None

    def _channel(self, phone):
        return self.CHANNELS.get(phone[3:5], "M-PESA")

    def _initiate(self, body):
        outcome = self._take_outcome()
        if outcome.code == 0:
            outcome.code = "SUCCESS"
        number = next(self._ids)
        now = datetime.now(tz=timezone.utc).isoformat()
        payment = {
            "id": f"CLP{number:08d}",
            "orderReference": body["orderReference"],
            "amount": body["amount"],
            "phone": body["phoneNumber"],
            "channel": self._channel(body["phoneNumber"]),
            "outcome": outcome,
            "decided_at": time.monotonic() + outcome.delay,
            "createdAt": now,
            "paymentReference": outcome.receipt or f"MPX{number:07d}",
        }
        with self.lock:
            self.payments[body["orderReference"]] = payment
        if self.webhook_url:
            self._post_later(
                self.webhook_url,
                lambda: self.webhook_body(body["orderReference"]),
                outcome.delay,
                outcome.repeat,
            )
        return 200, {
            "id": payment["id"],
            "status": "PROCESSING",
            "channel": payment["channel"],
            "orderReference": body["orderReference"],
            "collectedAmount": body["amount"],
            "collectedCurrency": "TZS",
            "createdAt": now,
            "clientId": self.client_id,
        }

    def _record(self, payment, status):
        outcome = payment["outcome"]
        amount = payment["amount"] if outcome.amount is None else outcome.amount
        return {
            "id": payment["id"],
            "status": status,
            "paymentReference": payment["paymentReference"] if status != "FAILED" else None,
            "orderReference": payment["orderReference"],
            "collectedAmount": amount,
            "collectedCurrency": outcome.currency or "TZS",
            "message": "Insufficient balance" if status == "FAILED" else "Payment received",
            "updatedAt": datetime.now(tz=timezone.utc).isoformat(),
            "createdAt": payment["createdAt"],
        }

    def _status_record(self, payment):
        decided = time.monotonic() >= payment["decided_at"]
        status = payment["outcome"].code if decided else "PROCESSING"
        record = self._record(payment, status)
        if re.match(r"^\d+(\.\d+)?$", str(record["collectedAmount"])):
            record["collectedAmount"] = float(record["collectedAmount"])  # a number here
        record["paymentPhoneNumber"] = payment["phone"]
        record["customer"] = {
            "customerName": "Test Customer",
            "customerPhoneNumber": payment["phone"],
            "customerEmail": None,
        }
        return record

    def webhook_body(self, reference, **overrides):
        payment = self.payments[reference]
        status = overrides.pop("status", payment["outcome"].code)
        data = self._record(payment, status)
        data["channel"] = payment["channel"]
        data["customer"] = {
            "customerName": "Test Customer",
            "customerEmail": None,
            "customerPhoneNumber": payment["phone"],
        }
        data.update(overrides)
        body = {
            "event": "PAYMENT RECEIVED" if status in ("SUCCESS", "SETTLED") else "PAYMENT FAILED",
            "data": data,
        }
        if self.checksum_key:
            body["checksum"] = clickpesa_checksum(self.checksum_key, body)
        return body
