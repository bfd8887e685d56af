"""Loopback simulators of NextSMS and Africa's Talking, at least as strict as the services
(../shared/reference/payment-and-sms-apis.md): they check authentication, content types and
fields, answer the documented bodies, and can reject numbers, answer HTTP 5xx or stall past
the client's timeout on demand. Used by the tests and by bench/bench_sms.py.

    with NextSmsSimulator(username="u", password="p", senders={"KITONGA"}) as sim:
        sim.url  # base URL for the gateway
        sim.fail_next("http503")  # next request answers HTTP 503 (or "timeout")
        sim.reject["255700000014"] = "REJECTED_DESTINATION"
        sim.accepted  # [{"to", "text", "from", "messageId", "test"}]
"""

import base64
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

NEXTSMS_REJECTIONS = {
    "REJECTED_NETWORK": 6,
    "REJECTED_PREFIX_MISSING": 8,
    "REJECTED_DND": 10,
    "REJECTED_NOT_ENOUGH_CREDITS": 12,
    "REJECTED_SENDER": 13,
    "REJECTED_DESTINATION": 14,
    "REJECTED_FLOODING_FILTER": 20,
    "REJECTED_SYSTEM_ERROR": 21,
    "REJECTED_MESSAGE_TOO_LONG": 25,
    "MISSING_TO": 51,
    "REJECTED_INVALID_DESTINATION": 52,
}
AT_REJECTIONS = {
    401: "RiskHold",
    402: "InvalidSenderId",
    403: "InvalidPhoneNumber",
    404: "UnsupportedNumberType",
    405: "InsufficientBalance",
    406: "UserInBlacklist",
    407: "CouldNotRoute",
    500: "InternalServerError",
    501: "GatewayError",
    502: "RejectedByGateway",
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # a client that gave up (timeout test) closes the socket: not an error here
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    sim = None

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def _reply(self, status, body, content_type="application/json"):
        if isinstance(body, bytes):
            data = body
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self, method):
        sim = self.sim
        body = self._body()
        with sim.lock:
            sim.requests.append(
                {"method": method, "path": self.path, "headers": dict(self.headers)}
            )
            failure = sim.failures.pop(0) if sim.failures else None
        if failure == "timeout":
            time.sleep(sim.stall_seconds)
            return self._reply(504, {"error": "stalled"})
        if failure and failure.startswith("http"):
            return self._reply(int(failure[4:]), "<html>Service Unavailable</html>", "text/html")
        status, reply = sim.handle(method, self, body)
        if isinstance(reply, str):
            return self._reply(status, reply, "text/plain")
        return self._reply(status, reply)

    def do_POST(self):
        self._handle("POST")

    def do_GET(self):
        self._handle("GET")


class _Simulator:
    def __init__(self, stall_seconds=2.0):
        self.lock = threading.Lock()
        self.requests = []
        self.accepted = []
        self.failures = []
        self.reject = {}
        self.stall_seconds = stall_seconds
        handler = type("Handler", (_Handler,), {"sim": self})
        self.server = _Server(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail_next(self, *failures):
        """Queue failures for the next requests: "http500", "http503", "timeout"."""
        with self.lock:
            self.failures.extend(failures)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class NextSmsSimulator(_Simulator):
    SINGLE = "/api/sms/v1/text/single"
    TEST_SINGLE = "/api/sms/v1/test/text/single"
    MULTI = "/api/sms/v1/text/multi"
    REPORTS = "/api/sms/v1/reports"
    BALANCE = "/api/sms/v1/balance"

    def __init__(
        self, username="isp", password="secret", senders=("KITONGA",), credits=10**9, **kw
    ):
        super().__init__(**kw)
        self.username = username
        self.password = password
        self.senders = set(senders)
        self.credits = credits
        self.reports = {}  # messageId -> status dict (default: PENDING)

    def _authorized(self, handler):
        expected = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return handler.headers.get("Authorization") == f"Basic {expected}"

    def handle(self, method, handler, body):
        if not self._authorized(handler):
            return 401, {"error": "Unauthorized", "message": "Invalid username or password"}
        path = urlsplit(handler.path).path
        if method == "GET" and path == self.BALANCE:
            return 200, {"sms_balance": self.credits}
        if method == "GET" and path == self.REPORTS:
            query = parse_qs(urlsplit(handler.path).query)
            ids = query.get("messageId") or []
            if not ids:
                return 400, {"error": "messageId or sentSince is required"}
            results = [
                {
                    "messageId": mid,
                    "to": next((a["to"] for a in self.accepted if a["messageId"] == mid), ""),
                    "status": self.reports.get(
                        mid,
                        {
                            "groupId": 1,
                            "groupName": "PENDING",
                            "id": 7,
                            "name": "PENDING_ENROUTE",
                            "description": "Message sent to next instance",
                        },
                    ),
                }
                for mid in ids
            ]
            return 200, {"results": results}
        if method != "POST" or path not in (self.SINGLE, self.TEST_SINGLE, self.MULTI):
            return 404, {"error": "Not found"}
        if not (handler.headers.get("Content-Type") or "").startswith("application/json"):
            return 415, {"error": "Content-Type must be application/json"}
        if "application/json" not in (handler.headers.get("Accept") or ""):
            return 406, {"error": "Accept must be application/json"}
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            return 400, {"error": "Malformed JSON"}
        if not isinstance(payload, dict):
            return 400, {"error": "Malformed JSON"}
        if path == self.MULTI:
            entries = payload.get("messages")
            if not isinstance(entries, list) or not entries:
                return 400, {"error": "messages is required"}
        else:
            entries = [payload]
        replies = []
        for entry in entries:
            if not isinstance(entry, dict) or not entry.get("text") or "from" not in entry:
                return 400, {"error": "from and text are required"}
            to = entry.get("to")
            numbers = to if isinstance(to, list) else [to]
            for number in numbers:
                replies.append(self._one(entry, number, test=path == self.TEST_SINGLE))
        return 200, {"messages": replies}

    def _status(self, name):
        if name == "PENDING":
            return {
                "groupId": 1,
                "groupName": "PENDING",
                "id": 7,
                "name": "PENDING_ENROUTE",
                "description": "Message sent to next instance",
            }
        return {
            "groupId": 5,
            "groupName": "REJECTED",
            "id": NEXTSMS_REJECTIONS[name],
            "name": name,
            "description": name.replace("_", " ").capitalize(),
        }

    def _one(self, entry, number, test):
        number = str(number or "")
        with self.lock:
            if not number:
                name = "MISSING_TO"
            elif not number.isdigit() or not number.startswith("255"):
                name = "REJECTED_PREFIX_MISSING"
            elif len(number) != 12:
                name = "REJECTED_INVALID_DESTINATION"
            elif entry.get("from") not in self.senders:
                name = "REJECTED_SENDER"
            elif number in self.reject:
                name = self.reject[number]
            elif self.credits <= 0:
                name = "REJECTED_NOT_ENOUGH_CREDITS"
            else:
                name = "PENDING"
            reply = {"to": number, "status": self._status(name), "smsCount": 1}
            if name == "PENDING":
                message_id = uuid.uuid4().hex
                reply["messageId"] = message_id
                if not test:
                    self.credits -= 1
                self.accepted.append(
                    {
                        "to": number,
                        "text": entry["text"],
                        "from": entry["from"],
                        "messageId": message_id,
                        "test": test,
                    }
                )
        return reply


class AfricasTalkingSimulator(_Simulator):
    PATH = "/version1/messaging"

    def __init__(self, username="sandbox", api_key="at-key", senders=("KITONGA",), **kw):
        super().__init__(**kw)
        self.username = username
        self.api_key = api_key
        self.senders = set(senders)

    def handle(self, method, handler, body):
        if urlsplit(handler.path).path != self.PATH or method != "POST":
            return 404, "Not Found"
        if handler.headers.get("apiKey") != self.api_key:
            return 401, "The supplied authentication is invalid"
        if "application/json" not in (handler.headers.get("Accept") or ""):
            return 406, "Accept must be application/json"
        content_type = handler.headers.get("Content-Type") or ""
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return 415, "Request must be form-encoded"
        form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        if form.get("username") != self.username:
            return 401, "The supplied authentication is invalid"
        if not form.get("to") or not form.get("message"):
            return 400, "Missing required fields: to, message"
        sender = form.get("from")
        recipients = []
        for number in form["to"].split(","):
            number = number.strip()
            with self.lock:
                if sender is not None and sender not in self.senders:
                    code = 402
                elif not number.startswith("+") or not number[1:].isdigit():
                    code = 403
                else:
                    code = self.reject.get(number, 101)
                recipient = {
                    "statusCode": code,
                    "number": number,
                    "status": "Success" if code == 101 else AT_REJECTIONS[code],
                    "cost": "TZS 20.0000" if code == 101 else "0",
                    "messageId": f"ATXid_{uuid.uuid4().hex}" if code == 101 else "None",
                }
                if code == 101:
                    self.accepted.append(
                        {
                            "to": number,
                            "text": form["message"],
                            "from": sender,
                            "messageId": recipient["messageId"],
                        }
                    )
            recipients.append(recipient)
        sent = sum(1 for r in recipients if r["statusCode"] == 101)
        return 201, {
            "SMSMessageData": {
                "Message": f"Sent to {sent}/{len(recipients)} Total Cost: TZS {20 * sent}.0000",
                "Recipients": recipients,
            }
        }
