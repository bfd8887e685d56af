"""Vouchers on the captive page (redemption) and in the admin API (generate, list)."""

from odoo import api, fields, models
from odoo.exceptions import UserError

from odoo.addons.isp_billing.exceptions import IspVoucherRefused

from .isp_hotspot_attempt import IspHotspotRateLimited

# codes per batch generated or listed by one API call
MAX_API_VOUCHERS = 1000
# a plain-duration voucher of the API: at most a year
MAX_DURATION_HOURS = 24 * 366
# isp_billing's IspVoucherRefused result -> the API's error code ("blocked" is rate_limited)
VOUCHER_REFUSALS = {
    "malformed": "invalid_code",
    "unknown": "voucher_unknown",
    "used": "voucher_used",
    "void": "voucher_void",
    "expired": "voucher_expired",
}


class IspHotspotVoucherRefused(UserError):
    """A voucher that cannot be redeemed; ``code`` says why (see VOUCHER_REFUSALS)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class IspHotspotVoucher(models.AbstractModel):
    _name = "isp.hotspot.voucher"
    _description = "ISP Hotspot: Vouchers"

    @api.model
    def _voucher_code(self, text):
        """What a voucher field is pre-filled with: ``text`` normalised when it is a valid
        code, else ``text`` as typed (printable, 40 characters at most), else ""."""
        if not isinstance(text, str) or len(text) > 64:
            return ""
        normalized = self.env["isp.voucher"]._normalize_code(text)
        if normalized:
            return normalized
        text = text.strip()[:40]
        return text if text.isprintable() else ""

    @api.model
    def _redeem_voucher(
        self, company, code, phone, mac=None, ip=None, client_ip=None, signed_in=None
    ):
        """Redeem a voucher for ``phone`` through isp_billing's ``isp.voucher._redeem``.
        Returns ``(purchase, sign_in)``: the isp.purchase, and whether the redeemer may be
        signed in as its customer.

        A voucher may credit any phone number, but holding a code proves nothing about
        owning the number: when the number is an existing customer's (and this session is
        not already signed in as that customer, ``signed_in``), the customer gets the time
        but the redeemer's device is not registered on their account and ``sign_in`` is
        False; the owner signs in with the SMS code to use it on a device. A customer this
        redemption creates may be signed in.

        A refusal raises IspHotspotVoucherRefused (its ``code`` says why: invalid_code,
        voucher_unknown, voucher_used, voucher_void, voucher_expired) or
        IspHotspotRateLimited (too many failures); bad input a UserError. Nothing changes
        on a refusal but the attempt counters, which the caller commits by answering
        normally (isp_billing's brute-force limit counts them)."""
        if not isinstance(code, str) or not code.strip():
            raise IspHotspotVoucherRefused(
                "invalid_code", self.env._("Enter the voucher code printed on your card.")
            )
        e164 = self._phone(company, phone)
        mac = self._mac(mac)
        ip = self._ip(ip)
        self._rate("voucher_ip", client_ip, company)
        existing = self._customer(company, e164)
        owner_proven = not existing or existing == signed_in
        Voucher = self.env["isp.voucher"].with_company(company)
        if owner_proven:
            # the page's language is the customer's (res.partner._isp_find_or_create_customer);
            # not when crediting someone else's number
            Voucher = Voucher.with_context(isp_customer_lang=self.env.lang)
        refusal = None
        with self.env.cr.savepoint():
            try:
                purchase = Voucher._redeem(
                    code.strip(),
                    e164,
                    mac=mac,
                    ip=ip,
                    company=company,
                    register_device=owner_proven,
                    client_ip=client_ip,
                    phone_owner=bool(existing) and existing == signed_in,
                )
            except IspVoucherRefused as error:
                # isp_billing wrote the failed attempt (and nothing else) just before
                # raising: keep it, it is what the brute-force limit counts. Any other error
                # rolls the savepoint back.
                refusal = error
        if not refusal:
            return purchase, owner_proven
        if refusal.result == "blocked":
            raise IspHotspotRateLimited(refusal.args[0]) from refusal
        raise IspHotspotVoucherRefused(
            VOUCHER_REFUSALS[refusal.result], refusal.args[0]
        ) from refusal

    @api.model
    def _voucher_credited_message(self, purchase):
        """What the redeemer of a voucher credited to an existing customer's number (not
        signed in as them) is told: where the time went and how the owner uses it."""
        return self.env._(
            "The voucher was added to the account of %(phone)s. To use it on this device, "
            "sign in with the code we send by SMS to that number.",
            phone=purchase.partner_id.phone,
        )

    @api.model
    def _generate_vouchers(
        self,
        company,
        bundle_id,
        quantity,
        price=None,
        name=None,
        valid_until=None,
        notes=None,
        duration_hours=None,
    ):
        """A generated batch of ``quantity`` codes of the company's bundle ``bundle_id``, or
        of a plain duration of ``duration_hours`` (at ``price``, 0 by default), as the current
        user (an ISP manager: access rights apply). Bad input raises a UserError and creates
        nothing."""
        if not 1 <= quantity <= MAX_API_VOUCHERS:
            raise UserError(
                self.env._("quantity must be between 1 and %(max)s.", max=MAX_API_VOUCHERS)
            )
        if price is not None and price < 0:
            raise UserError(self.env._("price cannot be negative."))
        if (bundle_id is None) == (duration_hours is None):
            raise UserError(self.env._("Give either bundle_id or duration_hours."))
        vals = {"quantity": quantity, "company_id": company.id}
        if duration_hours is not None:
            if not 1 <= duration_hours <= MAX_DURATION_HOURS:
                raise UserError(
                    self.env._(
                        "duration_hours must be between 1 and %(max)s.", max=MAX_DURATION_HOURS
                    )
                )
            vals.update(duration_hours=duration_hours, price=price or 0.0)
        else:
            bundle = self.env["product.product"].search(
                [
                    ("id", "=", bundle_id),
                    ("is_isp_bundle", "=", True),
                    ("company_id", "in", [company.id, False]),
                ],
                limit=1,
            )
            if not bundle:
                raise UserError(self.env._("Unknown bundle."))
            vals["bundle_id"] = bundle.id
        if price is not None:
            vals["price"] = price
        if notes:
            vals["notes"] = notes
        if valid_until:
            try:
                vals["valid_until"] = len(valid_until) == 10 and fields.Date.to_date(valid_until)
            except ValueError:
                vals["valid_until"] = None
            if not vals["valid_until"] or vals["valid_until"] < fields.Date.context_today(self):
                raise UserError(
                    self.env._("valid_until must be a date from today on, like 2030-12-31.")
                )
        Batch = self.env["isp.voucher.batch"].with_company(company)
        if name:
            if Batch.search_count([("company_id", "=", company.id), ("name", "=", name)]):
                raise UserError(
                    self.env._("A voucher batch named %(name)s already exists.", name=name)
                )
            vals["name"] = name
        with self.env.cr.savepoint():
            batch = Batch.create(vals)
            batch.action_generate()
        return batch

    @api.model
    def _list_vouchers(
        self,
        company,
        batch_id=None,
        state=None,
        limit=100,
        offset=0,
        batch_name=None,
        is_used=None,
    ):
        """(count, vouchers) of the company, oldest first, as the current user: of the batch
        ``batch_id`` (its id, or its Batch ID when made of digits) or ``batch_name`` (its
        Batch ID), in ``state``, used (redeemed) or not (``is_used``)."""
        if not 1 <= limit <= MAX_API_VOUCHERS:
            raise UserError(
                self.env._("limit must be between 1 and %(max)s.", max=MAX_API_VOUCHERS)
            )
        Voucher = self.env["isp.voucher"].with_company(company)
        domain = [("company_id", "=", company.id)]
        if batch_id:
            domain += ["|", ("batch_id", "=", batch_id), ("batch_id.name", "=", str(batch_id))]
        if batch_name:
            domain.append(("batch_id.name", "=", batch_name))
        if is_used is not None:
            domain.append(("state", "=" if is_used else "!=", "redeemed"))
        if state:
            states = dict(Voucher._fields["state"].selection)
            if state not in states:
                raise UserError(self.env._("state is one of %(states)s.", states=", ".join(states)))
            domain.append(("state", "=", state))
        return (
            Voucher.search_count(domain),
            Voucher.search(domain, limit=limit, offset=offset, order="id"),
        )

    @api.model
    def _batch_values(self, batch):
        return {
            "id": batch.id,
            "name": batch.name,
            "bundle_id": batch.bundle_id.id,
            "bundle": batch.bundle_id.name,
            "quantity": batch.quantity,
            "price": batch.price,
            "valid_until": fields.Date.to_string(batch.valid_until) or None,
        }

    @api.model
    def _voucher_values(self, vouchers):
        return [
            {
                "code": voucher.code,
                "state": voucher.state,
                "batch_id": voucher.batch_id.id,
                "bundle": voucher.bundle_id.name,
                "price": voucher.price,
                "valid_until": fields.Date.to_string(voucher.valid_until) or None,
                "phone": voucher.phone or None,
                "redeemed_at": fields.Datetime.to_string(voucher.date_redeemed) or None,
            }
            for voucher in vouchers
        ]
