from datetime import timedelta

from odoo import api, fields, models
from odoo.tools.constants import GC_UNLINK_LIMIT

from odoo.addons.isp_billing.exceptions import IspRateLimited

# attempts are kept this long (the longest rate-limit window is 15 minutes)
RETENTION = timedelta(days=2)


class IspPortalLoginAttempt(models.Model):
    """One attempt at the portal's sign-in by phone (asking for a code, entering one), by
    key (the phone number or the client's address). Counting the rows of a sliding window
    is the rate limit; unknown numbers count like known ones (their limit answers alike);
    the autovacuum deletes old rows."""

    _name = "isp.portal.login.attempt"
    _description = "ISP Portal Sign-in Attempt"
    _order = "date desc, id desc"
    _log_access = False

    kind = fields.Char(required=True, readonly=True)
    key = fields.Char(required=True, readonly=True)
    date = fields.Datetime(required=True, readonly=True, default=fields.Datetime.now)
    # the company of the website the attempt was made on: what the multi-company record
    # rule reads, not part of the limit's key
    company_id = fields.Many2one(
        "res.company", readonly=True, default=lambda self: self.env.company
    )

    _kind_key_date_idx = models.Index("(kind, key, date DESC)")
    _date_idx = models.Index("(date)")

    @api.model
    def _hit(self, kind, key, limit, window, company=None):
        """Count one attempt of ``kind`` by ``key`` (ignored when empty), or raise
        IspRateLimited when ``key`` already made ``limit`` attempts in the last ``window``
        seconds. The caller commits the row (the HTTP request does, when it answers)."""
        if not key:
            return True
        attempts = self.sudo()
        since = fields.Datetime.now() - timedelta(seconds=window)
        count = attempts.search_count(
            [("kind", "=", kind), ("key", "=", key), ("date", ">=", since)], limit=limit
        )
        if count >= limit:
            raise IspRateLimited(
                self.env._(
                    "Too many attempts. Please wait %(minutes)s minutes, then try again.",
                    minutes=max(1, round(window / 60)),
                )
            )
        attempts.create({"kind": kind, "key": key, "company_id": (company or self.env.company).id})
        return True

    @api.autovacuum
    def _gc_attempts(self):
        """Delete a batch of the attempts older than ``RETENTION``."""
        attempts = self.sudo().search(
            [("date", "<", fields.Datetime.now() - RETENTION)], limit=GC_UNLINK_LIMIT
        )
        attempts.unlink()
        return len(attempts), len(attempts) == GC_UNLINK_LIMIT  # done, remaining
