"""A loopback simulator of Pesapal API 3.0, strict to /work/shared/reference/
payment-and-sms-apis.md ("Pesapal API 3.0"); where the reference is silent it is strict and
says so below.

- ``POST /api/Auth/RequestToken`` {consumer_key, consumer_secret} → {token, expiryDate,
  error, status "200"}: tokens live 5 minutes on the simulator's clock (``advance()`` moves
  it). Wrong credentials: HTTP 200 with ``error`` set and status "500" (as the reference
  says errors often come). A missing, unknown or expired bearer token: HTTP 401 with a JSON
  error (the reference is silent on the status: strict). A new token invalidates the
  previous one (silent: strict).
- ``POST /api/URLSetup/RegisterIPN`` {url, ipn_notification_type "GET"|"POST"} → {ipn_id};
  ``GET /api/URLSetup/GetIpnList`` → the registrations.
- ``POST /api/Transactions/SubmitOrderRequest``: every field checked (unknown keys refused;
  id ≤ 50 of letters, digits and -_.: (silent: strict), unique per merchant; currency one of
  KES UGX TZS USD (silent: Pesapal's); amount a JSON number > 0 with at most 2 decimals;
  description 1..100; callback_url http(s); notification_id a registered ipn_id;
  billing_address with a valid email_address or a phone_number of 9-15 digits without "+"
  (silent: strict), country_code 2 capitals) → {order_tracking_id, merchant_reference,
  redirect_url}; refusals with HTTP 200, ``error`` set and status "400".
- ``GET /api/Transactions/GetTransactionStatus?orderTrackingId=`` → status_code 0/1/2/3 with
  payment_status_description in varying case, amount, currency, confirmation_code, ...
- The hosted page ``GET /pesapaliframe/PesapalIframe3/Index?OrderTrackingId=`` (HTML, with a
  form that "pays": ``POST /pesapaliframe/PesapalIframe3/Pay`` outcome=complete|fail) which
  sends the IPN (GET or POST as registered; once, ``ipn_repeat`` times, or never when
  ``ipn_mode`` is "lost") and redirects the browser to callback_url with OrderTrackingId,
  OrderMerchantReference and OrderNotificationType=CALLBACKURL.
"""

import html
import itertools
import json
import re
import secrets
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from .simulators import _Simulator

CURRENCIES = ("KES", "UGX", "TZS", "USD")
ORDER_KEYS = {
    "id",
    "currency",
    "amount",
    "description",
    "callback_url",
    "cancellation_url",
    "notification_id",
    "billing_address",
    "redirect_mode",
    "branch",
}
ADDRESS_KEYS = {
    "email_address",
    "phone_number",
    "country_code",
    "first_name",
    "middle_name",
    "last_name",
    "line_1",
    "line_2",
    "city",
    "state",
    "postal_code",
    "zip_code",
}
REFERENCE = re.compile(r"^[A-Za-z0-9_.:-]{1,50}$")
URL = re.compile(r"^https?://[^\s/?#]+(/\S*)?$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
PHONE = re.compile(r"^\d{9,15}$")
DESCRIPTIONS = {0: "Invalid", 1: "Completed", 2: "Failed", 3: "Reversed"}
PAGE = "/pesapaliframe/PesapalIframe3"


class PesapalSimulator(_Simulator):
    base_path = url_suffix = "/pesapalv3"

    def __init__(self, consumer_key="ck-test", consumer_secret="cs-test", token_lifetime=300):
        super().__init__()
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.token_lifetime = token_lifetime
        self.clock_offset = 0.0
        self.tokens = {}  # token -> expiry (simulator clock, epoch seconds)
        self.tokens_issued = 0
        self.ipns = {}  # ipn_id -> registration
        self.registrations = 0
        self.orders = {}  # order_tracking_id -> order
        self.merchant_ids = set()
        # (path part or None, kind): see fail_next
        self.ipn_mode = "once"  # "once", "duplicate" (ipn_repeat times), "lost"
        self.ipn_repeat = 3
        self.ipn_sent = []  # (method, url, HTTP status, answer json or text, ack as expected)
        self._case = itertools.cycle((str.capitalize, str.upper, str.lower))

    def reset(self):
        """Between tests (whose database work is rolled back): no orders, faults or IPNs
        sent; the tokens and IPN registrations stay, as on Pesapal's side."""
        with self.lock:
            self.faults.clear()
            self.ipn_mode = "once"
            self.ipn_sent.clear()
            self.orders.clear()
            self.merchant_ids.clear()
            self.requests.clear()
            self.clock_offset = 0.0

    # scenario
    def now(self):
        return time.time() + self.clock_offset

    def advance(self, seconds):
        """Move the simulator's clock (token expiry) ``seconds`` ahead."""
        self.clock_offset += seconds

    def fail_next(self, kind="500", path=None, count=1):
        """The next ``count`` requests (whose path contains ``path``, when given) answer:
        ``500`` HTTP 500 text; ``timeout`` nothing for ``hang_seconds``; ``401`` HTTP 401;
        ``error200`` HTTP 200 with ``error`` set and status "500"."""
        self.faults.extend([(path, kind)] * count)

    def _take_fault(self, path):
        with self.lock:
            for index, (part, kind) in enumerate(self.faults):
                if part is None or part in path:
                    del self.faults[index]
                    return kind
        return None

    def _respond(self, fault, method, path, headers, raw):
        if fault == "500":
            return 500, "text/plain", b"Internal Server Error", {}
        if fault == "401":
            return self._json(401, self._error("authentication_error", "invalid_token", "x", 401))
        if fault == "error200":
            return self._json(200, self._error("api_error", "internal_error", "Server busy", 500))
        status, answer_headers, body = self.handle(method, path, headers, raw)
        content_type = answer_headers.pop("Content-Type", "application/json")
        return status, content_type, body, answer_headers

    @staticmethod
    def _json(status, body):
        return status, "application/json", json.dumps(body).encode(), {}

    @staticmethod
    def _error(kind, code, message, status):
        return {"error": {"type": kind, "code": code, "message": message}, "status": str(status)}

    def _invalid(self, code, message):
        return 200, {}, json.dumps(self._error("validation_error", code, message, 400)).encode()

    # dispatch
    def handle(self, method, path, headers, raw):
        parts = urlsplit(path)
        route, query = parts.path, parse_qs(parts.query)
        if route.startswith(PAGE):
            return self._page(method, route[len(PAGE) :], query, raw)
        if not route.startswith(self.base_path + "/"):
            return self._reply(404, self._error("api_error", "not_found", "Not found", 404))
        route = route[len(self.base_path) :]
        endpoints = {
            "/api/Auth/RequestToken": ("POST", self._token),
            "/api/URLSetup/RegisterIPN": ("POST", self._register_ipn),
            "/api/URLSetup/GetIpnList": ("GET", self._ipn_list),
            "/api/Transactions/SubmitOrderRequest": ("POST", self._submit),
            "/api/Transactions/GetTransactionStatus": ("GET", self._status),
        }
        if route not in endpoints:
            return self._reply(404, self._error("api_error", "not_found", "Not found", 404))
        expected, handler = endpoints[route]
        if method != expected:
            return self._reply(405, self._error("api_error", "method_not_allowed", method, 405))
        body = None
        if method == "POST":
            if "application/json" not in (headers.get("Content-Type") or ""):
                return self._invalid("invalid_content_type", "Content-Type must be JSON")
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                return self._invalid("invalid_json", "Body is not JSON")
            if not isinstance(body, dict):
                return self._invalid("invalid_json", "Body must be a JSON object")
        if handler != self._token and not self._auth_ok(headers):
            return self._reply(
                401, self._error("authentication_error", "invalid_token", "Unauthorized", 401)
            )
        return handler(body if method == "POST" else query)

    @staticmethod
    def _reply(status, body):
        return status, {}, json.dumps(body).encode()

    def _auth_ok(self, headers):
        value = headers.get("Authorization") or ""
        if not value.startswith("Bearer "):
            return False
        expiry = self.tokens.get(value[7:])
        return bool(expiry and expiry > self.now())

    def _stamp(self, moment):
        stamp = datetime.fromtimestamp(moment, UTC)
        return stamp.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"  # .NET: 7 digits

    def _token(self, body):
        if set(body) != {"consumer_key", "consumer_secret"} or not (
            body["consumer_key"] == self.consumer_key
            and body["consumer_secret"] == self.consumer_secret
        ):
            answer = self._error("api_error", "invalid_consumer_key_or_secret_provided", "", 500)
            return self._reply(200, {"token": None, "expiryDate": None, **answer, "message": ""})
        token = secrets.token_urlsafe(32)
        expiry = self.now() + self.token_lifetime
        with self.lock:
            self.tokens = {token: expiry}  # a new token invalidates the previous one
            self.tokens_issued += 1
        return self._reply(
            200,
            {
                "token": token,
                "expiryDate": self._stamp(expiry),
                "error": None,
                "status": "200",
                "message": "Request processed successfully",
            },
        )

    def _register_ipn(self, body):
        if set(body) != {"url", "ipn_notification_type"}:
            return self._invalid("invalid_request", "url and ipn_notification_type only")
        url, kind = body["url"], body["ipn_notification_type"]
        if not isinstance(url, str) or not URL.match(url):
            return self._invalid("invalid_ipn_url", "url is not a URL")
        if kind not in ("GET", "POST"):
            return self._invalid("invalid_ipn_type", "ipn_notification_type is GET or POST")
        ipn = {
            "url": url,
            "created_date": self._stamp(self.now()),
            "ipn_id": str(uuid.uuid4()),
            "notification_type": 0 if kind == "GET" else 1,
            "ipn_notification_type_description": kind,
            "ipn_status": 1,
            "ipn_status_description": "Active",
        }
        with self.lock:
            self.ipns[ipn["ipn_id"]] = ipn
            self.registrations += 1
        return self._reply(200, {**ipn, "error": None, "status": "200"})

    def _ipn_list(self, _query):
        return self._reply(200, [dict(ipn, error=None, status="200") for ipn in self.ipns.values()])

    def _check_order(self, body):  # noqa: PLR0911 - one refusal per rule
        unknown = set(body) - ORDER_KEYS
        if unknown:
            return "invalid_request", f"unknown field {sorted(unknown)[0]}"
        reference = body.get("id")
        if not isinstance(reference, str) or not REFERENCE.match(reference):
            return "invalid_merchant_reference", "id: 1 to 50 letters, digits or -_.:"
        if reference in self.merchant_ids:
            return "duplicate_merchant_reference", f"id {reference} was already used"
        if body.get("currency") not in CURRENCIES:
            return "invalid_currency", "currency not supported"
        amount = body.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount <= 0:
            return "invalid_amount", "amount must be a number above 0"
        if round(amount, 2) != amount:
            return "invalid_amount", "amount has more than 2 decimals"
        description = body.get("description")
        if not isinstance(description, str) or not 1 <= len(description) <= 100:
            return "invalid_description", "description: 1 to 100 characters"
        if not isinstance(body.get("callback_url"), str) or not URL.match(body["callback_url"]):
            return "invalid_callback_url", "callback_url is required"
        if body.get("notification_id") not in self.ipns:
            return "invalid_notification_id", "notification_id is not a registered IPN"
        address = body.get("billing_address")
        if not isinstance(address, dict) or set(address) - ADDRESS_KEYS:
            return "invalid_billing_address", "billing_address is an object of known fields"
        if any(not isinstance(v, str) for v in address.values()):
            return "invalid_billing_address", "billing_address fields are strings"
        email, phone = address.get("email_address"), address.get("phone_number")
        if not email and not phone:
            return "invalid_billing_address", "email_address or phone_number is required"
        if email and not EMAIL.match(email):
            return "invalid_email_address", "email_address is not an email address"
        if phone and not PHONE.match(phone):
            return "invalid_phone_number", "phone_number: 9 to 15 digits"
        country = address.get("country_code")
        if country and not re.match(r"^[A-Z]{2}$", country):
            return "invalid_country_code", "country_code: ISO 3166-1 alpha-2"
        return None

    def _submit(self, body):
        with self.lock:
            problem = self._check_order(body)
            if problem:
                return self._invalid(*problem)
            self.merchant_ids.add(body["id"])
            tracking = str(uuid.uuid4())
            self.orders[tracking] = {
                "tracking": tracking,
                "id": body["id"],
                "currency": body["currency"],
                "amount": body["amount"],
                "description": body["description"],
                "callback_url": body["callback_url"],
                "ipn_id": body["notification_id"],
                "billing_address": body["billing_address"],
                "status_code": 0,
                "created": self._stamp(self.now()),
                "confirmation_code": "",
                "payment_method": "",
                "reason": "",
                "overrides": {},
            }
        return self._reply(
            200,
            {
                "order_tracking_id": tracking,
                "merchant_reference": body["id"],
                "redirect_url": f"{self.root}{PAGE}/Index?OrderTrackingId={tracking}",
                "error": None,
                "status": "200",
            },
        )

    def status_body(self, tracking):
        order = self.orders[tracking]
        code = order["status_code"]
        body = {
            "payment_method": order["payment_method"],
            "amount": order["amount"],
            "created_date": order["created"],
            "confirmation_code": order["confirmation_code"],
            "payment_status_description": next(self._case)(DESCRIPTIONS[code]),
            "description": order["reason"],
            "message": "Request processed successfully",
            "payment_account": "2547****149" if code else "",
            "call_back_url": order["callback_url"],
            "status_code": code,
            "merchant_reference": order["id"],
            "payment_status_code": "",
            "currency": order["currency"],
            # an error object of nulls: no error
            "error": {"error_type": None, "code": None, "message": None, "call_back_url": None},
            "status": "200",
        }
        body.update(order["overrides"])
        return body

    def _status(self, query):
        if set(query) != {"orderTrackingId"} or len(query["orderTrackingId"]) != 1:
            return self._invalid("invalid_request", "orderTrackingId is required")
        tracking = query["orderTrackingId"][0]
        if tracking not in self.orders:
            answer = self._error("api_error", "invalid_order_tracking_id", "Order not found", 500)
            return self._reply(200, answer)
        return self._reply(200, self.status_body(tracking))

    # the hosted page
    def _page(self, method, route, query, raw):
        if route == "/Index" and method == "GET":
            tracking = (query.get("OrderTrackingId") or [""])[0]
            order = self.orders.get(tracking)
            if not order:
                return 404, {"Content-Type": "text/html"}, b"<h1>Unknown order</h1>"
            page = (
                f"<h1>Pay {html.escape(order['description'])}</h1>"
                f"<p class='amount'>{order['currency']} {order['amount']}</p>"
                f"<form method='post' action='{PAGE}/Pay'>"
                f"<input type='hidden' name='OrderTrackingId' value='{tracking}'/>"
                "<button name='outcome' value='complete'>Pay</button>"
                "<button name='outcome' value='fail'>Fail</button></form>"
            )
            return 200, {"Content-Type": "text/html"}, page.encode()
        if route == "/Pay" and method == "POST":
            form = parse_qs(raw.decode())
            tracking = (form.get("OrderTrackingId") or [""])[0]
            outcome = (form.get("outcome") or [""])[0]
            if tracking not in self.orders or outcome not in ("complete", "fail"):
                return 400, {"Content-Type": "text/html"}, b"<h1>Bad payment</h1>"
            location = self.pay(tracking, outcome)
            return 302, {"Content-Type": "text/html", "Location": location}, b""
        return 404, {"Content-Type": "text/html"}, b"<h1>Not found</h1>"

    def pay(self, tracking, outcome="complete", **overrides):
        """The payer pays (``complete``) or fails (``fail``) on the hosted page; the IPN is
        sent as ``ipn_mode`` says; returns the browser's callback URL. ``overrides``: keys of
        the status answer (amount, currency) to report otherwise."""
        order = self.orders[tracking]
        with self.lock:
            number = len(self.requests)
            if outcome == "complete":
                order.update(
                    status_code=1,
                    confirmation_code=f"PSP{number:010d}",
                    payment_method="MpesaKE",
                    reason="Payment processed successfully",
                )
            else:
                order.update(status_code=2, payment_method="Visa", reason="Insufficient funds")
            order["overrides"] = overrides
        self.notify(tracking)
        return self.callback_url(tracking)

    def reverse(self, tracking):
        """Pesapal reverses a completed payment (status 3) and notifies."""
        self.orders[tracking]["status_code"] = 3
        self.notify(tracking)

    def callback_url(self, tracking):
        order = self.orders[tracking]
        query = urlencode(
            {
                "OrderTrackingId": tracking,
                "OrderMerchantReference": order["id"],
                "OrderNotificationType": "CALLBACKURL",
            }
        )
        return f"{order['callback_url']}?{query}"

    def notify(self, tracking, method=None, repeat=None):
        """Send the order's IPN to its registered URL (its registered method unless
        ``method``), as ``ipn_mode`` says unless ``repeat``; returns the responses."""
        if repeat is None:
            repeat = {"once": 1, "duplicate": self.ipn_repeat, "lost": 0}[self.ipn_mode]
        order = self.orders[tracking]
        ipn = self.ipns[order["ipn_id"]]
        method = method or ipn["ipn_notification_type_description"]
        payload = {
            "OrderNotificationType": "IPNCHANGE",
            "OrderTrackingId": tracking,
            "OrderMerchantReference": order["id"],
        }
        expected = {
            "orderNotificationType": "IPNCHANGE",
            "orderTrackingId": tracking,
            "orderMerchantReference": order["id"],
            "status": 200,
        }
        responses = []
        for _i in range(repeat):
            if method == "GET":
                response = requests.get(ipn["url"], params=payload, timeout=60)
            else:
                response = requests.post(ipn["url"], json=payload, timeout=60)
            try:
                answer = response.json()
            except ValueError:
                answer = response.text[:500]
            self.ipn_sent.append(
                (method, ipn["url"], response.status_code, answer, answer == expected)
            )
            responses.append(response)
        return responses
