from urllib.parse import urlencode

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

from ..models.isp_receipt_claim_attempt import RESULTS as RECEIPT_RESULTS


def portal_record(model_name, record_id):
    """The record as the portal user may read it (the record rules decide), or 404: someone
    else's record and a record that does not exist answer alike, so ids reveal nothing."""
    record = request.env[model_name].browse(record_id)
    try:
        record.check_access("read")
        if not record.exists():
            raise NotFound()
    except (MissingError, AccessError) as exc:
        raise NotFound() from exc
    return record


class IspCustomerPortal(CustomerPortal):
    """PPPoE (and hotspot) customers in /my: their subscriptions, usage, invoices (Odoo's
    /my/invoices, with online payment) and change-of-plan requests. Records are read as the
    portal user, so the record rules decide what exists for them."""

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "isp_subscription_count" in counters:
            Subscription = request.env["isp.subscription"]
            values["isp_subscription_count"] = (
                Subscription.search_count(self._isp_subscription_domain())
                if Subscription.has_access("read")
                else 0
            )
        return values

    def _prepare_portal_layout_values(self):
        """Adds the customer's account number and the company's Paybill, shown on /my and
        /my/subscriptions (isp_billing.portal_isp_account_number)."""
        values = super()._prepare_portal_layout_values()
        values.update(request.env.user.partner_id._isp_payment_details())
        return values

    def _isp_subscription_domain(self):
        partner = request.env.user.partner_id
        return [
            ("partner_id", "child_of", partner.commercial_partner_id.ids),
            ("state", "!=", "draft"),
        ]

    def _isp_subscription_check_access(self, subscription_id):
        """The subscription as the portal user may see it (sudo, for rendering), or 404."""
        return portal_record("isp.subscription", subscription_id).sudo()

    @http.route(
        ["/my/subscriptions", "/my/subscriptions/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
        readonly=True,
    )
    def portal_my_isp_subscriptions(self, page=1, **kw):
        Subscription = request.env["isp.subscription"]
        domain = self._isp_subscription_domain()
        total = Subscription.search_count(domain) if Subscription.has_access("read") else 0
        pager = portal_pager(
            url="/my/subscriptions", total=total, page=page, step=self._items_per_page
        )
        subscriptions = (
            Subscription.search(
                domain,
                order="state, date_expiry desc, id desc",
                limit=self._items_per_page,
                offset=pager["offset"],
            )
            if total
            else Subscription
        )
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "isp_subscriptions",
                "subscriptions": subscriptions.sudo(),
                # the oldest invoice each subscription still owes: "Pay now" in the list
                "to_pay": {
                    subscription.id: subscription._portal_invoices().filtered(
                        lambda m: m.move_type == "out_invoice"
                        and m.payment_state in ("not_paid", "partial")
                    )[-1:]
                    for subscription in subscriptions.sudo()
                },
                "pager": pager,
                "default_url": "/my/subscriptions",
                # "I paid by Paybill/Till": the form, and the outcome of a claim (a code from
                # a fixed set: a link cannot put words of its own on the page)
                "receipt_offer": request.env["isp.receipt.claim.attempt"]
                .sudo()
                ._portal_claim_offer(request.env.user),
                "receipt_result": kw.get("receipt")
                if kw.get("receipt") in RECEIPT_RESULTS
                else None,
            }
        )
        return request.render("isp_billing.portal_my_isp_subscriptions", values)

    @http.route(
        ["/my/subscriptions/<int:subscription_id>"],
        type="http",
        auth="user",
        website=True,
        readonly=True,
    )
    def portal_my_isp_subscription(self, subscription_id, **kw):
        subscription_sudo = self._isp_subscription_check_access(subscription_id)
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "isp_subscription",
                "subscription": subscription_sudo,
                "speed": subscription_sudo._portal_speed(),
                "sessions": subscription_sudo._portal_sessions(),
                "invoices": subscription_sudo._portal_invoices(),
                "plan_options": subscription_sudo._portal_plan_options(),
                "plan_message": kw.get("plan"),
                "plan_error": kw.get("plan_error"),
                "devices": subscription_sudo.partner_id.isp_device_ids
                if subscription_sudo.service_type == "hotspot"
                else subscription_sudo.partner_id.isp_device_ids.browse(),
                # a code, not a text: a link cannot put words of its own on the page
                "device_message": kw.get("device"),
            }
        )
        return request.render("isp_billing.portal_my_isp_subscription", values)

    @http.route(
        ["/my/subscriptions/<int:subscription_id>/change_plan"],
        type="http",
        auth="user",
        website=True,
        methods=["POST"],
    )
    def portal_my_isp_subscription_change_plan(
        self, subscription_id, bundle_id=None, note="", **kw
    ):
        subscription_sudo = self._isp_subscription_check_access(subscription_id)
        url = f"/my/subscriptions/{subscription_sudo.id}"
        try:
            bundle = request.env["product.product"].sudo().browse(int(bundle_id or 0)).exists()
            subscription_sudo.with_context(lang=request.env.lang)._request_plan_change(bundle, note)
        except (UserError, ValueError) as exc:
            message = (
                exc.args[0]
                if isinstance(exc, UserError)
                else request.env._("Choose one of the plans offered.")
            )
            return request.redirect(f"{url}?{urlencode({'plan_error': message})}")
        return request.redirect(f"{url}?plan=requested")

    @http.route(
        ["/my/subscriptions/<int:subscription_id>/device/<int:device_id>/rename"],
        type="http",
        auth="user",
        website=True,
        methods=["POST"],
    )
    def portal_my_isp_device_rename(self, subscription_id, device_id, name="", **kw):
        """Name one of the customer's own devices: a device of another customer answers 404
        like one that does not exist."""
        subscription_sudo = self._isp_subscription_check_access(subscription_id)
        device_sudo = subscription_sudo.partner_id.isp_device_ids.filtered(
            lambda d: d.id == device_id
        )
        if not device_sudo:
            raise NotFound()
        url = f"/my/subscriptions/{subscription_sudo.id}"
        try:
            device_sudo._isp_rename(name)
        except UserError:
            return request.redirect(f"{url}?device=no_name#devices")
        return request.redirect(f"{url}?device=renamed#devices")

    @http.route(
        ["/my/subscriptions/receipt"],
        type="http",
        auth="user",
        website=True,
        methods=["POST"],
    )
    def portal_my_isp_receipt_claim(self, receipt=None, bundle_id=None, **kw):
        """ "I paid by Paybill/Till": the signed-in customer claims the bundle paid with the
        M-Pesa receipt code (POST, CSRF token checked), at most a few failures per user."""
        result = (
            request.env["isp.receipt.claim.attempt"]
            .sudo()
            ._portal_claim(request.env.user, receipt, bundle_id)
        )
        return request.redirect(f"/my/subscriptions?{urlencode({'receipt': result})}#receipt")
