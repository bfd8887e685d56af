"""The JSON API under /api/ (the Kitonga seed's paths). Errors are
``{"error": {"code", "message"}}`` with a 4xx status; no stack trace ever leaves."""

import functools
import json
import logging
import re

import psycopg2
from werkzeug.exceptions import RequestEntityTooLarge

from odoo import http
from odoo.exceptions import AccessDenied, AccessError, ConcurrencyError, UserError, ValidationError
from odoo.http import request

from odoo.addons.isp_billing.exceptions import IspRateLimited

from ..models.isp_hotspot_payment import IspHotspotSaleRefused
from ..models.isp_hotspot_receipt import IspHotspotReceiptRefused
from ..models.isp_hotspot_voucher import IspHotspotVoucherRefused
from .common import (
    client_address,
    hotspot_sudo,
    remember_payment,
    request_lang,
    session_payment,
    sign_in,
    signed_in_partner,
    website_company,
)
from .openapi import openapi_document

_logger = logging.getLogger(__name__)

MAX_BODY = 16 * 1024
# the header carrying a payment's access token (never the URL: URLs end up in logs)
ACCESS_TOKEN_HEADER = "X-Access-Token"
BEARER = re.compile(r"^bearer\s+(.+)$", re.IGNORECASE)


# A refused voucher's code -> HTTP status
VOUCHER_STATUS = {
    "invalid_code": 400,
    "voucher_unknown": 404,
    "voucher_used": 409,
    "voucher_void": 409,
    "voucher_expired": 409,
}


# the seed API's boolean query values
BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


class ApiError(Exception):
    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or []


def json_response(data, status=200, headers=()):
    return request.make_json_response(
        data, status=status, headers=[("Cache-Control", "no-store"), *headers]
    )


def error_response(status, code, message, headers=()):
    return json_response(
        {"error": {"code": code, "message": message}}, status=status, headers=headers
    )


def api_key_user(company, group):
    """Authenticate the request's API key (``Authorization: Bearer <key>``, Odoo's
    ``res.users.apikeys``, the check of Odoo's ``auth="bearer"``) and make its user the
    request's user in ``company``, statelessly. Odoo's own bearer auth answers a missing
    or wrong key with an HTML 401; this raises ApiError (401 / 403, JSON) instead."""
    challenge = [("WWW-Authenticate", "Bearer")]
    match = BEARER.match(request.httprequest.headers.get("Authorization") or "")
    key = match.group(1).strip() if match else ""
    if not key:
        raise ApiError(
            401,
            "unauthorized",
            request.env._("This needs an API key: send Authorization: Bearer <key>."),
            challenge,
        )
    uid = request.env["res.users.apikeys"]._check_credentials(scope="rpc", key=key)
    if not uid:
        raise ApiError(401, "unauthorized", request.env._("Invalid API key."), challenge)
    user = request.env["res.users"].sudo().browse(uid)
    if not user.has_group(group) or company not in user.company_ids:
        raise ApiError(
            403,
            "forbidden",
            request.env._("This API key may not do this for %(company)s.", company=company.name),
        )
    request.update_env(user=uid)
    request.update_context(allowed_company_ids=[company.id])
    request.session.can_save = False
    return request.env.user


def api_route(route, methods, readonly=False):
    """An /api/ route: JSON in and out, errors as JSON 4xx, unexpected failures as a bare
    JSON 500 (logged here, never sent). Database concurrency errors go up to Odoo, which
    retries the request. Routes are ``auth="public"``: the admin routes check their API
    key themselves (``api_key_user``) to answer JSON."""

    def decorator(handler):
        @functools.wraps(handler)
        def wrapper(self, *args, **kwargs):
            try:
                return handler(self, *args, **kwargs)
            except ApiError as error:
                return error_response(error.status, error.code, error.message, error.headers)
            except IspRateLimited as error:
                # this module's limits and the providers' (e.g. the payment push limits)
                return error_response(429, "rate_limited", error.args[0])
            except IspHotspotVoucherRefused as error:
                return error_response(VOUCHER_STATUS[error.code], error.code, error.args[0])
            except IspHotspotReceiptRefused as error:
                # one message for every unmatched receipt (no enumeration)
                return error_response(400, error.code, error.args[0])
            except IspHotspotSaleRefused as error:
                # the company takes no new online sale now (neutral message)
                return error_response(403, "sales_unavailable", error.args[0])
            except (UserError, ValidationError) as error:
                return error_response(400, "invalid", error.args[0])
            except (AccessError, AccessDenied):
                request.env.cr.rollback()
                return error_response(403, "forbidden", request.env._("Not allowed."))
            except (
                ConcurrencyError,
                psycopg2.errors.SerializationFailure,
                psycopg2.OperationalError,
            ):
                raise
            except Exception:
                _logger.exception("API %s failed", route)
                request.env.cr.rollback()
                return error_response(
                    500, "internal_error", request.env._("Something went wrong. Please retry.")
                )

        return http.route(
            route,
            type="http",
            auth="public",
            methods=methods,
            csrf=False,
            sitemap=False,
            readonly=readonly,
            # bigger bodies are refused before Odoo parses a form (413); JSON bodies are
            # checked by json_body, which answers the JSON 413
            max_content_length=MAX_BODY,
            isp_api=True,
        )(wrapper)

    return decorator


def reject_json_constant(name):
    """NaN, Infinity and -Infinity are not JSON (RFC 8259), though Python reads them."""
    raise ValueError(f"{name} is not a JSON value")


def json_body():
    httprequest = request.httprequest
    if httprequest.mimetype != "application/json":
        raise ApiError(
            415, "unsupported_media_type", request.env._("Send the body as application/json.")
        )
    if (httprequest.content_length or 0) > MAX_BODY:
        raise ApiError(413, "too_large", request.env._("The request body is too large."))
    try:
        data = httprequest.get_data(cache=True)
    except RequestEntityTooLarge:
        # a body sent without Content-Length (chunked) that goes past the route's cap
        data = None
    if data is None or len(data) > MAX_BODY:
        raise ApiError(413, "too_large", request.env._("The request body is too large."))
    try:
        body = json.loads(data or b"null", parse_constant=reject_json_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        # RecursionError: nesting deeper than Python's parser goes (e.g. 5,000 "[")
        raise ApiError(400, "invalid_json", request.env._("The body is not valid JSON.")) from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", request.env._("The body must be a JSON object."))
    return body


def field(body, name, kind=str, required=True):
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise ApiError(400, "missing_field", request.env._("%(name)s is required.", name=name))
        return None
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ApiError(
                400, "wrong_type", request.env._("%(name)s must be a whole number.", name=name)
            )
        return value
    if not isinstance(value, kind):
        raise ApiError(400, "wrong_type", request.env._("%(name)s must be text.", name=name))
    if kind is str and len(value) > 256:
        raise ApiError(400, "too_long", request.env._("%(name)s is too long.", name=name))
    return value


def aliased_field(body, name, alias, kind=str, required=True):
    """``name``, or ``alias`` (its name in the seed API that existing captive frontends
    call); both given with different values is a 400."""
    value, other = body.get(name), body.get(alias)
    if value not in (None, "") and other not in (None, "") and value != other:
        raise ApiError(
            400,
            "conflicting_fields",
            request.env._(
                "%(name)s and %(alias)s differ: send one of them.", name=name, alias=alias
            ),
        )
    return field(
        body, alias if value in (None, "") and other not in (None, "") else name, kind, required
    )


class IspHotspotApi(http.Controller):
    def _context(self):
        company = website_company()
        request_lang(company=company)
        return company, hotspot_sudo(company)

    def _admin(self):
        """The website's company and isp.hotspot as the API key's user (an ISP manager)."""
        company = website_company()
        request_lang(company=company)
        api_key_user(company, "isp_billing.group_isp_manager")
        return company, request.env["isp.hotspot"].with_company(company)

    def _customer(self, company, hotspot, phone):
        """The customer ``phone`` when the caller may see it: the customer signed in on this
        session (sign-in code, payment or voucher), or an ISP user's API key."""
        if request.httprequest.headers.get("Authorization"):
            api_key_user(company, "isp_billing.group_isp_user")
            hotspot._rate("lookup_ip", client_address(), company)
            partner = hotspot._customer(company, phone)
            if not partner:
                raise ApiError(404, "not_found", request.env._("No customer has this number."))
            return partner
        partner = signed_in_partner(company)
        if not partner:
            raise ApiError(
                401,
                "unauthorized",
                request.env._("Sign in first (code by SMS, payment or voucher)."),
            )
        hotspot._rate("lookup_ip", client_address(), company)
        if partner.phone != hotspot._phone(company, phone):
            raise ApiError(403, "forbidden", request.env._("You can only see your own account."))
        return partner

    # ------------------------------------------------------------------ catalogue

    @api_route("/api/bundles/", ["GET"], readonly=True)
    def bundles(self, **kw):
        company, hotspot = self._context()
        catalogue = hotspot._catalogue(company)
        # no new sale now: no provider to pay with, and the neutral reason
        refusal = hotspot._sale_refusal(company)
        return json_response(
            {
                "company": catalogue["company"],
                "currency": catalogue["currency"],
                "bundles": catalogue["bundles"],
                "providers": []
                if refusal
                else [{"id": id_, "name": name} for id_, name in catalogue["providers"]],
                "sales_message": refusal or None,
            }
        )

    # ------------------------------------------------------------------ payment

    @api_route("/api/initiate-payment/", ["POST"])
    def initiate_payment(self, **kw):
        body = json_body()
        company, hotspot = self._context()
        tx = hotspot._initiate_payment(
            company,
            aliased_field(body, "phone", "phone_number"),
            field(body, "bundle_id", int),
            provider_id=field(body, "provider_id", int, required=False),
            mac=field(body, "mac", required=False),
            ip=field(body, "ip", required=False),
            client_ip=client_address(),
        )
        # this session follows the payment without a token; another client sends the
        # token in the X-Access-Token header (it expires, see ACCESS_TOKEN_LIFETIME)
        remember_payment(tx)
        status = hotspot._payment_status(tx)
        return json_response(
            dict(
                status,
                access_token=tx._isp_hotspot_access_token(),
                status_url=f"/api/payment-status/{tx.reference}/",
            ),
            status=201,
        )

    @api_route("/api/payment-status/<string:reference>/", ["GET"])
    def payment_status(self, reference, **kw):
        if "access_token" in request.httprequest.args:
            raise ApiError(
                400,
                "token_in_url",
                request.env._(
                    "Send the access token in the %(header)s header, not in the URL.",
                    header=ACCESS_TOKEN_HEADER,
                ),
            )
        company, hotspot = self._context()
        tx = hotspot._find_transaction(
            reference,
            request.httprequest.headers.get(ACCESS_TOKEN_HEADER),
            in_session=session_payment(reference),
        )
        if not tx or tx.company_id != company:
            raise ApiError(404, "not_found", request.env._("No such payment."))
        status = hotspot._payment_status(tx)
        if status["status"] == "paid":
            sign_in(tx.partner_id)
        return json_response(status)

    # ------------------------------------------------------------------ access

    @api_route("/api/verify-access/", ["POST"])
    def verify_access(self, **kw):
        body = json_body()
        company, hotspot = self._context()
        phone = field(body, "phone")
        mac = field(body, "mac")
        ip = field(body, "ip", required=False)
        partner = self._customer(company, hotspot, phone)
        result = hotspot._verify_access(
            partner, mac, ip, user_agent=request.httprequest.user_agent.string
        )
        return json_response(result)

    @api_route("/api/user-status/<string:phone>/", ["GET"])
    def user_status(self, phone, **kw):
        company, hotspot = self._context()
        partner = self._customer(company, hotspot, phone)
        return json_response(hotspot._customer_status(partner))

    @api_route("/api/devices/<string:phone>/", ["GET"])
    def devices(self, phone, **kw):
        company, hotspot = self._context()
        partner = self._customer(company, hotspot, phone)
        return json_response(
            {
                "phone": partner.phone,
                "device_limit": partner._isp_effective_device_limit(),
                "devices": hotspot._devices(partner),
            }
        )

    @api_route("/api/devices/remove/", ["POST"])
    def devices_remove(self, **kw):
        body = json_body()
        company, hotspot = self._context()
        partner = self._customer(company, hotspot, field(body, "phone"))
        hotspot._remove_device(partner, field(body, "mac"))
        return json_response({"removed": True, "devices": hotspot._devices(partner)})

    # ------------------------------------------------------------------ sign-in

    @api_route("/api/login-code/", ["POST"])
    def login_code(self, **kw):
        body = json_body()
        company, hotspot = self._context()
        phone = hotspot._send_code(company, field(body, "phone"), client_ip=client_address())
        return json_response(
            {
                "sent": True,
                "message": request.env._(
                    "If %(phone)s has an account, a sign-in code is on its way by SMS.",
                    phone=phone,
                ),
            },
            status=202,
        )

    @api_route("/api/login/", ["POST"])
    def login(self, **kw):
        body = json_body()
        company, hotspot = self._context()
        partner = hotspot._check_code(
            company, field(body, "phone"), field(body, "code"), client_ip=client_address()
        )
        sign_in(partner)
        return json_response(hotspot._customer_status(partner))

    # ------------------------------------------------------------------ vouchers

    @api_route("/api/vouchers/redeem/", ["POST"])
    def voucher_redeem(self, **kw):
        body = json_body()
        company, hotspot = self._context()
        purchase, may_sign_in = hotspot._redeem_voucher(
            company,
            aliased_field(body, "code", "voucher_code"),
            aliased_field(body, "phone", "phone_number"),
            mac=field(body, "mac", required=False),
            ip=field(body, "ip", required=False),
            client_ip=client_address(),
            signed_in=signed_in_partner(company),
        )
        if not may_sign_in:
            # another customer's number: credited; its owner signs in with the SMS code
            return json_response(
                {
                    "redeemed": True,
                    "signed_in": False,
                    "phone": purchase.partner_id.phone,
                    "message": hotspot._voucher_credited_message(purchase),
                },
                status=201,
            )
        sign_in(purchase.partner_id)
        return json_response(
            dict(hotspot._customer_status(purchase.partner_id), redeemed=True, signed_in=True),
            status=201,
        )

    # ------------------------------------------------------------------ receipts

    @api_route("/api/receipts/claim/", ["POST"])
    def receipt_claim(self, **kw):
        """ "I paid by Paybill/Till": the bundle for the M-Pesa receipt code, as the page's
        /hotspot/receipt (and a voucher redemption) gives it."""
        body = json_body()
        company, hotspot = self._context()
        purchase, may_sign_in = hotspot._claim_receipt(
            company,
            aliased_field(body, "receipt", "receipt_code"),
            aliased_field(body, "phone", "phone_number"),
            field(body, "bundle_id", int),
            mac=field(body, "mac", required=False),
            ip=field(body, "ip", required=False),
            client_ip=client_address(),
            signed_in=signed_in_partner(company),
        )
        if not may_sign_in:
            # another customer's number: they got the access; its owner signs in by SMS code
            return json_response(
                {
                    "claimed": True,
                    "signed_in": False,
                    "phone": purchase.partner_id.phone,
                    "message": hotspot._receipt_credited_message(purchase),
                },
                status=201,
            )
        sign_in(purchase.partner_id)
        return json_response(
            dict(hotspot._customer_status(purchase.partner_id), claimed=True, signed_in=True),
            status=201,
        )

    @api_route("/api/vouchers/generate/", ["POST"])
    def vouchers_generate(self, **kw):
        company, hotspot = self._admin()
        body = json_body()
        price = body.get("price")
        if price is not None and (isinstance(price, bool) or not isinstance(price, int | float)):
            raise ApiError(400, "wrong_type", request.env._("price must be a number."))
        bundle_id = field(body, "bundle_id", int, required=False)
        duration_hours = field(body, "duration_hours", int, required=False)
        if bundle_id is None and duration_hours is None:
            raise ApiError(
                400,
                "missing_field",
                request.env._("bundle_id (or duration_hours, for a plain duration) is required."),
            )
        batch = hotspot._generate_vouchers(
            company,
            bundle_id,
            field(body, "quantity", int),
            price=price,
            duration_hours=duration_hours,
            name=aliased_field(body, "name", "batch_id", required=False),
            valid_until=field(body, "valid_until", required=False),
            notes=field(body, "notes", required=False),
        )
        return json_response(
            {
                "batch": hotspot._batch_values(batch),
                "vouchers": hotspot._voucher_values(batch.voucher_ids.sorted("id")),
            },
            status=201,
        )

    @api_route("/api/vouchers/", ["GET"], readonly=True)
    def vouchers(self, batch_id=None, state=None, limit="100", offset="0", is_used=None, **kw):
        company, hotspot = self._admin()
        values = {}
        if is_used not in (None, ""):
            if not isinstance(is_used, str) or is_used.lower() not in BOOLEANS:
                raise ApiError(400, "wrong_type", request.env._("is_used must be true or false."))
            values["is_used"] = BOOLEANS[is_used.lower()]
        if batch_id not in (None, "") and not (isinstance(batch_id, str) and batch_id.isdigit()):
            # the seed API names batches by their Batch ID
            values["batch_name"] = field({"batch_id": batch_id}, "batch_id")
            batch_id = None
        for name, value in (("batch_id", batch_id), ("limit", limit), ("offset", offset)):
            if value in (None, ""):
                continue
            if not isinstance(value, str) or not value.isascii() or not value.isdigit():
                raise ApiError(
                    400,
                    "wrong_type",
                    request.env._("%(name)s must be a whole number.", name=name),
                )
            values[name] = int(value[:12])
        count, vouchers = hotspot._list_vouchers(
            company,
            batch_id=values.get("batch_id"),
            batch_name=values.get("batch_name"),
            is_used=values.get("is_used"),
            state=state or None,
            limit=values.get("limit", 100),
            offset=values.get("offset", 0),
        )
        return json_response({"count": count, "vouchers": hotspot._voucher_values(vouchers)})

    # ------------------------------------------------------------------ operations

    @api_route("/api/health/", ["GET"], readonly=True)
    def health(self, **kw):
        _company, hotspot = self._context()
        return json_response(hotspot._health())

    @api_route("/api/openapi.json", ["GET"], readonly=True)
    def openapi(self, **kw):
        return json_response(openapi_document())

    @http.route(
        "/api/<path:path>",
        type="http",
        auth="public",
        csrf=False,
        sitemap=False,
        readonly=True,
        save_session=False,
        max_content_length=MAX_BODY,
        isp_api=True,
    )
    def not_found(self, path, **kw):
        """Any other path under /api/ (or a route's parameter holding a slash): a JSON 404,
        not the website's page."""
        return error_response(404, "not_found", request.env._("There is no such API route."))
