import secrets
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import consteq
from odoo.tools.constants import GC_UNLINK_LIMIT
from odoo.tools.misc import hmac

CODE_LIFETIME = timedelta(minutes=10)
MAX_TRIES = 5


class IspHotspotLoginCode(models.Model):
    """A one-time sign-in code sent by SMS ("Already paid?"): stored hashed, valid for ten
    minutes and five tries, used once."""

    _name = "isp.hotspot.login.code"
    _description = "ISP Hotspot Sign-in Code"
    _order = "id desc"

    partner_id = fields.Many2one("res.partner", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", required=True, index=True)
    code_hash = fields.Char(required=True)
    expires_at = fields.Datetime(required=True, index=True)
    tries = fields.Integer(default=0)
    used = fields.Boolean(default=False)

    def _hash_code(self, partner, code):
        return hmac(self.env(su=True), "isp-hotspot-login-code", f"{partner.id}:{code}")

    @api.model
    def _can_deliver(self):
        """True when sign-in codes can be sent: False here (no channel); the bridge
        isp_hotspot_sms sends them by SMS through isp_sms."""
        return False

    @api.model
    def _deliver(self, partner, code):
        """Send the one-time ``code`` to ``partner``'s phone; True when sent. False here
        (no channel, see ``_can_deliver``)."""
        return False

    @api.model
    def _issue(self, partner):
        """Send a new code to ``partner`` (``_deliver``). Earlier codes stop working. Raises
        a UserError when no channel is installed."""
        partner.ensure_one()
        code = f"{secrets.randbelow(1_000_000):06d}"
        codes = self.sudo()
        codes.search([("partner_id", "=", partner.id), ("used", "=", False)]).used = True
        codes.create(
            {
                "partner_id": partner.id,
                "company_id": partner.company_id.id,
                "code_hash": self._hash_code(partner, code),
                "expires_at": fields.Datetime.now() + CODE_LIFETIME,
            }
        )
        if not self._deliver(partner.sudo(), code):
            raise UserError(
                self.env._("Sign-in by SMS is not available here. Use a voucher or buy a bundle.")
            )
        return True

    @api.model
    def _verify(self, partner, code):
        """True when ``code`` is ``partner``'s current code (then used up); each wrong try
        counts, and the code dies after five."""
        partner.ensure_one()
        current = self.sudo().search(
            [
                ("partner_id", "=", partner.id),
                ("used", "=", False),
                ("expires_at", ">", fields.Datetime.now()),
            ],
            limit=1,
        )
        if not current:
            return False
        digits = "".join(ch for ch in str(code or "") if ch.isdigit())
        if consteq(current.code_hash, self._hash_code(partner, digits)):
            current.used = True
            return True
        current.tries += 1
        if current.tries >= MAX_TRIES:
            current.used = True
        return False

    @api.autovacuum
    def _gc_codes(self):
        """Delete a batch of the codes expired for more than two days."""
        codes = self.sudo().search(
            [("expires_at", "<", fields.Datetime.now() - timedelta(days=2))], limit=GC_UNLINK_LIMIT
        )
        codes.unlink()
        return len(codes), len(codes) == GC_UNLINK_LIMIT  # done, remaining
