"""Hand-off to the hotspot router: server-side login or the login form for its login URL."""

import hashlib
import re
from urllib.parse import urlsplit

from odoo import api, models

OCTAL_ESCAPE = re.compile(r"\\([0-7]{1,3})")


def chap_bytes(value):
    """RouterOS writes chap-id / chap-challenge octal-escaped ("\\371\\022..."): raw bytes."""
    value = value or ""
    out = bytearray()
    pos = 0
    for match in OCTAL_ESCAPE.finditer(value):
        out += value[pos : match.start()].encode("latin-1", "replace")
        out.append(int(match.group(1), 8) & 0xFF)
        pos = match.end()
    out += value[pos:].encode("latin-1", "replace")
    return bytes(out)


def chap_password(password, chap_id, chap_challenge):
    """The hotspot's http-chap response: hex MD5(chap-id + password + chap-challenge)."""
    data = chap_bytes(chap_id) + (password or "").encode() + chap_bytes(chap_challenge)
    return hashlib.md5(data).hexdigest()  # noqa: S324 - RouterOS' CHAP is MD5 by definition


DEFAULT_PORTS = {"http": 80, "https": 443}
LOGIN_HOST = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)$")


def login_origin(url):
    """(scheme, host, port) of a router's login URL (``link-login-only``), or None."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or parts.username or parts.password:
        return None
    return scheme, parts.hostname.lower().rstrip("."), port or DEFAULT_PORTS[scheme]


def parse_login_host(entry):
    """An allowed hotspot login address: ``(scheme or None, host, port or None)``, where
    ``entry`` is a host ("10.5.50.1", "[fd00::1]", "login.example.net:8080": http or https)
    or an origin ("https://login.example.net"); None when malformed."""
    if not isinstance(entry, str) or not entry.strip() or not entry.isprintable():
        return None
    entry = entry.strip()
    if "://" in entry:
        origin = login_origin(entry)
        parts = urlsplit(entry)
        if not origin or parts.path not in ("", "/") or parts.query or parts.fragment:
            return None
        return origin
    try:
        parts = urlsplit(f"//{entry}")
        port = parts.port
    except ValueError:
        return None
    netloc_host = parts.netloc.rsplit(":", 1)[0] if port else parts.netloc
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        return None
    if not parts.hostname or not LOGIN_HOST.match(netloc_host):
        return None
    return None, parts.hostname.lower().rstrip("."), port


def login_host_allows(entry, origin):
    """True when the allowed address ``entry`` (see parse_login_host) covers ``origin``."""
    allowed = parse_login_host(entry)
    if not allowed or not origin:
        return False
    scheme, host, port = allowed
    if host != origin[1]:
        return False
    if scheme:
        return (scheme, port) == (origin[0], origin[2])
    return origin[2] == (port or DEFAULT_PORTS[origin[0]])


class IspHotspotRouterLogin(models.AbstractModel):
    _name = "isp.hotspot.router.login"
    _description = "ISP Hotspot: Router Login"

    @api.model
    def _router_login(self, subscription, nas, ip, mac):
        """Server-side login of the device at ``ip`` / ``mac`` as ``subscription``'s user on
        the router ``nas`` (the captive page's router parameter). Returns ``{"ok", "state",
        "message"}`` (see ``_connection_state``), or None when not possible: None here,
        without a router API, the page then posts to the router's login URL (the bridge
        isp_hotspot_mikrotik logs in through isp_mikrotik's router)."""
        return None

    @api.model
    def _router_login_hosts(self, company, nas=None):
        """The login address of ``company``'s hotspot router ``nas``, as the router puts
        it in ``link-login-only`` ("10.5.50.1", "login.example.net:8080" or
        "https://login.example.net"); none when the page names no router. Empty here (no
        routers known); isp_hotspot_mikrotik adds the router's *Hotspot Login Address*."""
        return []

    @api.model
    def _connection_state(self, customer, access=None, router=None, login=None):
        """What the status view may truthfully say about this device:

        - ``online``: the router accepted the server-side login;
        - ``pending``: paid, but the router cannot be reached: the access follows (the page
          tries again by itself);
        - ``refused``: the router refused (``router["message"]`` says why);
        - ``denied``: refused before the router (device limit, data cap: ``access``);
        - ``connecting``: the page posts the login to the router's own login URL;
        - ``unknown_router``: that login URL is not one of the company's routers': no login
          is sent;
        - ``active`` / ``none``: nothing was tried for this device; a bundle or none."""
        if access and not access["granted"]:
            return "denied"
        if router:
            return router.get("state") or ("online" if router["ok"] else "refused")
        if login:
            return "unknown_router" if login.get("unknown") else "connecting"
        return "active" if customer["active"] else "none"

    @api.model
    def _login_allowed(self, company, url, nas=None):
        """True when ``url`` (the page's ``link-login-only``) is the login address of one of
        ``company``'s hotspot routers: the company's setting, and the router's address
        (``_router_login_hosts``, of the router ``nas`` only when the page names one).
        Scheme, host and port must match."""
        origin = login_origin(url)
        if not origin:
            return False
        company = company.sudo()
        entries = company._isp_hotspot_login_host_entries()
        entries += self._router_login_hosts(company, nas=nas)
        return any(login_host_allows(entry, origin) for entry in entries)

    @api.model
    def _login_cleartext_allowed(self, company, url):
        """True when the page may post the hotspot password itself (PAP, no CHAP) to
        ``url``: an https:// address, or an http:// one staff listed in the company setting
        *Hotspot Login Addresses* (a router's own address is not enough: a rogue hotspot
        can take it)."""
        origin = login_origin(url)
        if not origin:
            return False
        if origin[0] == "https":
            return True
        entries = company.sudo()._isp_hotspot_login_host_entries()
        return any(login_host_allows(entry, origin) for entry in entries)

    @api.model
    def _login_form(self, subscription, params, company):
        """The form the browser posts to the router's ``link-login-only``: user name,
        password (http-chap: MD5 of chap-id + password + chap-challenge) and ``dst``.
        Only to one of ``company``'s routers (``_login_allowed``): for any other
        address ``{"unknown": True, "host": ...}``, without the login or the password.

        Without CHAP (no chap-id: the password would travel in clear) to an http:// address
        not listed in the company setting (``_login_cleartext_allowed``), the form is
        ``manual``: no password filled in, the customer types it, never submitted by
        itself."""
        url = params.get("link-login-only")
        if not subscription or not url:
            return None
        if not self._login_allowed(company, url, params.get("nas")):
            origin = login_origin(url)
            host = f"{origin[0]}://{urlsplit(url.strip()).netloc}" if origin else ""
            return {"unknown": True, "host": host}
        manual = False
        if params.get("chap-id"):
            password = subscription.sudo().password or ""
            password = chap_password(password, params["chap-id"], params.get("chap-challenge"))
        elif self._login_cleartext_allowed(company, url):
            password = subscription.sudo().password or ""
        else:
            password = ""
            manual = True
        return {
            "action": url,
            "username": subscription.login or "",
            "password": password,
            "manual": manual,
            "dst": params.get("link-orig") or "",
        }
