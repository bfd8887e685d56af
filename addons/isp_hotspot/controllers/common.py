"""Shared by the captive page and the JSON API: the router's parameters, the client's
address, the signed-in customer and the website's company."""

import re
from urllib.parse import urlencode, urlsplit

from markupsafe import Markup

from odoo.http import request
from odoo.tools import config

from ..models.isp_hotspot import parse_ip

SESSION_KEY = "isp_hotspot_partner"
# the references of the payments this browser session started (the last few): the waiting
# view and the payment status follow them without any token in a URL
PAYMENTS_KEY = "isp_hotspot_payments"
# set by a sign-in: the next status view connects the device by itself (see sign_in)
CONNECT_KEY = "isp_hotspot_connect"
# The router's variables (see isp_mikrotik's login.html) kept through the whole flow.
ROUTER_KEYS = (
    "mac",
    "ip",
    "link-login-only",
    "link-orig",
    "chap-id",
    "chap-challenge",
    "server-name",
    "error",
    "nas",
)
PRINTABLE = re.compile(r"^[\x20-\x7e]*$")


def _url(value, limit):
    if not isinstance(value, str) or len(value) > limit or not PRINTABLE.match(value):
        return None
    try:
        parts = urlsplit(value)
        # "http://[x" (an unclosed IPv6 bracket) raises in urlsplit, a bad port here
        valid = parts.scheme in ("http", "https") and parts.netloc and parts.port != -1
    except ValueError:
        return None
    return value if valid else None


def router_params(values):
    """The router's parameters from a query string or a form, each checked; a malformed one
    is dropped (the page still works, without it)."""
    from odoo.addons.isp_billing.models.isp_device import normalize_mac  # noqa: PLC0415

    params = {}
    mac = values.get("mac")
    if isinstance(mac, str) and normalize_mac(mac):
        params["mac"] = normalize_mac(mac)
    ip = parse_ip(values.get("ip")) if isinstance(values.get("ip"), str) else None
    if ip:
        params["ip"] = ip
    for key, limit in (("link-login-only", 512), ("link-orig", 1024)):
        url = _url(values.get(key), limit)
        if url:
            params[key] = url
    for key, limit in (
        ("chap-id", 64),
        ("chap-challenge", 256),
        ("server-name", 64),
        ("error", 200),
    ):
        value = values.get(key)
        if isinstance(value, str) and value and len(value) <= limit and PRINTABLE.match(value):
            params[key] = value
    nas = values.get("nas")
    if isinstance(nas, str) and nas.isdigit() and len(nas) < 10:
        params["nas"] = nas
    return params


def hidden_fields(params, lang):
    """The hidden inputs every form of the page carries: the router's parameters, the
    language and Odoo's CSRF token (one string per request, not a QWeb loop per form)."""
    values = [*((key, params[key]) for key in ROUTER_KEYS if params.get(key)), ("lang", lang)]
    values.append(("csrf_token", request.csrf_token()))
    return Markup("").join(
        Markup('<input type="hidden" name="%s" value="%s"/>') % (name, value)
        for name, value in values
    )


def query(params, **extra):
    values = {**params, **{k: v for k, v in extra.items() if v}}
    return urlencode(values)


def client_address():
    """The peer address; behind a reverse proxy (proxy_mode) the address the proxy saw."""
    httprequest = request.httprequest
    forwarded = httprequest.headers.get("X-Forwarded-For")
    if config.get("proxy_mode") and forwarded:
        return forwarded.split(",")[-1].strip()
    return httprequest.environ.get("REMOTE_ADDR") or httprequest.remote_addr


def browser_lang(installed):
    """The first of the browser's languages (Accept-Language) installed here, matched on
    the language when the region differs ("sw-KE" -> sw, "en" -> en_US), or None."""
    for accepted, _quality in request.httprequest.accept_languages:
        accepted = accepted.replace("-", "_")
        if accepted in installed:
            return accepted
        language = accepted.split("_")[0].lower()
        for code in installed:
            if code.split("_")[0].lower() == language:
                return code
    return None


def request_lang(code=None, company=None):
    """Set the request's language and company like a website page, without the website
    layer: ``code`` (the ``lang`` parameter the page's links and forms carry, then kept in
    the website's ``frontend_lang`` cookie), else that cookie, the browser's language, the
    website's default language. The context's company is the website's. Returns the
    language code."""
    installed = dict(request.env["res.lang"].get_installed())
    if not isinstance(code, str) or code not in installed:
        code = request.cookies.get("frontend_lang")
        if code not in installed:
            code = browser_lang(installed)
        if not code:
            website = request.env["website"].sudo().get_current_website()
            lang = request.env["res.lang"]._get_data(id=website._get_cached("default_lang_id"))
            code = lang.code if lang.code in installed else next(iter(installed))
    elif request.cookies.get("frontend_lang") != code:
        request.future_response.set_cookie("frontend_lang", code)
    context = {"lang": code}
    company_id = (company or website_company()).id
    if company_id in request.env.user._get_company_ids():
        # as on website pages: the website's company first (no read of the user's)
        context["allowed_company_ids"] = [company_id]
    request.update_context(**context)
    return code


def website_company():
    """The current website's company (sudo), without reading the website: its company id
    is in the website's own cache."""
    website = getattr(request, "website", None)
    if not website:
        website = request.env["website"].sudo().get_current_website()
    return request.env["res.company"].sudo().browse(website._get_cached("company_id"))


def hotspot_sudo(company):
    """The one sudo() of the public entry points, in the website's company."""
    return request.env["isp.hotspot"].sudo().with_company(company)


def signed_in_partner(company):
    partner_id = request.session.get(SESSION_KEY)
    if not isinstance(partner_id, int):
        return request.env["res.partner"].sudo().browse()
    partner = request.env["res.partner"].sudo().browse(partner_id).exists()
    if not partner or not partner.is_isp_customer or partner.company_id != company:
        return request.env["res.partner"].sudo().browse()
    return partner


def sign_in(partner):
    request.session[SESSION_KEY] = partner.id
    # the status view that follows connects this device by itself, once (a POST with the
    # CSRF token: a link to the status page never connects a device)
    request.session[CONNECT_KEY] = True


def sign_out():
    request.session.pop(SESSION_KEY, None)
    request.session.pop(CONNECT_KEY, None)


def connect_offered():
    """True when this session just signed in: its status view connects the device."""
    return bool(request.session.get(CONNECT_KEY))


def take_connect():
    """The device is being connected: the status view no longer does it by itself."""
    request.session.pop(CONNECT_KEY, None)


def remember_payment(tx):
    """This browser session started ``tx``: it may follow it (see ``session_payment``)."""
    known = request.session.get(PAYMENTS_KEY)
    known = [ref for ref in known if isinstance(ref, str)][-4:] if isinstance(known, list) else []
    request.session[PAYMENTS_KEY] = [*known, tx.reference]


def session_payment(reference):
    """True when this browser session started the payment ``reference``."""
    known = request.session.get(PAYMENTS_KEY)
    return isinstance(reference, str) and isinstance(known, list) and reference in known
