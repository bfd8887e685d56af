"""Public operator sign-up page: the form (GET) and the application (POST, CSRF)."""

from odoo import http
from odoo.exceptions import UserError, ValidationError
from odoo.http import request

from odoo.addons.isp_hotspot.controllers.common import client_address

FIELDS = (
    "business_name",
    "contact_name",
    "email",
    "phone",
    "country_id",
    "currency_id",
    "plan_id",
    "domain",
)
# Hidden from people by CSS, filled in by form-filling robots: a post with it is answered like
# a success and creates nothing.
HONEYPOT = "company_website"


class PlatformSignup(http.Controller):
    def _render(self, values=None, error=None, status=200):
        applications = request.env["isp.platform.application"].sudo()
        countries = applications._signup_countries()
        qcontext = {
            "values": values or {},
            "error": error,
            "countries": countries,
            "currencies": applications._signup_currencies(),
            "plans": applications._signup_plans(),
            "honeypot": HONEYPOT,
        }
        return request.render("isp_platform.signup_page", qcontext, status=status)

    @http.route(
        "/platform/signup",
        type="http",
        auth="public",
        methods=["GET"],
        website=True,
        sitemap=False,
        readonly=True,
    )
    def signup_form(self, **kw):
        return self._render()

    @http.route(
        "/platform/signup",
        type="http",
        auth="public",
        methods=["POST"],
        website=True,
        sitemap=False,
        max_content_length=16 * 1024,
    )
    def signup_submit(self, **post):
        values = {key: post[key] for key in FIELDS if isinstance(post.get(key), str)}
        if post.get(HONEYPOT):
            return request.render("isp_platform.signup_thanks", {})
        # the one sudo() of this public entry point: the applicant has no rights
        applications = request.env["isp.platform.application"].sudo()
        try:
            with request.env.cr.savepoint():
                applications._signup_submit(values, client_ip=client_address())
        except ValidationError as exc:
            return self._render(values, exc.args[0], status=400)
        except UserError as exc:
            return self._render(values, exc.args[0], status=429)
        return request.render("isp_platform.signup_thanks", {})
