"""Claim by receipt on the captive page and in the API: "I paid by M-Pesa Paybill/Till"."""

from odoo import api, models
from odoo.exceptions import UserError

from .isp_hotspot_attempt import IspHotspotRateLimited


class IspHotspotReceiptRefused(UserError):
    """A receipt claim refused: ``code`` is receipt_unavailable (the company takes no such
    payments), invalid_receipt (not a receipt code: nothing was looked up) or
    receipt_refused (no unclaimed payment of the bundle's price has this receipt: one
    message for every reason, see isp.purchase._claim_receipt)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class IspHotspotReceipt(models.AbstractModel):
    _name = "isp.hotspot.receipt"
    _description = "ISP Hotspot: Claim by Receipt"

    @api.model
    def _receipt_claim_offer(self, company, partner=None):
        """What the page's "I paid by Paybill/Till" form shows, or False when ``company``
        takes no payment a customer can claim by its receipt code: ``{"paybill"}`` (the
        number customers pay to) and ``{"account"}`` (the signed-in customer's account
        number, else None: the page says to use one's phone number)."""
        if not self.env["isp.purchase"]._receipt_claim_enabled(company):
            return False
        return {
            "paybill": company._isp_paybill_number() or "",
            "account": partner.isp_account_number if partner else None,
        }

    @api.model
    def _receipt_typed(self, text):
        """What the receipt field is filled in with again: the code, or what was typed
        (printable, 20 characters at most)."""
        code = self.env["isp.purchase"]._receipt_code(text)
        if code:
            return code
        text = text.strip()[:20] if isinstance(text, str) else ""
        return text if text.isprintable() else ""

    @api.model
    def _claim_receipt(
        self,
        company,
        receipt,
        phone,
        bundle_id,
        mac=None,
        ip=None,
        client_ip=None,
        signed_in=None,
    ):
        """Give the customer of ``phone`` the bundle ``bundle_id`` with the unclaimed
        Paybill/Till payment whose receipt code is ``receipt`` (``isp.purchase._claim_receipt``).
        Returns ``(purchase, sign_in)``, as a voucher redemption does: the customer is found
        or created by phone number; when the number is an existing customer's and this
        session is not signed in as them (``signed_in``), they get the access but the
        claimant's device is not registered and ``sign_in`` is False (the owner signs in
        with the SMS code). Holding a receipt code proves a payment, not owning a number.

        Rate limits (isp.hotspot.attempt, counters of their own): every claim per client
        address (the company's per-address voucher limit, ``receipt_ip``) and failed claims
        per phone number from that address (``receipt_phone``, as voucher failures are
        counted; not for the customer signed in as that number): IspHotspotRateLimited.
        A refusal raises IspHotspotReceiptRefused and changes nothing but the attempt
        counters, which the caller commits by answering normally. Bad input raises a
        UserError."""
        if not self.env["isp.purchase"]._receipt_claim_enabled(company):
            raise IspHotspotReceiptRefused(
                "receipt_unavailable", self.env._("Paying by receipt is not available.")
            )
        e164 = self._phone(company, phone)
        bundle = self._bundle(company, bundle_id)
        mac = self._mac(mac)
        ip = self._ip(ip)
        self._rate("receipt_ip", client_ip, company)
        code = self.env["isp.purchase"]._receipt_code(receipt)
        if not code:
            raise IspHotspotReceiptRefused(
                "invalid_receipt",
                self.env._(
                    "Enter the receipt code of your M-Pesa confirmation SMS (10 letters and "
                    "digits, like SHJ0VBWRGL)."
                ),
            )
        existing = self._customer(company, e164)
        phone_owner = bool(existing) and existing == signed_in
        owner_proven = not existing or phone_owner
        # a number's failures count from the address they come from (as a voucher's do):
        # whoever types someone else's number elsewhere cannot lock its owner out
        phone_key = f"{e164} {client_ip}" if client_ip else e164
        if not phone_owner:
            self._rate("receipt_phone", phone_key, company, record=False)
        Partner = self.env["res.partner"].with_company(company)
        if owner_proven:
            # the page's language is the customer's; not when crediting someone else's number
            Partner = Partner.with_context(isp_customer_lang=self.env.lang)
        try:
            with self.env.cr.savepoint():
                partner = Partner._isp_find_or_create_customer(e164, company)
                purchase = self.env["isp.purchase"]._claim_receipt(company, code, partner, bundle)
                if mac and owner_proven:
                    self.env["isp.device"]._isp_register(partner, mac, ip=ip)
        except IspHotspotRateLimited:
            raise
        except UserError as error:
            # the savepoint undid the claim (a customer it created included); the failure
            # is counted for the phone number, in the request's transaction
            if not phone_owner:
                self.env["isp.hotspot.attempt"]._record("receipt_phone", [phone_key])
            raise IspHotspotReceiptRefused("receipt_refused", error.args[0]) from error
        return purchase, owner_proven

    @api.model
    def _receipt_credited_message(self, purchase):
        """What the claimant of a payment credited to an existing customer's number (not
        signed in as them) is told: where the access went and how the owner uses it."""
        return self.env._(
            "Your payment gave access to the account of %(phone)s. To use it on this device, "
            "sign in with the code we send by SMS to that number.",
            phone=purchase.partner_id.phone,
        )
