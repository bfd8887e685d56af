from datetime import timedelta

from odoo import api, fields, models
from odoo.tools.constants import GC_UNLINK_LIMIT

from odoo.addons.isp_billing.exceptions import IspRateLimited

# attempts are kept this long (the longest rate-limit window is 15 minutes)
RETENTION = timedelta(days=2)


class IspHotspotRateLimited(IspRateLimited):
    """Too many attempts of one kind from one phone number or address."""


class IspHotspotAttempt(models.Model):
    """One attempt at a rate-limited public action (a payment request, a sign-in code, a
    voucher, a lookup by phone number), by key (phone number or client address). Counting
    the rows of a sliding window is the rate limit; the autovacuum deletes old rows."""

    _name = "isp.hotspot.attempt"
    _description = "ISP Hotspot Rate-Limited Attempt"
    _order = "date desc, id desc"
    _log_access = False

    kind = fields.Char(required=True, readonly=True)
    key = fields.Char(required=True, readonly=True)
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    # the company whose page or API counted the attempt (the callers' env is the website's
    # company): what the multi-company record rule reads, not part of the limit's key
    company_id = fields.Many2one(
        "res.company", readonly=True, default=lambda self: self.env.company
    )

    _kind_key_date_idx = models.Index("(kind, key, date DESC)")
    _date_idx = models.Index("(date)")

    @api.model
    def _hit(self, kind, keys, limit, window, record=True):
        """Count one attempt of ``kind`` for each of ``keys`` (falsy keys ignored), or raise
        IspHotspotRateLimited when one of them already made ``limit`` attempts in the last
        ``window`` seconds. The caller commits the rows (the HTTP request does).
        ``record=False``: only check (a limit of failures, counted by ``_record``)."""
        keys = [key for key in keys if key]
        since = fields.Datetime.now() - timedelta(seconds=window)
        attempts = self.sudo()
        for key in keys:
            count = attempts.search_count(
                [("kind", "=", kind), ("key", "=", key), ("date", ">=", since)], limit=limit
            )
            if count >= limit:
                raise IspHotspotRateLimited(
                    self.env._(
                        "Too many attempts. Please wait %(minutes)s minutes, then try again.",
                        minutes=max(1, round(window / 60)),
                    )
                )
        if record:
            attempts._record(kind, keys)
        return True

    @api.model
    def _record(self, kind, keys):
        """Count one attempt of ``kind`` for each of ``keys`` (falsy keys ignored)."""
        self.sudo().create([{"kind": kind, "key": key} for key in keys if key])
        return True

    @api.autovacuum
    def _gc_attempts(self):
        """Delete a batch of the attempts older than ``RETENTION``."""
        attempts = self.sudo().search(
            [("date", "<", fields.Datetime.now() - RETENTION)], limit=GC_UNLINK_LIMIT
        )
        attempts.unlink()
        return len(attempts), len(attempts) == GC_UNLINK_LIMIT  # done, remaining
