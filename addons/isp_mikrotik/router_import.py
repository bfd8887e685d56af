"""Reading what a router already has, for the import wizard (``isp.router.import``): RouterOS
rate limits and time intervals, the metadata Mikhmon keeps in a hotspot user profile's
``on-login`` script and the expiry date it writes into a user's comment.

Pure functions, and strict: what is not understood exactly is returned as None, and the
wizard leaves the field empty for the operator to fill in.

Mikhmon (v3 and its forks) writes a profile's metadata as the first statement of on-login::

    :put (",<expire mode>,<price>,<validity>,<selling price>,,<lock user>,");
    :put (",,<price>,,,noexp,<lock user>,")          (no expiry)

expire mode: rem (remove), ntf (notice: limit-uptime=1s), remc / ntfc (the same, recorded);
lock user: Enable (the user is bound to its first MAC address) or Disable. A user's comment
is ``vc-...`` or ``up-...`` until its first login (a voucher not used yet), then its expiry
date, in the router's clock: ``jan/05/2025 10:00:00`` (RouterOS 6) or
``2025-01-05 10:00:00`` (RouterOS 7).
"""

import re
from datetime import datetime

# rate-limit: "rx[/tx] [burst...]": the first word, rx and tx from the router's side
RATE = re.compile(r"^(\d+(?:\.\d+)?)([kMG]?)$")
# a validity the suite can hold: weeks, days or hours
INTERVAL = re.compile(r"^(?:\d+[wdhms])+$")
INTERVAL_PART = re.compile(r"(\d+)([wdhms])")
UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
NUMBER = re.compile(r"^\d+(?:\.\d+)?$")

MIKHMON_PUT = re.compile(r'^\s*:put \(",([^"\r\n]*)"\)')
MIKHMON_MODES = {
    "rem": "removed at expiry",
    "ntf": "notified at expiry (limit-uptime 1s)",
    "remc": "removed at expiry, sales recorded",
    "ntfc": "notified at expiry, sales recorded",
}
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
EXPIRY_ROS6 = re.compile(r"^([a-z]{3})/(\d{2})/(\d{4}) (\d{2}):(\d{2}):(\d{2})$")
EXPIRY_ROS7 = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$")
MIKHMON_VOUCHER = re.compile(r"^(vc|up)-")
# a user name that is meant as a phone number: digits, an optional +, spaces
PHONE_LIKE = re.compile(r"^\+?\d[\d ]{5,16}$")


def parse_rate(text):
    """One RouterOS rate ('512k', '2M', '1.5M', '0', '64000') in kbit/s as the suite counts
    them (1M = 1024k, as ``product.template._isp_mikrotik_rate_limit`` writes), or None."""
    match = RATE.match(str(text or "").strip())
    if not match:
        return None
    value, unit = float(match[1]), match[2]
    if unit == "k":
        kbps = value
    elif unit == "M":
        kbps = value * 1024
    elif unit == "G":
        kbps = value * 1024 * 1024
    else:  # bits per second
        kbps = value / 1000
    if kbps != int(kbps) or (value and not kbps):
        return None
    return int(kbps)


def parse_rate_limit(text):
    """(upload kbit/s, download kbit/s) of a rate-limit ('512k/2M', '1M', '2M/4M 4M/8M ...':
    bursts ignored), (0, 0) when empty, None when not understood. RouterOS writes it from
    the router's side: rx (what the client uploads) first."""
    text = str(text or "").strip()
    if not text:
        return 0, 0
    first = text.split()[0]
    parts = first.split("/")
    if len(parts) > 2:
        return None
    rx = parse_rate(parts[0])
    tx = parse_rate(parts[1]) if len(parts) == 2 else rx
    if rx is None or tx is None:
        return None
    return rx, tx


def parse_interval(text):
    """A RouterOS interval ('1d', '30d', '12h', '1w', '1d12h') as (value, unit) the suite
    holds (unit 'days' or 'hours'), or None (empty, minutes, or not an interval)."""
    text = str(text or "").strip()
    if not INTERVAL.match(text):
        return None
    seconds = sum(int(count) * UNIT_SECONDS[unit] for count, unit in INTERVAL_PART.findall(text))
    if not seconds:
        return None
    if seconds % 86400 == 0:
        return seconds // 86400, "days"
    if seconds % 3600 == 0:
        return seconds // 3600, "hours"
    return None


def _number(text):
    return float(text) if NUMBER.match(text) else None


def parse_mikhmon(on_login):
    """Mikhmon's metadata of a hotspot user profile's on-login script, or None when the
    script does not start with it. A dict: mode (rem/ntf/remc/ntfc or '' for none), price
    and selling_price (floats or None), validity ((value, unit) or None), validity_text (as
    written), no_expiry (bool), lock_mac (True/False, None if not said)."""
    match = MIKHMON_PUT.match(str(on_login or ""))
    if not match:
        return None
    parts = match[1].split(",")
    if len(parts) < 7 or parts[-1] != "":
        return None
    mode, price, validity, selling, marker, lock = parts[:6]
    if mode not in MIKHMON_MODES and mode != "":
        return None
    if marker not in ("", "noexp") or lock not in ("Enable", "Disable", ""):
        return None
    if price and _number(price) is None:
        return None
    return {
        "mode": mode,
        "price": _number(price) if price else None,
        "validity": parse_interval(validity),
        "validity_text": validity,
        # some forks put a grace period ('5m') where Mikhmon v3 has the selling price
        "selling_price": _number(selling) if selling else None,
        "no_expiry": marker == "noexp",
        "lock_mac": {"Enable": True, "Disable": False}.get(lock),
    }


def parse_mikhmon_expiry(comment):
    """The expiry Mikhmon wrote into a user's comment at its first login, as a naive datetime
    in the router's clock, or None."""
    text = str(comment or "").strip()
    match = EXPIRY_ROS7.match(text)
    try:
        if match:
            return datetime(*(int(part) for part in match.groups()))
        match = EXPIRY_ROS6.match(text)
        if match and match[1] in MONTHS:
            return datetime(
                int(match[3]),
                MONTHS.index(match[1]) + 1,
                int(match[2]),
                int(match[4]),
                int(match[5]),
                int(match[6]),
            )
    except ValueError:  # 2025-02-30
        return None
    return None


def is_mikhmon_voucher(comment):
    """Whether a user's comment marks a Mikhmon voucher not used yet (vc-... / up-...)."""
    return bool(MIKHMON_VOUCHER.match(str(comment or "")))


def looks_like_phone(name):
    return bool(PHONE_LIKE.match(str(name or "").strip()))
