"""Claim by receipt in the portal (/my/subscriptions): "I paid by Paybill/Till"."""

from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools.constants import GC_UNLINK_LIMIT

# failed claims one portal user may make in the window
MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
# attempts are kept this long (longer than the window)
RETENTION = timedelta(days=2)
# the outcomes of a portal claim: the page shows a fixed text for each (never a text of the
# request's own)
RESULTS = ("claimed", "refused", "invalid", "blocked", "unavailable")


class IspReceiptClaimAttempt(models.Model):
    """A failed claim by receipt of a portal user: counting the rows of the window is the
    portal's rate limit (the captive page counts its own in isp.hotspot.attempt); the
    autovacuum deletes old rows."""

    _name = "isp.receipt.claim.attempt"
    _description = "ISP Receipt Claim Failed Attempt"
    _order = "date desc, id desc"
    _log_access = False

    user_id = fields.Many2one("res.users", required=True, readonly=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", required=True, readonly=True)
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)

    _user_date_idx = models.Index("(user_id, date DESC)")
    _date_idx = models.Index("(date)")

    @api.model
    def _portal_partner(self, user):
        """The ISP customer a portal user claims for: theirs (their commercial partner),
        else an empty recordset."""
        partner = user.partner_id.commercial_partner_id.sudo()
        return partner if partner.is_isp_customer else partner.browse()

    @api.model
    def _portal_bundles(self, partner):
        """The bundles a customer may claim a payment for: the ISP bundles on sale that
        their company sells, with ``(bundle, price text)`` pairs."""
        company = partner.company_id
        bundles = (
            self.env["product.product"]
            .sudo()
            .search(
                [
                    ("is_isp_bundle", "=", True),
                    ("sale_ok", "=", True),
                    ("company_id", "=", company.id),
                ],
                order="sequence, list_price, id",
            )
        )
        result = []
        for bundle in bundles:
            if bundle._isp_sale_error(company):
                continue
            price, currency = bundle._isp_customer_price(partner, company)
            result.append((bundle, currency.format(price)))
        return result

    @api.model
    def _portal_claim_offer(self, user):
        """What the portal's "I paid by Paybill/Till" form offers ``user``: ``{"bundles"}``,
        or False when their company takes no payment claimable by receipt."""
        partner = self._portal_partner(user)
        if not partner or not self.env["isp.purchase"]._receipt_claim_enabled(partner.company_id):
            return False
        bundles = self._portal_bundles(partner)
        return {"bundles": bundles} if bundles else False

    @api.model
    def _portal_claim(self, user, receipt, bundle_id):
        """Claim the payment of receipt code ``receipt`` for the bundle ``bundle_id`` for
        the portal ``user``'s customer (``isp.purchase._claim_receipt``). Returns one of
        RESULTS; a refusal changes nothing but this user's failure count (the caller
        commits it by answering normally). Called with sudo() by the portal route."""
        partner = self._portal_partner(user)
        offer = self._portal_claim_offer(user)
        if not offer:
            return "unavailable"
        company = partner.company_id
        since = fields.Datetime.now() - WINDOW
        if (
            self.search_count(
                [("user_id", "=", user.id), ("date", ">=", since)], limit=MAX_FAILURES
            )
            >= MAX_FAILURES
        ):
            return "blocked"
        try:
            bundle_id = int(bundle_id)
        except (TypeError, ValueError):
            bundle_id = 0
        bundle = next((b for b, _price in offer["bundles"] if b.id == bundle_id), None)
        code = self.env["isp.purchase"]._receipt_code(receipt)
        if not bundle or not code:
            return "invalid"
        try:
            with self.env.cr.savepoint():
                self.env["isp.purchase"]._claim_receipt(company, code, partner, bundle)
        except UserError:
            self.create({"user_id": user.id, "company_id": company.id})
            return "refused"
        return "claimed"

    @api.autovacuum
    def _gc_attempts(self):
        """Delete a batch of the attempts older than ``RETENTION``."""
        attempts = self.sudo().search(
            [("date", "<", fields.Datetime.now() - RETENTION)], limit=GC_UNLINK_LIMIT
        )
        attempts.unlink()
        return len(attempts), len(attempts) == GC_UNLINK_LIMIT
