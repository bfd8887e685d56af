import math
import uuid
from urllib.parse import urlencode

from werkzeug.exceptions import Forbidden, NotFound

from odoo import http
from odoo.exceptions import UserError
from odoo.http import request

from odoo.addons.payment import utils as payment_utils
from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

from .portal import portal_record


class IspResellerPortal(CustomerPortal):
    """Resellers in /my: balance and top-up, buying voucher batches from the balance, their
    batches (CSV and PDF cards), their customers, sales and commission per month."""

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "isp_reseller_batch_count" in counters:
            Batch = request.env["isp.voucher.batch"]
            values["isp_reseller_batch_count"] = (
                Batch.search_count(self._isp_batch_domain()) if self._isp_reseller() else 0
            )
        return values

    def _isp_reseller(self):
        """The logged-in user's reseller partner, or an empty recordset."""
        partner = request.env.user.partner_id.commercial_partner_id
        return partner if partner.isp_is_reseller else partner.browse()

    def _isp_reseller_or_403(self):
        reseller = self._isp_reseller()
        if not reseller:
            raise Forbidden()
        return reseller

    def _isp_batch_domain(self):
        return [("reseller_id", "=", request.env.user.partner_id.commercial_partner_id.id)]

    def _isp_batch_check_access(self, batch_id):
        self._isp_reseller_or_403()
        return portal_record("isp.voucher.batch", batch_id)

    def _isp_reseller_values(self, reseller, **extra):
        company = reseller.company_id or request.env.company
        values = self._prepare_portal_layout_values()
        values.update(
            reseller=reseller.sudo(),
            currency=company.currency_id,
            balance=reseller.sudo()._isp_reseller_balance_amount(company),
            **extra,
        )
        return values

    @http.route(["/my/reseller"], type="http", auth="user", website=True)
    def portal_isp_reseller(self, **kw):
        reseller = self._isp_reseller_or_403()
        batches = request.env["isp.voucher.batch"].search(self._isp_batch_domain(), limit=5)
        values = self._isp_reseller_values(
            reseller,
            page_name="isp_reseller",
            bundles=reseller.sudo()._isp_reseller_bundles(),
            batches=batches.sudo(),
            request_key=uuid.uuid4().hex,
            error=kw.get("error"),
        )
        return request.render("isp_billing.portal_isp_reseller", values)

    @http.route(["/my/reseller/buy"], type="http", auth="user", website=True, methods=["POST"])
    def portal_isp_reseller_buy(self, bundle_id=None, quantity=None, request_key=None, **kw):
        reseller = self._isp_reseller_or_403()
        try:
            bundle = request.env["product.product"].sudo().browse(int(bundle_id or 0)).exists()
        except ValueError:
            bundle = request.env["product.product"]
        try:
            # sudo: the reseller pays from its own balance; the model checks everything
            purchase = (
                request.env["isp.reseller.purchase"]
                .sudo()
                ._buy(reseller.sudo(), bundle, quantity, request_key)
            )
        except UserError as exc:
            return request.redirect(f"/my/reseller?{urlencode({'error': exc.args[0]})}")
        return request.redirect(f"/my/reseller/batches/{purchase.batch_id.id}?bought=1")

    @http.route(["/my/reseller/topup"], type="http", auth="user", website=True, readonly=True)
    def portal_isp_reseller_topup(self, amount=None, **kw):
        """Online top-up: Odoo's payment page for the amount, on behalf of the reseller."""
        reseller = self._isp_reseller_or_403()
        try:
            amount = float(amount or 0)
        except ValueError:
            amount = 0
        if not math.isfinite(amount) or amount <= 0:  # "nan", "inf" parse as floats
            message = request.env._("Enter the amount to top up.")
            return request.redirect(f"/my/reseller?{urlencode({'error': message})}")
        company = reseller.company_id or request.env.company
        currency = company.currency_id
        amount = currency.round(amount)
        params = {
            "amount": amount,
            "currency_id": currency.id,
            "partner_id": reseller.id,
            "company_id": company.id,
            "reference": "TOPUP",
            "access_token": payment_utils.generate_access_token(
                reseller.id, amount, currency.id, env=request.env
            ),
        }
        return request.redirect(f"/payment/pay?{urlencode(params)}")

    @http.route(
        ["/my/reseller/batches", "/my/reseller/batches/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
        readonly=True,
    )
    def portal_isp_reseller_batches(self, page=1, **kw):
        reseller = self._isp_reseller_or_403()
        Batch = request.env["isp.voucher.batch"]
        domain = self._isp_batch_domain()
        pager = portal_pager(
            url="/my/reseller/batches",
            total=Batch.search_count(domain),
            page=page,
            step=self._items_per_page,
        )
        batches = Batch.search(domain, limit=self._items_per_page, offset=pager["offset"])
        values = self._isp_reseller_values(
            reseller, page_name="isp_reseller_batches", batches=batches.sudo(), pager=pager
        )
        return request.render("isp_billing.portal_isp_reseller_batches", values)

    @http.route(
        ["/my/reseller/batches/<int:batch_id>"],
        type="http",
        auth="user",
        website=True,
        readonly=True,
    )
    def portal_isp_reseller_batch(self, batch_id, **kw):
        batch = self._isp_batch_check_access(batch_id)
        values = self._isp_reseller_values(
            self._isp_reseller(),
            page_name="isp_reseller_batch",
            batch=batch.sudo(),
            purchase=request.env["isp.reseller.purchase"]
            .search([("batch_id", "=", batch.id)], limit=1)
            .sudo(),
            bought=kw.get("bought"),
        )
        return request.render("isp_billing.portal_isp_reseller_batch", values)

    @http.route(
        ["/my/reseller/batches/<int:batch_id>/download/<string:file_format>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_isp_reseller_batch_download(self, batch_id, file_format, part="1", **kw):
        batch = self._isp_batch_check_access(batch_id)
        batch_sudo = batch.sudo()
        suffix = ""
        if file_format == "csv":
            content = request.env["isp.voucher.export"].sudo()._render(batch_sudo, "csv")
            mimetype = "text/csv; charset=utf-8"
        elif file_format == "pdf":
            # isdecimal: "²" is a digit to isdigit() but not to int()
            part = int(part) if str(part).isdecimal() and len(str(part)) < 6 else 0
            try:
                rendered = batch_sudo._portal_cards_pdf(self._isp_reseller(), part)
            except UserError as exc:
                return request.make_response(
                    exc.args[0],
                    headers=[("Content-Type", "text/plain; charset=utf-8"), ("Retry-After", "60")],
                    status=429,
                )
            if not rendered:
                raise NotFound()
            content, kind = rendered
            # Odoo's test mode renders reports as HTML instead of calling wkhtmltopdf
            file_format = "pdf" if kind == "pdf" else "html"
            mimetype = "application/pdf" if kind == "pdf" else "text/html; charset=utf-8"
            suffix = f"-{part}" if len(batch_sudo._portal_card_parts()) > 1 else ""
        else:
            raise NotFound()
        filename = f"{batch_sudo.name.replace('/', '_')}{suffix}.{file_format}"
        return request.make_response(
            content,
            headers=[
                ("Content-Type", mimetype),
                ("Content-Length", str(len(content))),
                ("Content-Disposition", http.content_disposition(filename)),
            ],
        )

    @http.route(["/my/reseller/customers"], type="http", auth="user", website=True, readonly=True)
    def portal_isp_reseller_customers(self, **kw):
        reseller = self._isp_reseller_or_403()
        values = self._isp_reseller_values(
            reseller,
            page_name="isp_reseller_customers",
            customers=request.env["isp.reseller.purchase"]._reseller_customers(reseller),
        )
        return request.render("isp_billing.portal_isp_reseller_customers", values)

    @http.route(["/my/reseller/sales"], type="http", auth="user", website=True, readonly=True)
    def portal_isp_reseller_sales(self, **kw):
        reseller = self._isp_reseller_or_403()
        values = self._isp_reseller_values(
            reseller,
            page_name="isp_reseller_sales",
            sales=request.env["isp.reseller.purchase"]._reseller_sales(reseller),
        )
        return request.render("isp_billing.portal_isp_reseller_sales", values)
