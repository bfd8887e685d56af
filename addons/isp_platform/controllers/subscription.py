"""The operator's "Pay now" link (back-office banner, emails): the portal page of its oldest
unpaid platform invoice, with its access token, where the platform company's payment
providers (Pesapal) take the payment."""

from odoo import http
from odoo.exceptions import AccessError, UserError
from odoo.http import request

SCREEN = "/odoo/action-isp_platform.isp_platform_subscription_screen_action"


class PlatformSubscription(http.Controller):
    @http.route(
        "/isp_platform/pay",
        type="http",
        auth="user",
        methods=["GET"],
        sitemap=False,
        readonly=False,
    )
    def pay(self, **kw):
        """Only the current company's own subscription (isp.platform.subscription.
        _operator_pay_url): no id is taken from the request. Nothing to pay, or not an
        operator's administrator: the Subscription screen (which says why)."""
        try:
            url = request.env["isp.platform.subscription"]._operator_pay_url()
        except (UserError, AccessError):
            return request.redirect(SCREEN)
        return request.redirect(url)
