"""A NAS's dynamic authorization server (RFC 5176) on a free loopback UDP port, for the tests:
it receives Disconnect-Requests and CoA-Requests as a router's `/radius incoming` would.

Strict, as a NAS is (RFC 5176 section 3.3 and 3.5):
- a request whose Request Authenticator is not MD5(Code + Identifier + Length + 16 zero octets
  + Attributes + Secret) is silently discarded (a wrong secret gets no answer);
- a request with an Event-Timestamp outside the replay window (300 s) is silently discarded;
- a packet of another code (not 40 / 43) is discarded;
- a request without User-Name or Acct-Session-Id is refused: NAK with Error-Cause 402
  Missing-Attribute (the reference is silent on what RouterOS needs to find a session: this
  listener needs both, as the suite always sends both);
- a session it does not have (User-Name + Acct-Session-Id) is refused: NAK with Error-Cause
  503 Session-Context-Not-Found;
- a session it has: ACK; a Disconnect ends the session (a second Disconnect of it gets 503),
  a CoA records the new rate attributes for the session.

Modes for the failure tests: ``silent`` (receives and records, never answers), ``nak``
(refuses everything with ``nak_cause``), ``bad_authenticator`` (answers, but signs the answer
with another secret: the client must ignore it). ``delay`` seconds before each answer.
"""

import socket
import threading
import time

from pyrad import packet

from .. import coa

REPLAY_WINDOW = 300
CODES = (coa.DISCONNECT_REQUEST, coa.COA_REQUEST)
RATE_ATTRIBUTES = ("Mikrotik-Rate-Limit", "WISPr-Bandwidth-Max-Up", "WISPr-Bandwidth-Max-Down")


class NasListener:
    def __init__(self, secret, host="127.0.0.1"):
        self.secret = secret.encode()
        self.host = host
        self.port = None
        self.mode = "answer"
        self.nak_cause = 501  # Administratively-Prohibited
        self.delay = 0.0
        self.lock = threading.Lock()
        self.sessions = set()  # (User-Name, Acct-Session-Id) it has
        self.rates = {}  # session -> {rate attribute: value} of the last CoA it applied
        self.received = []  # valid requests: {"code", "attributes", "answer"}
        self.discarded = []  # (reason, raw bytes)
        self._socket = None
        self._thread = None
        self._stop = threading.Event()

    # ------------------------------------------------------------------ control

    def start(self):
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind((self.host, 0))
        self._socket.settimeout(0.05)
        self.port = self._socket.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, name="nas-listener", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        if self._socket:
            self._socket.close()

    def add_session(self, username, acct_session_id):
        with self.lock:
            self.sessions.add((username, acct_session_id))

    def requests(self, code=None):
        with self.lock:
            return [r for r in self.received if code is None or r["code"] == code]

    # ------------------------------------------------------------------ serving

    def _serve(self):
        while not self._stop.is_set():
            try:
                data, address = self._socket.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            reply = self._handle(data)
            if reply is None:
                continue
            if self.delay:
                time.sleep(self.delay)
            try:
                self._socket.sendto(reply, address)
            except OSError:
                return

    def _discard(self, reason, data):
        with self.lock:
            self.discarded.append((reason, data))

    def _handle(self, data):
        try:
            request = packet.CoAPacket(packet=data, secret=self.secret, dict=coa.dictionary())
        except packet.PacketError:
            self._discard("malformed", data)
            return None
        if request.code not in CODES:
            self._discard("code", data)
            return None
        if not request.VerifyCoARequest():
            self._discard("authenticator", data)
            return None
        stamp = request.get("Event-Timestamp")
        if stamp and abs(time.time() - stamp[0]) > REPLAY_WINDOW:
            self._discard("replay", data)
            return None
        attributes = {name: request[name] for name in request.keys() if isinstance(name, str)}
        record = {"code": request.code, "attributes": attributes, "answer": None}
        with self.lock:
            self.received.append(record)
        if self.mode == "silent":
            return None
        reply = request.CreateReply()
        ack = request.code + 1
        nak = request.code + 2
        username = (attributes.get("User-Name") or [None])[0]
        session_id = (attributes.get("Acct-Session-Id") or [None])[0]
        session = (username, session_id)
        with self.lock:
            if self.mode == "nak":
                reply.code, cause = nak, self.nak_cause
            elif not (username and session_id):
                reply.code, cause = nak, 402
            elif session not in self.sessions:
                reply.code, cause = nak, coa.SESSION_CONTEXT_NOT_FOUND
            else:
                reply.code, cause = ack, None
                if request.code == coa.DISCONNECT_REQUEST:
                    self.sessions.discard(session)
                else:
                    self.rates[session] = {
                        name: attributes[name][0] for name in RATE_ATTRIBUTES if name in attributes
                    }
            record["answer"] = (reply.code, cause)
        if cause:
            reply["Error-Cause"] = cause
        if self.mode == "bad_authenticator":
            reply.secret = b"not-the-shared-secret"
        return reply.ReplyPacket()
