"""A RouterOS API server on loopback, written to the suite's reference (routeros.md), for tests
and the benchmark. The real client library (librouteros) talks to it unmodified.

What it speaks:

- words with 1 to 4 length bytes (and the 5-byte 0xF0 form when reading), sentences ended by
  an empty word;
- both login flows: ``/login =name= =password=`` (RouterOS >= 6.43) and the challenge flow
  (``/login`` → ``!done =ret=<challenge>``, then ``/login =name= =response=00<md5>``);
- replies ``!re``, ``!done`` (always last; ``=ret=`` after an add), ``!trap`` (``message`` and
  ``category`` only, always followed by ``!done``), ``!fatal`` (then the connection is closed),
  ``!empty`` before ``!done`` when a print finds nothing (RouterOS 7.18+, ``empty_reply``);
- ``.tag`` echoed on every reply to a sentence that carried one, never otherwise;
- ``print`` with ``=.proplist=`` and queries (``?name``, ``?-name``, ``?name=x``, ``?=name=x``,
  ``?<name=x``, ``?>name=x``, ``?#`` with ``!``, ``&``, ``|``, ``.``), ``add``, ``set``,
  ``remove`` on the menus the suite uses; ``/ip/hotspot/active/login`` and ``remove``;
  ``/system/resource`` and ``/system/identity``;
- ``/interface``: the router's own ports, and one dynamic ``pppoe-in`` interface
  ``<pppoe-USER>`` per ``/ppp/active`` connection carrying its ``rx-byte``/``tx-byte``
  counters (from the router's side: rx is what the client uploaded); it goes away with the
  connection, and a reconnection gets a new one with fresh counters.

Strict like the router: each menu's add and set accept only the properties routeros.md lists
for it (``unknown parameter <name>``, category 1, otherwise: a hotspot user profile or a PPP
profile has no ``comment``); a user or secret naming a profile (or a hotspot server) that does
not exist is refused with ``input does not match any value of profile``; enumerated values,
numbers, booleans (``yes``/``no`` in, ``true``/``false`` out) and time intervals are checked;
menus the reference gives no properties for are read-only. ``/ip/hotspot/active/login`` takes
``user``, ``password``, ``ip``, ``mac-address`` and holds the profile's ``shared-users``.

Fault injection (attributes of :class:`RouterOSSimulator`): ``refuse`` (the port is closed:
connection refused), ``password`` (a wrong one gives the RouterOS trap), ``drop_after`` (the
connection is cut in the middle of the reply to the n-th sentence), ``delay`` (seconds before
each reply), ``trap_on_add`` (names whose add is refused with a trap), ``fatal_after``.

Every sentence received is counted in ``sentences`` and writes (add, set, remove, login of a
client) in ``writes``.
"""

import contextlib
import hashlib
import itertools
import re
import secrets
import socket
import socketserver
import threading
import time

# ---------------------------------------------------------------- wire format


def encode_length(length):
    if length < 0x80:
        return length.to_bytes(1, "big")
    if length < 0x4000:
        return (length | 0x8000).to_bytes(2, "big")
    if length < 0x200000:
        return (length | 0xC00000).to_bytes(3, "big")
    if length < 0x10000000:
        return (length | 0xE0000000).to_bytes(4, "big")
    return b"\xf0" + length.to_bytes(4, "big")


def encode_word(word):
    data = word.encode("utf-8")
    return encode_length(len(data)) + data


def encode_sentence(words):
    return b"".join(encode_word(word) for word in words) + b"\x00"


def _read_exact(sock, count):
    data = bytearray()
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("client closed the connection")
        data += chunk
    return bytes(data)


def read_length(sock):
    first = _read_exact(sock, 1)[0]
    if first < 0x80:
        return first
    if first < 0xC0:
        return ((first & 0x3F) << 8) | _read_exact(sock, 1)[0]
    if first < 0xE0:
        rest = _read_exact(sock, 2)
        return ((first & 0x1F) << 16) | int.from_bytes(rest, "big")
    if first < 0xF0:
        rest = _read_exact(sock, 3)
        return ((first & 0x0F) << 24) | int.from_bytes(rest, "big")
    if first == 0xF0:
        return int.from_bytes(_read_exact(sock, 4), "big")
    raise ConnectionError(f"bad control byte {first:#x}")


def read_sentence(sock):
    words = []
    while True:
        length = read_length(sock)
        if not length:
            return words
        words.append(_read_exact(sock, length).decode("utf-8", errors="replace"))


# ---------------------------------------------------------------- values

TIME_UNITS = (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def format_duration(seconds):
    """RouterOS' own way of printing a time interval: 1w2d3h4m5s, 0s."""
    seconds = int(seconds)
    if not seconds:
        return "0s"
    parts = []
    for unit, size in TIME_UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def parse_duration(text):
    """'1d2h', '01:02:03', '1w2d03:04:05', '90' (seconds) → seconds."""
    text = str(text).strip()
    if not text:
        return 0
    total = 0
    clock = re.search(r"(\d+):(\d+):(\d+)$", text)
    if clock:
        total += int(clock[1]) * 3600 + int(clock[2]) * 60 + int(clock[3])
        text = text[: clock.start()]
    if text.isdigit():
        return total + int(text)
    units = dict(TIME_UNITS)
    for count, unit in re.findall(r"(\d+)([wdhms])", text):
        total += int(count) * units[unit]
    return total


class Trap(Exception):
    def __init__(self, message, category=None):
        super().__init__(message)
        self.message = message
        self.category = category


class Fatal(Exception):
    pass


class Menu:
    """One RouterOS menu: rows of printed properties (strings), with RouterOS' defaults.

    ``props`` is the menu's allow-list: the only properties an add or set may carry (any
    other, read-only ones included, is refused as the router does: ``unknown parameter``).
    ``enums`` restricts values, ``integers`` wants numbers, ``refs`` names the menu another
    object must exist in (a user's profile, its server)."""

    def __init__(
        self,
        path,
        *,
        key=None,
        props=(),
        defaults=None,
        booleans=(),
        durations=(),
        integers=(),
        enums=None,
        refs=None,
        readonly=(),
        duplicate=None,
        scope=(),
        writable=True,
    ):
        self.path = path
        self.key = key
        self.props = set(props)
        self.defaults = defaults or {}
        self.booleans = set(booleans)
        self.durations = set(durations)
        self.integers = set(integers)
        self.enums = enums or {}
        self.refs = refs or {}  # prop -> (menu path, values accepted without an object)
        self.readonly = set(readonly)
        self.duplicate = duplicate
        self.scope = scope  # properties that, with key, must be unique (e.g. user per server)
        self.writable = writable
        self.rows = {}  # .id -> {prop: text}

    def check_prop(self, prop):
        if prop not in self.props:
            raise Trap(f"unknown parameter {prop}", 1)

    def normalize(self, prop, value):
        if prop in self.enums and value not in self.enums[prop]:
            raise Trap(f"input does not match any value of {prop}", 1)
        if prop in self.integers and not re.fullmatch(r"\d+", value):
            raise Trap(f"value of {prop} must be a number", 1)
        if prop in self.booleans:
            if value in ("yes", "true"):
                return "true"
            if value in ("no", "false"):
                return "false"
            raise Trap(f"value of {prop} must be yes or no", 1)
        if prop in self.durations:
            if value in ("", "none"):
                return ""
            if not re.fullmatch(r"[\dwdhms:]+", value):
                raise Trap(f"value of {prop} is not a time interval", 1)
            return format_duration(parse_duration(value))
        return value


def _menus():
    """The menus the suite uses, each accepting on add / set exactly the properties routeros.md
    lists for it. Where the reference lists no properties (``/ip/hotspot``, ``/interface``,
    ``/ip/hotspot/host``, the active lists) the menu is read-only here: strict by default, so
    that a client writing something the reference does not vouch for fails in the tests."""
    hotspot_user = Menu(
        "/ip/hotspot/user",
        key="name",
        scope=("server",),
        props=(
            "name",
            "password",
            "profile",
            "server",
            "mac-address",
            "limit-uptime",
            "limit-bytes-in",
            "limit-bytes-out",
            "limit-bytes-total",
            "comment",
            "disabled",
        ),
        defaults={
            "server": "all",
            "profile": "default",
            "uptime": "0s",
            "bytes-in": "0",
            "bytes-out": "0",
            "packets-in": "0",
            "packets-out": "0",
            "disabled": "false",
            "dynamic": "false",
        },
        booleans=("disabled",),
        durations=("limit-uptime", "uptime"),
        integers=("limit-bytes-in", "limit-bytes-out", "limit-bytes-total"),
        refs={"profile": ("/ip/hotspot/user/profile", ()), "server": ("/ip/hotspot", ("all",))},
        readonly=("uptime", "bytes-in", "bytes-out", "packets-in", "packets-out", "dynamic"),
        duplicate="failure: already have user with this name for this server",
    )
    # no comment on hotspot user profiles (RouterOS has none: tools tag them by name)
    hotspot_profile = Menu(
        "/ip/hotspot/user/profile",
        key="name",
        props=(
            "name",
            "rate-limit",
            "shared-users",
            "session-timeout",
            "idle-timeout",
            "keepalive-timeout",
            "add-mac-cookie",
            "mac-cookie-timeout",
            "address-pool",
            "on-login",
        ),
        defaults={"shared-users": "1", "add-mac-cookie": "true", "default": "false"},
        booleans=("add-mac-cookie", "default"),
        durations=("session-timeout", "idle-timeout", "keepalive-timeout", "mac-cookie-timeout"),
        integers=("shared-users",),
        readonly=("default",),
        duplicate="failure: profile with the same name already exists",
    )
    ppp_secret = Menu(
        "/ppp/secret",
        key="name",
        props=(
            "name",
            "password",
            "service",
            "profile",
            "remote-address",
            "caller-id",
            "comment",
            "disabled",
        ),
        defaults={"service": "any", "profile": "default", "disabled": "false"},
        booleans=("disabled",),
        refs={"profile": ("/ppp/profile", ())},
        duplicate="failure: secret with the same name already exists",
    )
    # no comment on PPP profiles either
    ppp_profile = Menu(
        "/ppp/profile",
        key="name",
        props=(
            "name",
            "rate-limit",
            "local-address",
            "remote-address",
            "only-one",
            "session-timeout",
        ),
        defaults={"only-one": "default", "default": "false"},
        booleans=("default",),
        durations=("session-timeout",),
        enums={"only-one": ("yes", "no", "default")},
        readonly=("default",),
        duplicate="failure: profile with the same name already exists",
    )
    hotspot_active = Menu(
        "/ip/hotspot/active",
        durations=("uptime", "session-time-left"),
        writable=False,
    )
    ppp_active = Menu("/ppp/active", durations=("uptime",), writable=False)
    walled = Menu(
        "/ip/hotspot/walled-garden",
        props=("dst-host", "path", "action", "comment"),
        defaults={"action": "allow", "disabled": "false"},
        enums={"action": ("allow", "deny")},
    )
    # the reference lists no comment for walled-garden/ip
    walled_ip = Menu(
        "/ip/hotspot/walled-garden/ip",
        props=("dst-host", "dst-address", "protocol", "dst-port", "action"),
        defaults={"action": "accept", "disabled": "false"},
        enums={"action": ("accept",)},
    )
    binding = Menu(
        "/ip/hotspot/ip-binding",
        props=("mac-address", "address", "type", "comment"),
        defaults={"type": "regular", "disabled": "false"},
        enums={"type": ("regular", "bypassed", "blocked")},
    )
    host = Menu("/ip/hotspot/host", writable=False)
    interface = Menu(
        "/interface",
        key="name",
        defaults={
            "running": "true",
            "disabled": "false",
            "dynamic": "false",
            "rx-byte": "0",
            "tx-byte": "0",
        },
        booleans=("running", "disabled", "dynamic"),
        writable=False,
    )
    hotspot = Menu("/ip/hotspot", key="name", writable=False)
    menus = [
        hotspot_user,
        hotspot_profile,
        ppp_secret,
        ppp_profile,
        hotspot_active,
        ppp_active,
        walled,
        walled_ip,
        binding,
        host,
        interface,
        hotspot,
    ]
    return {menu.path: menu for menu in menus}


# ---------------------------------------------------------------- the router


class RouterOSSimulator:
    """A router: its menus, credentials, faults and counters, served on 127.0.0.1."""

    def __init__(
        self,
        username="isp-billing",
        password="secret",
        *,
        version="7.16 (stable)",
        board="hAP ax^2",
        identity="SimRouter",
        empty_reply=False,
    ):
        self.username = username
        self.password = password
        self.version = version
        self.board = board
        self.identity = identity
        self.empty_reply = empty_reply
        self.menus = _menus()
        self.lock = threading.RLock()
        self._ids = itertools.count(1)
        self._ppp_interfaces = {}  # /ppp/active .id -> its dynamic /interface .id
        self.started = time.monotonic()
        # faults
        self.refuse = False
        self.delay = 0.0
        self.drop_after = None  # cut the reply to the n-th sentence of each connection
        self.fatal_after = None
        self.trap_on_add = set()
        # counters
        self.sentences = 0
        self.writes = 0
        self.commands = []
        self.record_commands = False
        self.connections = 0
        self._server = None
        self._thread = None
        self.port = None
        with self.lock:
            for menu in ("/ip/hotspot/user/profile", "/ppp/profile"):
                self._insert(menu, {"name": "default", "default": "true"})
            self._insert("/ip/hotspot", {"name": "hotspot1", "interface": "bridge"})
            self._insert("/interface", {"name": "ether1", "type": "ether"})
            self._insert("/interface", {"name": "bridge", "type": "bridge"})

    # -------------------------------------------------------------- server

    def start(self, port=0):
        simulator = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                simulator._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def set_refuse(self, refuse):
        """Close (or reopen, on the same port) the listening socket: connection refused."""
        if refuse and self._server:
            port = self.port
            self.stop()
            self.port = port
        elif not refuse and not self._server:
            self.start(self.port)
        self.refuse = refuse

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def reset_counters(self):
        with self.lock:
            self.sentences = 0
            self.writes = 0
            self.commands = []

    # -------------------------------------------------------------- data helpers

    def _insert(self, path, props):
        menu = self.menus[path]
        row_id = f"*{next(self._ids):X}"
        row = dict(menu.defaults)
        row.update(props)
        row[".id"] = row_id
        menu.rows[row_id] = row
        return row_id

    def rows(self, path):
        with self.lock:
            return [dict(row) for row in self.menus[path].rows.values()]

    def find(self, path, **props):
        return [row for row in self.rows(path) if all(row.get(k) == v for k, v in props.items())]

    def add_row(self, path, **props):
        """Put an object on the router directly, as an operator would (not counted). The
        router's rules apply: what an API add would refuse raises :class:`Trap`."""
        with self.lock:
            menu = self.menus[path]
            clean = self._values(menu, {k.replace("_", "-"): str(v) for k, v in props.items()})
            self._check_refs(menu, clean)
            self._check_unique(menu, clean)
            return self._insert(path, clean)

    def connect_client(self, user, ip, mac, bytes_in=0, bytes_out=0, service="hotspot"):
        """A client comes online (login from its browser or PPPoE dial-in)."""
        with self.lock:
            if service == "pppoe":
                row_id = self._insert(
                    "/ppp/active",
                    {
                        "name": user,
                        "service": "pppoe",
                        "caller-id": mac,
                        "address": ip,
                        "uptime": "1m",
                    },
                )
                names = {row["name"] for row in self.menus["/interface"].rows.values()}
                name = f"<pppoe-{user}>"
                suffix = itertools.count(1)
                while name in names:
                    name = f"<pppoe-{user}-{next(suffix)}>"
                self._ppp_interfaces[row_id] = self._insert(
                    "/interface",
                    {
                        "name": name,
                        "type": "pppoe-in",
                        "dynamic": "true",
                        "rx-byte": str(bytes_in),
                        "tx-byte": str(bytes_out),
                    },
                )
                return row_id
            return self._insert(
                "/ip/hotspot/active",
                {
                    "user": user,
                    "address": ip,
                    "mac-address": mac,
                    "uptime": "1m",
                    "bytes-in": str(bytes_in),
                    "bytes-out": str(bytes_out),
                    "login-by": "http-chap",
                    "server": "hotspot1",
                },
            )

    def set_traffic(self, row_id, bytes_in, bytes_out):
        """Set a session's counters (bytes_in = what the client uploaded): a hotspot active
        entry's, or the dynamic interface's of a PPPoE connection."""
        with self.lock:
            if row_id in self._ppp_interfaces:
                row = self.menus["/interface"].rows[self._ppp_interfaces[row_id]]
                row["rx-byte"], row["tx-byte"] = str(bytes_in), str(bytes_out)
                return
            row = self.menus["/ip/hotspot/active"].rows[row_id]
            row["bytes-in"], row["bytes-out"] = str(bytes_in), str(bytes_out)

    def disconnect_client(self, row_id):
        """A client goes offline by itself (a PPPoE connection's interface goes with it)."""
        with self.lock:
            for menu in ("/ip/hotspot/active", "/ppp/active"):
                self.menus[menu].rows.pop(row_id, None)
            self._ppp_disconnected(row_id)

    def _ppp_disconnected(self, row_id):
        interface_id = self._ppp_interfaces.pop(row_id, None)
        if interface_id:
            self.menus["/interface"].rows.pop(interface_id, None)

    # -------------------------------------------------------------- connection

    def _serve(self, sock):
        with self.lock:
            self.connections += 1
        state = {"logged_in": False, "challenge": None, "count": 0}
        try:
            while True:
                words = read_sentence(sock)
                if not words:
                    continue
                state["count"] += 1
                with self.lock:
                    self.sentences += 1
                    if self.record_commands:
                        self.commands.append(tuple(words))
                if self.delay:
                    time.sleep(self.delay)
                tag = next((w[5:] for w in words[1:] if w.startswith(".tag=")), None)
                try:
                    if self.fatal_after and state["count"] >= self.fatal_after:
                        raise Fatal("session terminated on request")
                    replies = self._dispatch(words, state)
                except Trap as trap:
                    reply = ["!trap", f"=message={trap.message}"]
                    if trap.category is not None:
                        reply.append(f"=category={trap.category}")
                    replies = [reply, ["!done"]]
                except Fatal as fatal:
                    sock.sendall(encode_sentence(["!fatal", str(fatal)]))
                    return
                if tag is not None:
                    replies = [reply + [f".tag={tag}"] for reply in replies]
                data = b"".join(encode_sentence(reply) for reply in replies)
                if self.drop_after and state["count"] >= self.drop_after:
                    # the reply is cut in the middle of a sentence, then the line goes down
                    sock.sendall(data[: max(len(data) // 2, 2)])
                    return
                sock.sendall(data)
        except (ConnectionError, OSError):
            return
        finally:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    @staticmethod
    def _parse_words(words):
        attrs, queries, proplist = {}, [], None
        for word in words:
            if word.startswith("=.proplist="):
                proplist = [p for p in word[len("=.proplist=") :].split(",") if p]
            elif word.startswith("="):
                name, _sep, value = word[1:].partition("=")
                attrs[name] = value
            elif word.startswith("?"):
                queries.append(word)
            elif word.startswith(".tag="):
                continue
            else:
                raise Trap(f"unknown word {word!r}", 5)
        return attrs, queries, proplist

    def _dispatch(self, words, state):
        command = words[0]
        attrs, queries, proplist = self._parse_words(words[1:])
        if command == "/login":
            return self._login(attrs, state)
        if command == "/quit":
            raise Fatal("session terminated on request")
        if not state["logged_in"]:
            raise Trap("not logged in", 5)
        with self.lock:
            if command in ("/system/resource/print", "/system/identity/print"):
                return self._system(command, proplist)
            path, _slash, verb = command.rpartition("/")
            if path == "/ip/hotspot/active" and verb == "login":
                return self._hotspot_login(attrs)
            menu = self.menus.get(path)
            if menu is None:
                raise Trap("no such command prefix", 0)
            if queries and verb != "print":
                raise Trap("queries are allowed with print only", 5)
            if verb == "print":
                return self._print(menu, proplist, queries)
            if verb == "add" and menu.writable:
                return self._add(menu, attrs)
            if verb == "set" and menu.writable:
                return self._set(menu, attrs)
            if verb == "remove":
                return self._remove(menu, attrs)
            raise Trap("no such command", 0)

    def _login(self, attrs, state):
        if "name" not in attrs:
            state["challenge"] = secrets.token_bytes(16)
            return [["!done", f"=ret={state['challenge'].hex()}"]]
        if "response" in attrs and state["challenge"] is not None:
            digest = hashlib.md5(
                b"\x00" + self.password.encode() + state["challenge"], usedforsecurity=False
            ).hexdigest()
            ok = attrs["name"] == self.username and attrs["response"] == "00" + digest
        else:
            ok = attrs["name"] == self.username and attrs.get("password") == self.password
        if not ok:
            raise Trap("invalid user name or password (6)")
        state["logged_in"] = True
        return [["!done"]]

    def _system(self, command, proplist):
        if command == "/system/identity/print":
            row = {"name": self.identity}
        else:
            row = {
                "uptime": format_duration(time.monotonic() - self.started + 3600),
                "version": self.version,
                "build-time": "2024-09-20 13:00:27",
                "free-memory": str(180 * 1024 * 1024),
                "total-memory": str(256 * 1024 * 1024),
                "cpu": "ARM64",
                "cpu-count": "4",
                "cpu-load": "7",
                "free-hdd-space": str(90 * 1024 * 1024),
                "total-hdd-space": str(128 * 1024 * 1024),
                "architecture-name": "arm64",
                "board-name": self.board,
                "platform": "MikroTik",
            }
        return [["!re", *self._words(row, proplist)], ["!done"]]

    @staticmethod
    def _words(row, proplist):
        keys = proplist if proplist is not None else list(row)
        return [f"={key}={row[key]}" for key in keys if key in row]

    # -------------------------------------------------------------- queries

    @staticmethod
    def _compare(actual, expected, op):
        if actual is None:
            return False
        if op == "=":  # booleans print as true/false and are asked for as yes/no too
            return actual in (expected, {"yes": "true", "no": "false"}.get(expected))
        try:
            left, right = int(actual), int(expected)
        except ValueError:
            left, right = actual, expected
        return left < right if op == "<" else left > right

    def _match(self, row, queries):
        stack = []
        for query in queries:
            body = query[1:]
            if body.startswith("#"):
                for op in body[1:]:
                    if op == "!":
                        stack.append(not stack.pop())
                    elif op in "&|":
                        if len(stack) < 2:
                            raise Trap("invalid query", 5)
                        right, left = stack.pop(), stack.pop()
                        stack.append(left and right if op == "&" else left or right)
                    elif op == ".":
                        stack.append(stack[-1])
                    elif op.isdigit():
                        stack.append(stack[-1 - int(op)])
                    else:
                        raise Trap("invalid query operation", 5)
                continue
            if body.startswith("-"):
                stack.append(body[1:] not in row)
                continue
            op = "="
            if body[:1] in "<>=":
                op, body = body[0], body[1:]
            name, sep, value = body.partition("=")
            if not sep:
                stack.append(name in row)
                continue
            stack.append(self._compare(row.get(name), value, op))
        return all(stack)

    # -------------------------------------------------------------- verbs

    def _print(self, menu, proplist, queries):
        replies = []
        for row in menu.rows.values():
            if queries and not self._match(row, queries):
                continue
            replies.append(["!re", *self._words(row, proplist)])
        if not replies and self.empty_reply:
            replies.append(["!empty"])
        return [*replies, ["!done"]]

    def _check_unique(self, menu, props, own_id=None):
        if not menu.key or menu.key not in props:
            return
        for row_id, row in menu.rows.items():
            if row_id == own_id or row.get(menu.key) != props[menu.key]:
                continue
            if all(row.get(s) == props.get(s, menu.defaults.get(s)) for s in menu.scope):
                raise Trap(menu.duplicate or "failure: item with such name already exists")

    @staticmethod
    def _values(menu, attrs):
        """The attributes of an add / set, each checked against the menu's allow-list and
        turned into its printed form ('' clears a property)."""
        values = {}
        for prop, value in attrs.items():
            menu.check_prop(prop)
            values[prop] = menu.normalize(prop, value)
        return values

    def _check_refs(self, menu, props):
        """A property naming another object (a user's profile, its server) must name one
        that exists: else RouterOS' "input does not match any value of <prop>"."""
        for prop, (path, free) in menu.refs.items():
            value = props.get(prop)
            if value is None or value in free:
                continue
            target = self.menus[path]
            if not any(row.get(target.key) == value for row in target.rows.values()):
                raise Trap(f"input does not match any value of {prop}", 1)

    def _add(self, menu, attrs):
        attrs.pop(".id", None)
        values = self._values(menu, attrs)
        if menu.key and not values.get(menu.key):
            raise Trap(f"failure: {menu.key} not set", 1)
        if menu.path == "/ip/hotspot/user" and values.get("name") in self.trap_on_add:
            raise Trap("failure: could not add user (injected fault)", 4)
        props = {prop: value for prop, value in values.items() if value != ""}
        self._check_refs(menu, props)
        self._check_unique(menu, props)
        self.writes += 1
        return [["!done", f"=ret={self._insert(menu.path, props)}"]]

    def _ids_of(self, menu, attrs):
        ids = [i for i in attrs.pop(".id", "").split(",") if i]
        if not ids:
            raise Trap("no such item", 0)
        for row_id in ids:
            if row_id not in menu.rows:
                raise Trap("no such item", 0)
        return ids

    def _set(self, menu, attrs):
        ids = self._ids_of(menu, attrs)
        changes = self._values(menu, attrs)
        self._check_refs(menu, {p: v for p, v in changes.items() if v != ""})
        for row_id in ids:
            row = menu.rows[row_id]
            self._check_unique(menu, {**row, **changes}, own_id=row_id)
            for prop, value in changes.items():
                if value == "":
                    row.pop(prop, None)
                else:
                    row[prop] = value
        self.writes += 1
        return [["!done"]]

    def _remove(self, menu, attrs):
        ids = self._ids_of(menu, attrs)
        for row_id in ids:
            if menu.rows[row_id].get("default") == "true":
                raise Trap("failure: default profile can not be removed", 4)
        for row_id in ids:
            del menu.rows[row_id]
            if menu.path == "/ppp/active":
                self._ppp_disconnected(row_id)
        self.writes += 1
        return [["!done"]]

    # /ip/hotspot/active/login takes these only (routeros.md, 3rd-party usage)
    HOTSPOT_LOGIN_PROPS = ("user", "password", "ip", "mac-address")

    def _hotspot_login(self, attrs):
        for prop in attrs:
            if prop not in self.HOTSPOT_LOGIN_PROPS:
                raise Trap(f"unknown parameter {prop}", 1)
        user = attrs.get("user")
        ip = attrs.get("ip")
        if not user or not ip:
            raise Trap("failure: user and ip must be given", 1)
        users = [
            row for row in self.menus["/ip/hotspot/user"].rows.values() if row.get("name") == user
        ]
        if (
            not users
            or users[0].get("disabled") == "true"
            or users[0].get("password", "") != attrs.get("password", "")
        ):
            raise Trap("invalid username or password", 4)
        active = self.menus["/ip/hotspot/active"].rows
        if any(row.get("address") == ip for row in active.values()):
            raise Trap("already logged in", 4)
        # the profile's shared-users is the number of devices at once; the refusal's text is
        # the hotspot's own (errors.txt "no-more-sessions-allowed"; routeros.md is silent)
        profile = next(
            (
                row
                for row in self.menus["/ip/hotspot/user/profile"].rows.values()
                if row.get("name") == users[0].get("profile", "default")
            ),
            {},
        )
        shared = int(profile.get("shared-users") or 1)
        if sum(row.get("user") == user for row in active.values()) >= shared:
            raise Trap("no more sessions are allowed for user", 4)
        self.writes += 1
        self._insert(
            "/ip/hotspot/active",
            {
                "user": user,
                "address": ip,
                "mac-address": attrs.get("mac-address", ""),
                "uptime": "0s",
                "bytes-in": "0",
                "bytes-out": "0",
                "login-by": "api",
                "server": "hotspot1",
            },
        )
        return [["!done"]]
