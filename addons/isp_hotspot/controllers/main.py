"""The captive page. Every step is a plain form post or link (the page works without
JavaScript); hotspot.js only follows a payment live and auto-submits the router login."""

from typing import NamedTuple
from urllib.parse import parse_qs, urlsplit

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request

from odoo.addons.isp_billing.exceptions import IspRateLimited

from ..models.isp_hotspot_attempt import IspHotspotRateLimited
from ..models.isp_hotspot_payment import IspHotspotSaleRefused
from .common import (
    client_address,
    connect_offered,
    hidden_fields,
    hotspot_sudo,
    query,
    remember_payment,
    request_lang,
    router_params,
    session_payment,
    sign_in,
    sign_out,
    signed_in_partner,
    take_connect,
    website_company,
)

LANGS = ("en_US", "sw")
# The page's forms are a few hundred bytes: a bigger body is refused (413) before Odoo
# parses it.
MAX_FORM_BODY = 16 * 1024
# A connect POST whose outcome (access log entry) is the same as one of the last hour's
# writes no new entry (isp.access.log._log, isp_access_log_quiet)
CONNECT_LOG_QUIET = 3600


class Page(NamedTuple):
    """What every step of the page works with: the website's company, the hotspot model
    (sudo, in that company), the router's parameters and the page's language."""

    company: object
    hotspot: object
    params: dict
    lang: str


def typed(value):
    """A form value to show again as typed (a string, else nothing)."""
    return value if isinstance(value, str) else ""


def pay_error_status(error):
    """A refused payment's HTTP status: rate limited 429, no new sale now 403, else 400."""
    if isinstance(error, IspRateLimited):
        return 429
    if isinstance(error, IspHotspotSaleRefused):
        return 403
    return 400


def page_route(path, method="POST", **kw):
    """A route of the captive page: public, not a website route (see ``_setup``)."""
    return http.route(
        path,
        type="http",
        auth="public",
        methods=[method],
        website=False,
        sitemap=False,
        max_content_length=MAX_FORM_BODY,
        **kw,
    )


class IspHotspotPage(http.Controller):
    # ------------------------------------------------------------------ helpers

    def _setup(self, values):
        """The Page of this request.

        The page's routes are not website routes (``website=False``): it is a standalone
        document, and the website layer (frontend QWeb environment, visitor tracking,
        language redirects) would only slow down a page every hotspot customer opens. The
        website's company and languages still apply (``request_lang``)."""
        company = website_company()
        code = request_lang(values.get("lang"), company)
        return Page(company, hotspot_sudo(company), router_params(values), code)

    def _render(self, page, view, status=200, **values):
        company, hotspot, params, lang = page
        installed = dict(request.env["res.lang"].get_installed())
        langs = [(code, installed[code]) for code in LANGS if code in installed]
        qcontext = {
            "view": view,
            "company": company,
            "lang": lang,
            "langs": langs if len(langs) > 1 else [],
            "params": params,
            "hidden_fields": hidden_fields(params, lang),
            "query": lambda **extra: query(params, **{"lang": lang, **extra}),
            "company_name": None,
            "error": False,
            "info": False,
            "access": None,
            "login": None,
            "router": None,
            "connection": None,
            "connect_auto": False,
            "auto_connect": False,
            **values,
        }
        if view == "buy":
            catalogue = hotspot._catalogue(company)
            qcontext["company_name"] = catalogue["company"]
            qcontext["bundles"] = catalogue["bundles"]
            qcontext["providers"] = catalogue["providers"]
            # no new sale now (isp_billing's hook): the neutral reason instead of the pay form
            qcontext["sale_refusal"] = hotspot._sale_refusal(company)
            qcontext["partner"] = signed_in_partner(company)
            if params.get("error"):
                qcontext.setdefault("router_error", params["error"])
            qcontext.setdefault(
                "lapsed", hotspot._lapsed_message(company, qcontext["partner"], params)
            )
            # "I paid by Paybill/Till": only where the company takes such payments
            qcontext["receipt_offer"] = hotspot._receipt_claim_offer(company, qcontext["partner"])
        return request.render("isp_hotspot.page", qcontext, status=status)

    def _redirect(self, page, path, **extra):
        query_string = query(page.params, **{"lang": page.lang, **extra})
        return request.redirect(f"{path}?{query_string}", code=303)

    # ------------------------------------------------------------------ buy

    @page_route("/hotspot", "GET", readonly=True)
    def hotspot(self, voucher=None, **kw):
        page = self._setup(kw)
        if not voucher and page.params.get("link-orig"):
            # the card's QR link opened before the router's login: the router sends here
            # with the link as link-orig
            orig = urlsplit(page.params["link-orig"])
            if orig.path.rstrip("/").endswith("/hotspot"):
                voucher = parse_qs(orig.query).get("voucher", [None])[0]
        return self._render(page, "buy", voucher_code=page.hotspot._voucher_code(voucher))

    @page_route("/hotspot/pay")
    def pay(self, phone=None, bundle_id=None, provider_id=None, **kw):
        page = self._setup(kw)
        try:
            tx = page.hotspot._initiate_payment(
                page.company,
                phone,
                bundle_id,
                provider_id=provider_id,
                mac=page.params.get("mac"),
                ip=page.params.get("ip"),
                client_ip=client_address(),
            )
        except UserError as error:
            return self._render(
                page,
                "buy",
                status=pay_error_status(error),
                error=error.args[0],
                phone=typed(phone),
                bundle_id=str(bundle_id or ""),
            )
        # the waiting view follows the payment through this session: no token in the URL
        remember_payment(tx)
        return self._redirect(page, "/hotspot/wait", reference=tx.reference)

    @page_route("/hotspot/wait", "GET")
    def wait(self, reference=None, **kw):
        page = self._setup(kw)
        tx = page.hotspot._find_transaction(reference, in_session=session_payment(reference))
        if not tx or tx.company_id != page.company:
            return self._render(
                page,
                "buy",
                status=404,
                error=request.env._("This payment was not found. Start again."),
            )
        status = page.hotspot._payment_status(tx)
        if status["status"] == "paid":
            sign_in(tx.partner_id)
            return self._redirect(page, "/hotspot/status")
        return self._render(
            page,
            "wait",
            payment=status,
            reference=tx.reference,
            phone=tx.isp_phone or tx.partner_id.phone,
        )

    # ------------------------------------------------------------------ vouchers

    @page_route("/hotspot/voucher")
    def voucher(self, code=None, phone=None, **kw):
        page = self._setup(kw)
        try:
            purchase, may_sign_in = page.hotspot._redeem_voucher(
                page.company,
                code,
                phone,
                mac=page.params.get("mac"),
                ip=page.params.get("ip"),
                client_ip=client_address(),
                signed_in=signed_in_partner(page.company),
            )
        except UserError as error:
            return self._render(
                page,
                "buy",
                status=429 if isinstance(error, IspHotspotRateLimited) else 400,
                voucher_error=error.args[0],
                voucher_code=page.hotspot._voucher_code(code),
                phone=typed(phone),
            )
        if not may_sign_in:
            # the number is another customer's: credited, not signed in (sign-in by SMS code)
            return self._render(
                page,
                "buy",
                info=page.hotspot._voucher_credited_message(purchase),
                phone=purchase.partner_id.phone,
            )
        sign_in(purchase.partner_id)
        return self._redirect(page, "/hotspot/status")

    # ------------------------------------------------------------------ receipts

    @page_route("/hotspot/receipt")
    def receipt(self, receipt=None, phone=None, bundle_id=None, **kw):
        """ "I paid by M-Pesa Paybill/Till": the bundle, the receipt code and the phone
        number; access as a voucher redemption gives it (the same sign-in rules and router
        hand-off)."""
        page = self._setup(kw)
        try:
            purchase, may_sign_in = page.hotspot._claim_receipt(
                page.company,
                receipt,
                phone,
                bundle_id,
                mac=page.params.get("mac"),
                ip=page.params.get("ip"),
                client_ip=client_address(),
                signed_in=signed_in_partner(page.company),
            )
        except UserError as error:
            return self._render(
                page,
                "buy",
                status=429 if isinstance(error, IspHotspotRateLimited) else 400,
                receipt_error=error.args[0],
                receipt=page.hotspot._receipt_typed(receipt),
                phone=typed(phone),
                bundle_id=str(bundle_id or "") if isinstance(bundle_id, str) else "",
            )
        if not may_sign_in:
            # the number is another customer's: they got the access, not this browser
            return self._render(
                page,
                "buy",
                info=page.hotspot._receipt_credited_message(purchase),
                phone=purchase.partner_id.phone,
            )
        sign_in(purchase.partner_id)
        return self._redirect(page, "/hotspot/status")

    # ------------------------------------------------------------------ sign-in

    @page_route("/hotspot/signin")
    def signin(self, phone=None, **kw):
        page = self._setup(kw)
        try:
            e164 = page.hotspot._send_code(page.company, phone, client_ip=client_address())
        except UserError as error:
            return self._render(
                page, "buy", status=400, signin_error=error.args[0], phone=typed(phone)
            )
        return self._render(page, "code", phone=e164)

    @page_route("/hotspot/signin/verify")
    def signin_verify(self, phone=None, code=None, **kw):
        page = self._setup(kw)
        try:
            partner = page.hotspot._check_code(
                page.company, phone, code, client_ip=client_address()
            )
        except UserError as error:
            return self._render(page, "code", status=400, error=error.args[0], phone=typed(phone))
        sign_in(partner)
        return self._redirect(page, "/hotspot/status")

    @page_route("/hotspot/signout")
    def signout(self, **kw):
        page = self._setup(kw)
        sign_out()
        return self._redirect(page, "/hotspot")

    # ------------------------------------------------------------------ status

    @page_route("/hotspot/status", "GET")
    def status(self, **kw):
        """The customer's account: only read. Connecting this device (registering it,
        logging it in on the router) is the POST below; the view right after a sign-in
        submits it by itself (``connect_offered``)."""
        page = self._setup(kw)
        partner = signed_in_partner(page.company)
        if not partner:
            return self._redirect(page, "/hotspot")
        customer = page.hotspot._customer_status(partner)
        return self._render(
            page,
            "status",
            partner=partner,
            customer=customer,
            connection=page.hotspot._connection_state(customer),
            connect_auto=connect_offered(),
        )

    @page_route("/hotspot/status")
    def connect(self, **kw):
        """Connect this device (POST, CSRF token checked): register it on the customer's
        account and log it in on the router (server-side), else post the login to the
        router's own login URL when it is one of the company's routers."""
        page = self._setup(kw)
        company, hotspot, params, _lang = page
        partner = signed_in_partner(company)
        if not partner:
            return self._redirect(page, "/hotspot")
        take_connect()
        access = login = router = None
        # the page posts this again every 20 s while the router cannot be reached: an
        # unchanged outcome is not logged again
        quiet = {"isp_access_log_quiet": CONNECT_LOG_QUIET}
        hotspot = hotspot.with_context(**quiet)
        partner = partner.with_context(**quiet)
        subscription = hotspot._active_subscription(partner)
        if params.get("mac") and subscription:
            access = hotspot._verify_access(
                partner,
                params["mac"],
                params.get("ip"),
                user_agent=request.httprequest.user_agent.string,
            )
            if access["granted"]:
                router = hotspot._router_login(
                    subscription, params.get("nas"), params.get("ip"), params["mac"]
                )
                # the router's own login form: instead of the server-side login, or as a
                # manual fallback while the router's API cannot be reached
                if router is None or router.get("state") == "pending":
                    login = hotspot._login_form(subscription, params, company)
        customer = hotspot._customer_status(partner)
        response = self._render(
            page,
            "status",
            partner=partner,
            customer=customer,
            access=access,
            login=login,
            router=router,
            connection=hotspot._connection_state(customer, access, router, login),
            # never by itself to an unknown router, nor when the customer types the password
            auto_connect=bool(
                login and router is None and not login.get("unknown") and not login.get("manual")
            ),
        )
        # the router login form holds the hotspot password (or its CHAP answer)
        response.headers["Cache-Control"] = "no-store"
        return response

    @page_route("/hotspot/device/remove")
    def device_remove(self, device_mac=None, **kw):
        page = self._setup(kw)
        partner = signed_in_partner(page.company)
        if not partner:
            return self._redirect(page, "/hotspot")
        try:
            page.hotspot._remove_device(partner, device_mac)
        except UserError as error:
            return self._render(
                page,
                "status",
                status=400,
                partner=partner,
                customer=page.hotspot._customer_status(partner),
                error=error.args[0],
            )
        return self._redirect(page, "/hotspot/status")

    @page_route("/hotspot/device/rename")
    def device_rename(self, device_mac=None, device_name=None, **kw):
        """Name one of the signed-in customer's own devices (POST, CSRF token checked)."""
        page = self._setup(kw)
        partner = signed_in_partner(page.company)
        if not partner:
            return self._redirect(page, "/hotspot")
        try:
            page.hotspot._rename_device(partner, device_mac, typed(device_name))
        except UserError as error:
            return self._render(
                page,
                "status",
                status=400,
                partner=partner,
                customer=page.hotspot._customer_status(partner),
                error=error.args[0],
            )
        return self._redirect(page, "/hotspot/status")
