"""RFC 5176 Dynamic Authorization from Odoo to a NAS, independent of the ORM: the attributes
of a rate change, the names of Error-Cause values, and one Disconnect-Request or CoA-Request
sent with pyrad (one UDP datagram, one wait of at most SEND_TIMEOUT seconds).

pyrad computes the Request Authenticator (MD5 over the packet and the shared secret) and
ignores a reply whose Response Authenticator does not match: a forged or mis-keyed answer
counts as no answer. Nothing here logs the secret.
"""

import functools
import time
from collections import namedtuple

from pyrad import packet
from pyrad.client import Client, Timeout
from pyrad.dictionary import Dictionary

from odoo.tools.misc import file_path

DISCONNECT_REQUEST, DISCONNECT_ACK, DISCONNECT_NAK = 40, 41, 42
COA_REQUEST, COA_ACK, COA_NAK = 43, 44, 45
REQUEST_CODES = {"disconnect": DISCONNECT_REQUEST, "coa": COA_REQUEST}
ANSWERS = {
    DISCONNECT_REQUEST: {DISCONNECT_ACK: "ack", DISCONNECT_NAK: "nak"},
    COA_REQUEST: {COA_ACK: "ack", COA_NAK: "nak"},
}
# Seconds to wait for the NAS's answer, each attempt sends one datagram (the queue retries
# later with backoff instead of holding the cron on a dead NAS).
SEND_TIMEOUT = 3.0

# RFC 5176 section 3.5 (and RFC 3576's registry)
ERROR_CAUSES = {
    201: "Residual-Context-Removed",
    202: "Invalid-EAP-Packet",
    401: "Unsupported-Attribute",
    402: "Missing-Attribute",
    403: "NAS-Identification-Mismatch",
    404: "Invalid-Request",
    405: "Unsupported-Service",
    406: "Unsupported-Extension",
    407: "Invalid-Attribute-Value",
    501: "Administratively-Prohibited",
    502: "Request-Not-Routable",
    503: "Session-Context-Not-Found",
    504: "Session-Context-Not-Removable",
    505: "Other-Proxy-Processing-Error",
    506: "Resources-Unavailable",
    507: "Request-Initiated",
    508: "Multiple-Session-Selection-Unsupported",
}
SESSION_CONTEXT_NOT_FOUND = 503

# outcome: "ack", "nak", "timeout" (no valid answer) or "error" (not sent / unexpected
# answer); error_cause the Error-Cause number or 0; message a text for the operator.
Outcome = namedtuple("Outcome", "outcome error_cause message")


def error_cause_label(number):
    if not number:
        return ""
    name = ERROR_CAUSES.get(number)
    return f"{number} {name}" if name else str(number)


@functools.cache
def dictionary():
    """The suite's RADIUS dictionary (parsed once per process)."""
    return Dictionary(file_path("isp_radius/data/dictionary"))


def rate_text(kbps):
    """kbit/s as RouterOS writes a rate ('2M', '512k', '0' for no limit): as isp_mikrotik's
    profiles and the Mikrotik-Rate-Limit FreeRADIUS answers at login (isp_radius_radreply)."""
    if not kbps:
        return "0"
    if kbps % 1024 == 0:
        return f"{kbps // 1024}M"
    return f"{kbps}k"


def rate_attributes(nas_type, upload_kbps, download_kbps):
    """The attributes giving a session this rate on a NAS of ``nas_type``, or None when the
    rate cannot be said to this NAS (no limit on a standard NAS: WISPr has no "unlimited")
    and the session must reconnect (Disconnect) for FreeRADIUS's new answer to apply.

    MikroTik: Mikrotik-Rate-Limit "rx/tx" from the router's side, so the customer's upload
    first. Others: WISPr-Bandwidth-Max-Up / -Down in bit/s."""
    if nas_type == "mikrotik":
        return {"Mikrotik-Rate-Limit": f"{rate_text(upload_kbps)}/{rate_text(download_kbps)}"}
    if not (upload_kbps and download_kbps):
        return None
    return {
        "WISPr-Bandwidth-Max-Up": upload_kbps * 1000,
        "WISPr-Bandwidth-Max-Down": download_kbps * 1000,
    }


def session_attributes(username, acct_session_id, framed_ip=None):
    """The attributes identifying one session to the NAS (RFC 5176 section 3)."""
    attributes = {"User-Name": username, "Acct-Session-Id": acct_session_id}
    if framed_ip:
        attributes["Framed-IP-Address"] = framed_ip
    return attributes


def send(kind, address, port, secret, attributes, timeout=SEND_TIMEOUT):
    """Send one Disconnect-Request (``kind`` 'disconnect') or CoA-Request ('coa') with
    ``attributes`` ({name: value}) to the NAS at ``address``:``port``, signed with
    ``secret`` (str), and wait at most ``timeout`` seconds for a valid answer.

    Returns an Outcome; never raises for network trouble or a bad answer."""
    code = REQUEST_CODES[kind]
    client = Client(
        server=address,
        coaport=port,
        secret=secret.encode(),
        dict=dictionary(),
        retries=1,
        timeout=timeout,
    )
    try:
        request = client.CreateCoAPacket(code=code)
        for name, value in attributes.items():
            request[name] = value
        # RFC 5176 section 3.5: lets the NAS refuse a replayed request
        request["Event-Timestamp"] = int(time.time())
        reply = client.SendPacket(request)
    except Timeout:
        # the address is not in the messages: operators see them, the address is the
        # system administrators' (isp.radius.nas.address)
        return Outcome("timeout", 0, f"No valid answer in {timeout:g} s.")
    except (OSError, ValueError, KeyError, TypeError, packet.PacketError) as exc:
        # the exception's text names the attribute or the socket error, never the secret
        return Outcome("error", 0, f"Not sent: {exc}")
    finally:
        # pyrad's client has no public close; its socket is per client
        client._CloseSocket()  # pylint: disable=protected-access
    causes = reply.get("Error-Cause") or [0]
    cause = causes[0] if isinstance(causes[0], int) else 0
    answer = ANSWERS[code].get(reply.code)
    if not answer:
        return Outcome("error", cause, f"Unexpected answer code {reply.code}.")
    if answer == "nak":
        return Outcome(
            "nak", cause, f"Refused by the NAS: {error_cause_label(cause) or 'no Error-Cause'}."
        )
    return Outcome("ack", cause, "")
