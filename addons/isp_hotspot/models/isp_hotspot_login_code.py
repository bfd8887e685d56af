import hashlib
import hmac
import secrets
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

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

    def _isp_hash(self, partner, code):
        secret = self.env["ir.config_parameter"].sudo().get_param("database.secret") or ""
        message = f"{partner.id}:{code}".encode()
        return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()

    @api.model
    def _isp_issue(self, partner):
        """Send a new code to ``partner`` by SMS. Earlier codes stop working. Raises a
        UserError when no SMS channel is installed."""
        partner.ensure_one()
        code = f"{secrets.randbelow(1_000_000):06d}"
        codes = self.sudo()
        codes.search([("partner_id", "=", partner.id), ("used", "=", False)]).used = True
        codes.create(
            {
                "partner_id": partner.id,
                "company_id": partner.company_id.id,
                "code_hash": self._isp_hash(partner, code),
                "expires_at": fields.Datetime.now() + CODE_LIFETIME,
            }
        )
        if not partner.sudo()._isp_send_login_code(code):
            raise UserError(
                self.env._("Sign-in by SMS is not available here. Use a voucher or buy a bundle.")
            )
        return True

    @api.model
    def _isp_check(self, partner, code):
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
        if hmac.compare_digest(current.code_hash, self._isp_hash(partner, digits)):
            current.used = True
            return True
        current.tries += 1
        if current.tries >= MAX_TRIES:
            current.used = True
        return False
