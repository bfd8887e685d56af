from odoo.exceptions import UserError

# why a voucher redemption was refused (isp.voucher._redeem)
VOUCHER_REFUSAL_RESULTS = ("malformed", "unknown", "used", "void", "expired", "blocked")


class IspVoucherRefused(UserError):
    """A voucher redemption refused, with a message for the customer. ``result`` says why:
    malformed (not a voucher code: nothing was looked up), unknown, used, void, expired, or
    blocked (too many failed attempts from this phone, MAC or address lately)."""

    def __init__(self, message, result):
        assert result in VOUCHER_REFUSAL_RESULTS, result
        super().__init__(message)
        self.result = result


class IspRateLimited(UserError):
    """Refused because of a rate limit (too many requests from one phone number or one
    address lately), with a message for the customer. Provider modules raise it (e.g. the
    payment push limits); public controllers answer it with HTTP 429."""
