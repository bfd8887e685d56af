"""RouterOS API plumbing for the suite, independent of the ORM: connecting through librouteros
with a timeout, the comment tag of managed objects, RouterOS value formats and the diff that
turns (desired, actual) into the few writes a router needs.

Nothing here logs a password: connection errors are reported by host and port only.
"""

import logging
import re
import ssl
import time

import librouteros
from librouteros.exceptions import LibRouterosError, TrapError

_logger = logging.getLogger(__name__)


class SecretWordFilter(logging.Filter):
    """librouteros logs every API word at DEBUG (with Odoo's --log-level=debug too): the
    values of passwords (users', secrets', the API login's) and of the challenge login's
    response are masked."""

    SECRET = re.compile(r"(=(?:password|response)=)[^'\"]*")

    def filter(self, record):
        message = record.getMessage()
        if "=password=" in message or "=response=" in message:
            record.msg, record.args = self.SECRET.sub(r"\1***", message), ()
        return True


logging.getLogger("librouteros").addFilter(SecretWordFilter())

# Every user or secret the suite creates on a router carries this comment prefix; nothing
# without it is ever changed or removed.
TAG = "isp-billing"
USER_TAG = re.compile(r"^isp-billing:s(\d+)(?::p(\d+))?$")
# Profiles have no comment on RouterOS (/ip/hotspot/user/profile, /ppp/profile): the suite's
# are named with this reserved prefix and their bundle's id, "isp-billing-b12-daily-1gb".
# A profile whose name does not start so is never changed or removed.
PROFILE_PREFIX = "isp-billing-b"
PROFILE_NAME = re.compile(r"^isp-billing-b(\d+)(?:-[\w.\-]*)?$")
# A bundle's fair-use profile (the slower speed after the data cap): "isp-billing-b12-fair_use".
# The underscore never appears in a bundle profile's label (letters, digits, hyphens), so the
# name cannot be another bundle's profile; it carries the prefix, so the suite manages it.
FAIR_USE_SUFFIX = "-fair_use"
# The PPP profile of unpaid PPPoE customers (the pay-page redirect): made by the set-up script
# only (its address-list is not a property the suite writes over the API), never by the
# reconciler, which only moves secrets into it when it exists.
UNPAID_PROFILE = "isp-unpaid"

MIB = 1024 * 1024
TIME_UNITS = (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))

HOTSPOT_USER = ("ip", "hotspot", "user")
HOTSPOT_PROFILE = ("ip", "hotspot", "user", "profile")
HOTSPOT_ACTIVE = ("ip", "hotspot", "active")
PPP_SECRET = ("ppp", "secret")
PPP_PROFILE = ("ppp", "profile")
PPP_ACTIVE = ("ppp", "active")
INTERFACE = ("interface",)
# A PPPoE connection's byte counters live on the dynamic interface RouterOS makes for it
PPPOE_INTERFACE_TYPE = "pppoe-in"

# (users menu, profiles menu, active menu, user name property in active) per service
MENUS = {
    "hotspot": (HOTSPOT_USER, HOTSPOT_PROFILE, HOTSPOT_ACTIVE, "user"),
    "pppoe": (PPP_SECRET, PPP_PROFILE, PPP_ACTIVE, "name"),
}
# Properties the suite manages (and reads with .proplist), per menu
USER_PROPS = {
    "hotspot": (
        "name",
        "password",
        "profile",
        "server",
        "limit-uptime",
        "limit-bytes-total",
        "disabled",
        "comment",
    ),
    "pppoe": ("name", "password", "service", "profile", "disabled", "comment"),
}
PROFILE_PROPS = {
    "hotspot": ("name", "rate-limit", "shared-users", "session-timeout"),
    "pppoe": ("name", "rate-limit", "only-one", "session-timeout"),
}
DURATION_PROPS = {"limit-uptime", "session-timeout"}
INT_PROPS = {"limit-bytes-total", "shared-users"}


class RouterError(Exception):
    """A router could not be reached or refused the work; ``kind`` is one of
    'offline', 'auth' or 'trap'."""

    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind
        self.message = message


class TimeBoxExceeded(Exception):
    """The time given to one router is spent; the rest waits for the next run."""


def user_tag(subscription_id, period=None):
    return f"{TAG}:s{subscription_id}" + (f":p{period}" if period else "")


def profile_name(template_id, label=""):
    """The router profile name of bundle ``template_id``: reserved prefix, id, readable label."""
    return f"{PROFILE_PREFIX}{template_id}" + (f"-{label}" if label else "")


def fair_use_profile_name(template_id):
    return f"{PROFILE_PREFIX}{template_id}{FAIR_USE_SUFFIX}"


def parse_profile_name(name):
    """The bundle id of a profile the suite manages, or None when the name is not ours."""
    match = PROFILE_NAME.match(str(name or ""))
    return int(match[1]) if match else None


def parse_user_tag(comment):
    """(subscription id, period) of a managed user's comment, or None when not ours."""
    match = USER_TAG.match(str(comment or ""))
    if not match:
        return None
    return int(match[1]), int(match[2]) if match[2] else None


def format_duration(seconds):
    seconds = int(seconds or 0)
    if seconds <= 0:
        return ""
    parts = []
    for unit, size in TIME_UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def parse_duration(value):
    """RouterOS time ('1w2d3h4m5s', '1d 02:03:04', '90') → seconds (0 when empty)."""
    if value in (None, "", False, True):
        return 0
    if isinstance(value, int):
        return value
    text = str(value).strip()
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


def to_int(value):
    if isinstance(value, bool) or value in (None, ""):
        return 0
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def text(value):
    """librouteros turns 'yes'/'true' into True and digit strings into ints: compare as text."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def same(prop, desired, actual):
    if prop in DURATION_PROPS:
        return parse_duration(desired) == parse_duration(actual)
    if prop in INT_PROPS:
        return to_int(desired) == to_int(actual)
    if prop == "disabled":
        return bool(desired) == (actual is True or text(actual) in ("true", "yes"))
    desired_text, actual_text = text(desired), text(actual)
    for word in (("yes", "true"), ("no", "false")):
        if desired_text in word and actual_text in word:
            return True
    return desired_text == actual_text


def api_value(prop, value):
    """A desired value as librouteros should send it."""
    if prop in DURATION_PROPS:
        return format_duration(value) if value else "0s" if prop == "limit-uptime" else ""
    if prop == "disabled":
        return bool(value)
    return value


def ssl_wrapper(verify):
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context.wrap_socket


class Client:
    """One logged-in API connection, counting what it sends.

    ``deadline`` (time.monotonic() value) time-boxes the writes: past it, the next write
    raises :class:`TimeBoxExceeded` (reads and the write in flight finish)."""

    def __init__(
        self, host, port, username, password, *, timeout=10, tls=False, verify=True, deadline=None
    ):
        self.host, self.port = host, port
        self.sentences = 0
        self.writes = 0
        self.deadline = deadline
        kwargs = {"port": port, "timeout": timeout}
        if tls:
            kwargs["ssl_wrapper"] = ssl_wrapper(verify)
        try:
            self.api = librouteros.connect(host, username, password, **kwargs)
        except TrapError as exc:
            raise RouterError("auth", str(exc)) from exc
        except (LibRouterosError, OSError, ssl.SSLError) as exc:
            raise RouterError("offline", describe(exc, host, port)) from exc
        self.sentences += 1

    def close(self):
        try:
            self.api.close()
        except (LibRouterosError, OSError) as exc:
            _logger.debug("Closing the API connection to %s failed: %s", self.host, exc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _call(self, path, command, **kwargs):
        self.sentences += 1
        return tuple(self.api.path(*path)(command, **kwargs))

    def print(self, path, props=None, where=None):
        words = [f"=.proplist={','.join(props)}"] if props else []
        words += list(where or ())
        self.sentences += 1
        return list(self.api.rawCmd("/" + "/".join(path) + "/print", *words))

    def _before_write(self):
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise TimeBoxExceeded()
        self.writes += 1

    def add(self, path, **props):
        self._before_write()
        self.sentences += 1
        return self.api.path(*path).add(**props)

    def set(self, path, row_id, **props):
        self._before_write()
        self.sentences += 1
        self.api.path(*path).update(**{".id": row_id}, **props)

    def remove(self, path, *row_ids):
        if not row_ids:
            return
        self._before_write()
        self.sentences += 1
        self.api.path(*path).remove(*row_ids)

    def command(self, path, command, **props):
        self._before_write()
        return self._call(path, command, **props)


def describe(exc, host, port):
    """A plain-words reason for a connection failure (never the credentials)."""
    where = f"{host}:{port}"
    if isinstance(exc, ConnectionRefusedError):
        return f"Connection refused by {where}: is the API service enabled on this port?"
    if isinstance(exc, TimeoutError | ssl.SSLError) and "timed out" in str(exc):
        return f"No answer from {where} in time (timeout)."
    if isinstance(exc, ssl.SSLError):
        return f"TLS error with {where}: {exc}"
    if isinstance(exc, OSError):
        return f"Cannot reach {where}: {exc.strerror or exc}"
    return f"The connection to {where} failed: {exc}"


def pppoe_interface(name):
    """The dynamic interface RouterOS creates for the PPPoE connection of user ``name``."""
    return f"<pppoe-{name}>"


def names_query(prop, names):
    """A print query matching ``prop`` equal to any of ``names``: ?=p=a ?=p=b ?#|."""
    names = list(names)
    if not names:
        return []
    words = [f"?={prop}={name}" for name in names]
    return words + ["?#|"] * (len(names) - 1)


def diff(desired, actual, props):
    """The properties of ``desired`` that ``actual`` does not already have."""
    return {
        prop: api_value(prop, desired[prop])
        for prop in props
        if prop in desired and prop != "name" and not same(prop, desired[prop], actual.get(prop))
    }
