"""Sign-in to the customer portal with the phone number: the number, then the code received
by SMS, then a real Odoo session (res.users authenticate with the credential type
``isp_phone_code``). The number travels in the session, the code in a POST body: neither in
a URL."""

from odoo import http
from odoo.exceptions import AccessDenied, UserError
from odoo.http import request

from odoo.addons.isp_billing.exceptions import IspRateLimited

from ..models.res_users import CREDENTIAL_PHONE_CODE

# the number a code was asked for, in the session until it signs in
SESSION_KEY = "isp_phone_login"
# a sign-in form is a few dozen bytes
MAX_FORM_BODY = 4 * 1024


def client_address():
    """The peer address (behind a proxy in proxy_mode, the address it saw: werkzeug's
    ProxyFix has set it)."""
    return request.httprequest.remote_addr


def website_company():
    """The company whose customers sign in here: the website's, else the public user's."""
    website = getattr(request, "website", None)
    return (website.company_id if website else request.env.company).sudo()


def login_route(path, methods):
    return http.route(
        path,
        type="http",
        auth="public",
        methods=methods,
        website=True,
        sitemap=False,
        max_content_length=MAX_FORM_BODY,
    )


class IspPortalPhoneLogin(http.Controller):
    def _render(self, template, status=200, **values):
        response = request.render(
            template, {"error": None, "phone": "", "disable_footer": True, **values}
        )
        response.status_code = status
        # the sign-in pages are never cached nor framed
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        return response

    def _signed_in(self):
        return request.session.uid and not request.env.user._is_public()

    @login_route("/web/login/phone", ["GET"])
    def phone(self, **kw):
        if self._signed_in():
            return request.redirect("/my", code=303)
        return self._render("isp_sms.login_phone")

    @login_route("/web/login/phone", ["POST"])
    def phone_send(self, phone=None, **kw):
        """Send a code when the number is a portal user's; the same answer otherwise."""
        codes = request.env["isp.portal.login.code"].sudo()
        try:
            e164 = codes._request_code(website_company(), phone, client_ip=client_address())
        except IspRateLimited as error:
            return self._render("isp_sms.login_phone", status=429, error=error.args[0], phone=phone)
        except UserError as error:
            return self._render("isp_sms.login_phone", status=400, error=error.args[0], phone=phone)
        request.session[SESSION_KEY] = e164
        return request.redirect("/web/login/phone/code", code=303)

    @login_route("/web/login/phone/code", ["GET"])
    def phone_code(self, **kw):
        phone = request.session.get(SESSION_KEY)
        if not isinstance(phone, str):
            return request.redirect("/web/login/phone", code=303)
        return self._render("isp_sms.login_phone_code", phone=phone)

    @login_route("/web/login/phone/code", ["POST"])
    def phone_sign_in(self, code=None, **kw):
        """Sign in as the number's user when ``code`` is their current one, through Odoo's
        authentication (its login cooldown, log, session rotation and second factor)."""
        phone = request.session.get(SESSION_KEY)
        if not isinstance(phone, str):
            return request.redirect("/web/login/phone", code=303)
        wrong = request.env._("This code is wrong or has expired. Ask for a new one.")
        codes = request.env["isp.portal.login.code"].sudo()
        try:
            user = codes._signing_in_user(website_company(), phone, client_ip=client_address())
        except UserError as error:
            status = 429 if isinstance(error, IspRateLimited) else 400
            return self._render(
                "isp_sms.login_phone_code", status=status, error=error.args[0], phone=phone
            )
        if not user or not isinstance(code, str):
            return self._render("isp_sms.login_phone_code", status=400, error=wrong, phone=phone)
        credential = {"type": CREDENTIAL_PHONE_CODE, "login": user.login, "isp_code": code}
        try:
            request.session.authenticate(request.env, credential)
        except AccessDenied as error:
            # as Odoo's /web/login: its own message (the cooldown after repeated failures)
            # when there is one, else just wrong
            message = wrong if error.args == AccessDenied().args else error.args[0]
            return self._render("isp_sms.login_phone_code", status=400, error=message, phone=phone)
        request.session.pop(SESSION_KEY, None)
        if not request.session.uid:
            # a second factor (auth_totp) is still to be given
            return request.redirect(f"{user._mfa_url()}?redirect=/my", code=303)
        return request.redirect("/my", code=303)
