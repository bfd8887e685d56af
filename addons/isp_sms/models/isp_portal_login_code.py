"""Sign-in to the customer portal (/my) with the phone number: a one-time code by SMS."""

import secrets
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import consteq
from odoo.tools.constants import GC_UNLINK_LIMIT
from odoo.tools.misc import hmac

CODE_LIFETIME = timedelta(minutes=10)
MAX_TRIES = 5
TEMPLATE_LOGIN_CODE = "isp_sms.sms_template_isp_portal_login_code"
# Rate limits: kind -> (attempts, window in seconds). Per phone number, and per client
# address (generous: customers on a hotspot reach Odoo from the router's one address).
RATE_LIMITS = {
    "code_phone": (3, 900),
    "code_ip": (30, 900),
    "signin_phone": (10, 900),
    "signin_ip": (60, 900),
}


class IspPortalLoginCode(models.Model):
    """A one-time code that signs a portal user in (res.users ``_check_credentials``,
    credential type ``isp_phone_code``): stored as an HMAC, valid ten minutes and five
    tries, used once; a new code replaces the previous one."""

    _name = "isp.portal.login.code"
    _description = "ISP Portal Sign-in Code"
    _order = "id desc"

    user_id = fields.Many2one("res.users", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one("res.company", required=True, index=True)
    code_hash = fields.Char(required=True)
    expires_at = fields.Datetime(required=True, index=True)
    tries = fields.Integer(default=0)
    used = fields.Boolean(default=False)

    def _hash_code(self, user, code):
        return hmac(self.env(su=True), "isp-portal-login-code", f"{user.id}:{code}")

    # ------------------------------------------------------------------ public entry points

    @api.model
    def _phone(self, company, phone):
        """``phone`` in E.164 (national forms of ``company``'s country), or a UserError."""
        if not isinstance(phone, str) or len(phone) > 40:
            raise UserError(self.env._("Enter your mobile phone number."))
        try:
            return self.env["res.partner"]._isp_normalize_phone(phone, company.country_id)
        except ValidationError as error:
            raise UserError(error.args[0]) from error

    @api.model
    def _rate(self, kind, key, company):
        limit, window = RATE_LIMITS[kind]
        return self.env["isp.portal.login.attempt"]._hit(kind, key, limit, window, company)

    @api.model
    def _find_user(self, company, e164):
        """The active portal user of ``company`` who signs in with ``e164``: their login,
        else their contact's phone number (empty when there is none)."""
        users = (
            self.env["res.users"]
            .sudo()
            .search(
                [
                    ("share", "=", True),
                    ("company_ids", "in", company.id),
                    "|",
                    ("login", "=", e164),
                    ("partner_id.phone", "=", e164),
                ],
                order="id",
            )
            .filtered(lambda user: user._is_portal())
        )
        return users.filtered(lambda user: user.login == e164)[:1] or users[:1]

    @api.model
    def _request_code(self, company, phone, client_ip=None):
        """Send a sign-in code by SMS when ``phone`` is a portal user's of ``company``.
        Unknown numbers get the same answer and count in the same limits (no way to probe
        who has an account). Returns the number in E.164; bad input and rate limits raise
        a UserError."""
        e164 = self._phone(company, phone)
        self._rate("code_phone", e164, company)
        self._rate("code_ip", client_ip, company)
        user = self._find_user(company, e164)
        if user:
            self._issue(user, e164, company)
        return e164

    @api.model
    def _signing_in_user(self, company, phone, client_ip=None):
        """The user a code typed for ``phone`` would sign in (empty when none), after the
        sign-in rate limits; the code itself is checked by res.users
        ``_check_credentials``."""
        e164 = self._phone(company, phone)
        self._rate("signin_phone", e164, company)
        self._rate("signin_ip", client_ip, company)
        return self._find_user(company, e164)

    # ------------------------------------------------------------------ codes

    @api.model
    def _issue(self, user, number, company):
        """A new code for ``user`` sent by SMS to ``number``; earlier codes stop working."""
        code = f"{secrets.randbelow(1_000_000):06d}"
        codes = self.sudo()
        codes.search([("user_id", "=", user.id), ("used", "=", False)]).used = True
        codes.create(
            {
                "user_id": user.id,
                "company_id": company.id,
                "code_hash": self._hash_code(user, code),
                "expires_at": fields.Datetime.now() + CODE_LIFETIME,
            }
        )
        self._deliver(user, number, code, company)

    @api.model
    def _deliver(self, user, number, code, company):
        """Queue the SMS of ``code`` (template *ISP: Portal sign-in code*, in the user's
        language). The code is a secret: straight to the SMS queue, never in a chatter nor
        a log (a new SMS triggers sms's queue cron)."""
        template = self.env.ref(TEMPLATE_LOGIN_CODE, raise_if_not_found=False)
        if not template:
            return False
        partner = user.sudo().partner_id
        body = (
            template.sudo()
            .with_context(isp_login_code=code)
            ._render_field("body", partner.ids, compute_lang=True)[partner.id]
        )
        self.env["sms.sms"].sudo().create(
            {
                "number": number,
                "partner_id": partner.id,
                "body": body,
                "isp_company_id": company.id,
            }
        )
        return True

    @api.model
    def _verify(self, user, code):
        """True when ``code`` is ``user``'s current code (then used up); each wrong try
        counts, and the code dies after ``MAX_TRIES``."""
        current = self.sudo().search(
            [
                ("user_id", "=", user.id),
                ("used", "=", False),
                ("expires_at", ">", fields.Datetime.now()),
            ],
            limit=1,
        )
        if not current:
            return False
        digits = "".join(ch for ch in str(code or "")[:20] if ch.isdigit())
        if len(digits) == 6 and consteq(current.code_hash, self._hash_code(user, digits)):
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
            [("expires_at", "<", fields.Datetime.now() - timedelta(days=2))],
            limit=GC_UNLINK_LIMIT,
        )
        codes.unlink()
        return len(codes), len(codes) == GC_UNLINK_LIMIT  # done, remaining
