"""The captive page. Every step is a plain form post or link (the page works without
JavaScript); hotspot.js only follows a payment live and auto-submits the router login."""

from urllib.parse import parse_qs, urlsplit

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request

from ..models.isp_hotspot_attempt import IspHotspotRateLimited
from .common import (
    client_address,
    hidden_fields,
    hotspot_sudo,
    query,
    request_lang,
    router_params,
    sign_in,
    sign_out,
    signed_in_partner,
    website_company,
)

LANGS = ("en_US", "sw")


class IspHotspotPage(http.Controller):
    # ------------------------------------------------------------------ helpers

    def _setup(self, values):
        """(company, hotspot model, router params, lang) of this request.

        The page's routes are not website routes (``website=False``): it is a standalone
        document, and the website layer (frontend QWeb environment, visitor tracking,
        language redirects) would only slow down a page every hotspot customer opens. The
        website's company and languages still apply (``request_lang``)."""
        company = website_company()
        code = request_lang(values.get("lang"), company)
        return company, hotspot_sudo(company), router_params(values), code

    def _render(self, view, company, hotspot, params, lang, status=200, **values):
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
            **values,
        }
        if view == "buy":
            catalogue = hotspot._isp_catalogue(company)
            qcontext["company_name"] = catalogue["company"]
            qcontext["bundles"] = catalogue["bundles"]
            qcontext["providers"] = catalogue["providers"]
            qcontext["partner"] = signed_in_partner(company)
            if params.get("error"):
                qcontext.setdefault("router_error", params["error"])
        return request.render("isp_hotspot.page", qcontext, status=status)

    def _redirect(self, path, params, lang, **extra):
        return request.redirect(f"{path}?{query(params, **{'lang': lang, **extra})}", code=303)

    # ------------------------------------------------------------------ buy

    @http.route(
        "/hotspot",
        type="http",
        auth="public",
        methods=["GET"],
        website=False,
        sitemap=False,
        readonly=True,
    )
    def hotspot(self, voucher=None, **kw):
        company, hotspot, params, lang = self._setup(kw)
        if not voucher and params.get("link-orig"):
            # the card's QR link opened before the router's login: the router sends here
            # with the link as link-orig
            orig = urlsplit(params["link-orig"])
            if orig.path.rstrip("/").endswith("/hotspot"):
                voucher = parse_qs(orig.query).get("voucher", [None])[0]
        return self._render(
            "buy",
            company,
            hotspot,
            params,
            lang,
            voucher_code=hotspot._isp_voucher_code(voucher),
        )

    @http.route(
        "/hotspot/pay", type="http", auth="public", methods=["POST"], website=False, sitemap=False
    )
    def pay(self, phone=None, bundle_id=None, provider_id=None, **kw):
        company, hotspot, params, lang = self._setup(kw)
        try:
            tx = hotspot._isp_initiate_payment(
                company,
                phone,
                bundle_id,
                provider_id=provider_id,
                mac=params.get("mac"),
                ip=params.get("ip"),
                client_ip=client_address(),
            )
        except UserError as error:
            return self._render(
                "buy",
                company,
                hotspot,
                params,
                lang,
                status=400,
                error=error.args[0],
                phone=phone if isinstance(phone, str) else "",
                bundle_id=str(bundle_id or ""),
            )
        return self._redirect(
            "/hotspot/wait",
            params,
            lang,
            reference=tx.reference,
            token=tx._isp_hotspot_access_token(),
        )

    @http.route(
        "/hotspot/wait", type="http", auth="public", methods=["GET"], website=False, sitemap=False
    )
    def wait(self, reference=None, token=None, **kw):
        company, hotspot, params, lang = self._setup(kw)
        tx = hotspot._isp_find_transaction(reference, token)
        if not tx or tx.company_id != company:
            return self._render(
                "buy",
                company,
                hotspot,
                params,
                lang,
                status=404,
                error=request.env._("This payment was not found. Start again."),
            )
        status = hotspot._isp_payment_status(tx)
        if status["status"] == "paid":
            sign_in(tx.partner_id)
            return self._redirect("/hotspot/status", params, lang, connect="1")
        return self._render(
            "wait",
            company,
            hotspot,
            params,
            lang,
            payment=status,
            reference=tx.reference,
            token=token,
            phone=tx.partner_id.phone,
        )

    # ------------------------------------------------------------------ vouchers

    @http.route(
        "/hotspot/voucher",
        type="http",
        auth="public",
        methods=["POST"],
        website=False,
        sitemap=False,
    )
    def voucher(self, code=None, phone=None, **kw):
        company, hotspot, params, lang = self._setup(kw)
        try:
            purchase = hotspot._isp_redeem_voucher(
                company,
                code,
                phone,
                mac=params.get("mac"),
                ip=params.get("ip"),
                client_ip=client_address(),
            )
        except UserError as error:
            return self._render(
                "buy",
                company,
                hotspot,
                params,
                lang,
                status=429 if isinstance(error, IspHotspotRateLimited) else 400,
                voucher_error=error.args[0],
                voucher_code=hotspot._isp_voucher_code(code),
                phone=phone if isinstance(phone, str) else "",
            )
        sign_in(purchase.partner_id)
        return self._redirect("/hotspot/status", params, lang, connect="1")

    # ------------------------------------------------------------------ sign-in

    @http.route(
        "/hotspot/signin",
        type="http",
        auth="public",
        methods=["POST"],
        website=False,
        sitemap=False,
    )
    def signin(self, phone=None, **kw):
        company, hotspot, params, lang = self._setup(kw)
        try:
            e164 = hotspot._isp_send_code(company, phone, client_ip=client_address())
        except UserError as error:
            return self._render(
                "buy",
                company,
                hotspot,
                params,
                lang,
                status=400,
                signin_error=error.args[0],
                phone=phone if isinstance(phone, str) else "",
            )
        return self._render("code", company, hotspot, params, lang, phone=e164)

    @http.route(
        "/hotspot/signin/verify",
        type="http",
        auth="public",
        methods=["POST"],
        website=False,
        sitemap=False,
    )
    def signin_verify(self, phone=None, code=None, **kw):
        company, hotspot, params, lang = self._setup(kw)
        try:
            partner = hotspot._isp_check_code(company, phone, code, client_ip=client_address())
        except UserError as error:
            return self._render(
                "code",
                company,
                hotspot,
                params,
                lang,
                status=400,
                error=error.args[0],
                phone=phone if isinstance(phone, str) else "",
            )
        sign_in(partner)
        return self._redirect("/hotspot/status", params, lang, connect="1")

    @http.route(
        "/hotspot/signout",
        type="http",
        auth="public",
        methods=["POST"],
        website=False,
        sitemap=False,
    )
    def signout(self, **kw):
        _company, _hotspot, params, lang = self._setup(kw)
        sign_out()
        return self._redirect("/hotspot", params, lang)

    # ------------------------------------------------------------------ status

    @http.route(
        "/hotspot/status",
        type="http",
        auth="public",
        methods=["GET"],
        website=False,
        sitemap=False,
    )
    def status(self, connect=None, **kw):
        company, hotspot, params, lang = self._setup(kw)
        partner = signed_in_partner(company)
        if not partner:
            return self._redirect("/hotspot", params, lang)
        access = login = router = None
        subscription = hotspot._isp_active_subscription(partner)
        if params.get("mac") and subscription and connect:
            access = hotspot._isp_verify_access(
                partner,
                params["mac"],
                params.get("ip"),
                user_agent=request.httprequest.user_agent.string,
            )
            if access["granted"]:
                router = hotspot._isp_router_login(
                    subscription, params.get("nas"), params.get("ip"), params["mac"]
                )
                if not (router and router["ok"]):
                    login = hotspot._isp_login_form(subscription, params)
        return self._render(
            "status",
            company,
            hotspot,
            params,
            lang,
            partner=partner,
            customer=hotspot._isp_customer_status(partner),
            access=access,
            login=login,
            router=router,
            auto_connect=bool(connect and login),
        )

    @http.route(
        "/hotspot/device/remove",
        type="http",
        auth="public",
        methods=["POST"],
        website=False,
        sitemap=False,
    )
    def device_remove(self, device_mac=None, **kw):
        company, hotspot, params, lang = self._setup(kw)
        partner = signed_in_partner(company)
        if not partner:
            return self._redirect("/hotspot", params, lang)
        try:
            hotspot._isp_remove_device(partner, device_mac)
        except UserError as error:
            return self._render(
                "status",
                company,
                hotspot,
                params,
                lang,
                status=400,
                partner=partner,
                customer=hotspot._isp_customer_status(partner),
                error=error.args[0],
            )
        return self._redirect("/hotspot/status", params, lang)
