"""Mobile-money payment of a bundle from the captive page: the push and its status."""

import secrets

from odoo import api, fields, models
from odoo.exceptions import UserError

# What the captive page tells a customer, by transaction state.
PENDING_STATES = ("draft", "pending", "authorized")


class IspHotspotSaleRefused(UserError):
    """The company takes no new online sale now (``res.company._isp_sale_refusal``): the
    API answers it 403 ``sales_unavailable``, the page shows its neutral message."""


class IspHotspotPayment(models.AbstractModel):
    _name = "isp.hotspot.payment"
    _description = "ISP Hotspot: Payment"

    @api.model
    def _initiate_payment(
        self, company, phone, bundle_id, provider_id=None, mac=None, ip=None, client_ip=None
    ):
        """Create the bundle's transaction for ``phone`` and push the payment request to it.
        Returns the transaction (pending once the provider took the request, or in error
        with its message). Bad input and rate limits raise a UserError and change nothing
        but the attempt counters."""
        self._check_sale_allowed(company)
        e164 = self._phone(company, phone)
        bundle = self._bundle(company, bundle_id)
        # no partner is created for a typed number: a new payer's transaction is the public
        # partner's with the number in ``isp_phone``, and isp_billing creates the customer when
        # the payment is confirmed
        partner = self._customer(company, e164)
        # what this customer's invoice will total (a fiscal position of theirs applies; a new
        # customer's price otherwise): the amount the fulfilment requires. A bundle the company
        # cannot sell (no company, another currency) is refused here, before any transaction
        # or push: never after the money is taken
        price, currency = bundle._isp_customer_price(partner or None, company)
        mac = self._mac(mac)
        ip = self._ip(ip)
        providers = self._providers(company, price)
        if provider_id:
            try:
                provider_id = int(provider_id)
            except (TypeError, ValueError):
                provider_id = 0
            providers = providers.filtered(lambda p: p.id == provider_id)
        if not providers:
            raise UserError(
                self.env._("No mobile money payment is available here. Redeem a voucher instead.")
            )
        provider = providers[0]
        self._rate("payment_phone", e164)
        self._rate("payment_ip", client_ip, company)
        with self.env.cr.savepoint():
            tx = self.env["payment.transaction"].create(
                {
                    "provider_id": provider.id,
                    "payment_method_id": provider._isp_hotspot_payment_method().id,
                    "reference": self.env["payment.transaction"]._compute_reference(
                        provider.code, prefix=f"HS{secrets.token_hex(4).upper()}"
                    ),
                    "amount": price,
                    "currency_id": currency.id,
                    "partner_id": partner.id or self.env.ref("base.public_partner").id,
                    "isp_phone": e164,
                    "operation": "online_direct",
                    "isp_bundle_id": bundle.id,
                    "isp_hotspot_mac": mac,
                    "isp_hotspot_ip": ip,
                    # the page's language: the payer's once the payment makes them a customer
                    "isp_hotspot_lang": self.env.lang,
                }
            )
            tx._isp_hotspot_push(e164, client_ip=client_ip)
        return tx

    @api.model
    def _sale_refusal(self, company):
        """The company's neutral message, in the page's language, when it takes no new online
        sale now (isp_billing's hook ``res.company._isp_sale_refusal``), else False."""
        return company.with_env(self.env)._isp_sale_refusal()

    @api.model
    def _check_sale_allowed(self, company):
        """Raise IspHotspotSaleRefused with that message; vouchers, receipts already paid
        and existing access are not concerned."""
        refusal = self._sale_refusal(company)
        if refusal:
            raise IspHotspotSaleRefused(refusal)

    @api.model
    def _find_transaction(self, reference, token=None, in_session=False):
        """The hotspot transaction ``reference`` when ``token`` is its access token (not
        expired), or when the caller's browser session started it (``in_session``: the
        controller's word) less than the token's lifetime ago."""
        Transaction = self.env["payment.transaction"]
        if not isinstance(reference, str) or len(reference) > 64 or not (token or in_session):
            return Transaction
        tx = Transaction.search(
            [("reference", "=", reference), ("isp_bundle_id", "!=", False)], limit=1
        )
        if not tx:
            return Transaction
        if in_session and tx._isp_hotspot_recent():
            return tx
        if token and tx._isp_hotspot_check_token(token):
            return tx
        return Transaction

    @api.model
    def _payment_status(self, tx):
        """What the waiting view says: ``status`` (waiting / paid / not_applied / cancelled /
        failed: money taken without access, even a short payment ended in error, is
        not_applied, never an invitation to pay again),
        ``message`` in plain words, and, once paid, the access granted. A confirmed
        transaction is post-processed here (fulfilment) as Odoo's /payment/status/poll does,
        unless the post-processing cron got there first."""
        tx.ensure_one()
        if tx.state == "done" and not tx.is_post_processed:
            tx._post_process()
        values = {
            "reference": tx.reference,
            "state": tx.state,
            "amount": tx.amount,
            "amount_text": self._money(tx.amount, tx.currency_id),
            "bundle": tx.isp_bundle_id.name,
        }
        if tx.state in PENDING_STATES:
            values.update(
                status="waiting",
                message=self.env._(
                    "Check your phone and enter your PIN to pay %(amount)s.",
                    amount=values["amount_text"],
                ),
            )
        elif tx.isp_purchase_id and (tx.state == "done" or tx.isp_access_state == "granted"):
            # paid, or a short payment staff granted the access for
            subscription = tx.isp_purchase_id.subscription_id
            values.update(
                status="paid",
                message=self.env._("Payment received. You are connected."),
                access_until=fields.Datetime.to_string(subscription.date_expiry),
                time_left=subscription.time_left or "",
            )
        elif tx.isp_access_state == "refunded":
            # money taken without access and given back: nothing is pending any more
            values.update(
                status="not_applied",
                message=self.env._(
                    "Your payment %(reference)s gave no access and was refunded to you.",
                    reference=tx.reference,
                ),
            )
        elif tx.isp_access_state == "not_applied" or tx.state == "done":
            # money taken without access (isp_billing flags it for staff), whether the
            # transaction ended confirmed or in error (a short payment): never "try again"
            values.update(
                status="not_applied",
                message=self.env._(
                    "Your payment %(reference)s was received but gave no access: "
                    "%(reason)s Do not pay again: we will give you the access or refund you.",
                    reference=tx.reference,
                    reason=tx.isp_not_applied_reason
                    or self.env._("it could not be applied to this bundle."),
                ),
            )
        elif tx.state == "cancel":
            values.update(
                status="cancelled",
                message=self._plain_reason(tx.state_message)
                or tx.isp_public_message
                or self.env._("The payment was cancelled. Nothing was charged."),
            )
        else:
            values.update(
                status="failed",
                message=self._plain_reason(tx.state_message)
                or tx.isp_public_message
                or self.env._("The payment did not go through."),
            )
        return values

    @api.model
    def _plain_reason(self, text):
        """The provider's message in the customer's words where we recognise it, else ""
        (the provider's own text is for staff: it never reaches the page)."""
        lowered = (text or "").lower()
        if "insufficient" in lowered or "balance" in lowered:
            return self.env._("Not enough money on your mobile money account. Nothing was charged.")
        if "timeout" in lowered or "timed out" in lowered or "no answer" in lowered:
            return self.env._("You did not answer the payment request in time. Try again.")
        if "cancel" in lowered:
            return self.env._("You cancelled the payment on your phone. Nothing was charged.")
        return ""
