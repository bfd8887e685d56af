from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..exceptions import IspVoucherRefused
from . import isp_voucher_code
from .isp_device import normalize_mac

STATES = [
    ("available", "Available"),
    ("redeemed", "Redeemed"),
    ("expired", "Expired"),
    ("void", "Void"),
]


class IspVoucher(models.Model):
    """A prepaid code. Rows are inserted set-based by ``isp.voucher.batch`` (SQL), so every
    stored field here has a column default or is filled by that INSERT. Its printed card is in
    isp_voucher_card.py, its cash sale in isp_voucher_sale.py."""

    _name = "isp.voucher"
    _description = "ISP Voucher"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _rec_name = "code"
    _check_company_auto = True

    code = fields.Char(required=True, readonly=True, copy=False)
    batch_id = fields.Many2one(
        "isp.voucher.batch", required=True, readonly=True, index=True, ondelete="cascade"
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    bundle_id = fields.Many2one("product.product", required=True, readonly=True)
    duration_hours = fields.Integer(string="Duration (hours)", readonly=True)
    reseller_id = fields.Many2one("res.partner", readonly=True, index="btree_not_null")
    price = fields.Monetary(readonly=True)
    valid_until = fields.Date(readonly=True)
    state = fields.Selection(STATES, required=True, default="available", readonly=True)
    # Who redeemed a code is staff's to see: a reseller (portal user) reads its own codes over
    # RPC too, and gets its customers' phones masked (isp.reseller.purchase), never these.
    partner_id = fields.Many2one(
        "res.partner",
        string="Redeemed By",
        readonly=True,
        index="btree_not_null",
        groups="isp_billing.group_isp_user",
    )
    phone = fields.Char(readonly=True, groups="isp_billing.group_isp_user")
    device_id = fields.Many2one("isp.device", readonly=True, groups="isp_billing.group_isp_user")
    mac = fields.Char(string="MAC Address", readonly=True, groups="isp_billing.group_isp_user")
    ip = fields.Char(string="IP Address", readonly=True, groups="isp_billing.group_isp_user")
    date_redeemed = fields.Datetime(string="Redeemed On", readonly=True)
    subscription_id = fields.Many2one(
        "isp.subscription", readonly=True, groups="isp_billing.group_isp_user"
    )
    purchase_id = fields.Many2one(
        "isp.purchase", readonly=True, groups="isp_billing.group_isp_user"
    )
    redeem_count = fields.Integer(
        readonly=True,
        help="Times redeemed; above one after a manager marked a redeemed code unused.",
    )

    _code_unique = models.Constraint("UNIQUE(code)", "This voucher code already exists.")
    _batch_state_idx = models.Index("(batch_id, state)")
    # the expiry sweep reads only available codes with an end of validity
    _expiry_idx = models.Index(
        "(valid_until) WHERE state = 'available' AND valid_until IS NOT NULL"
    )

    # ------------------------------------------------------------------ codes

    @api.model
    def _normalize_code(self, text):
        """Typed input → ``XXXX-XXXX-XXXX``, or False when it cannot be a voucher code (wrong
        length, a character outside the alphabet, or a wrong check character). Case, spaces
        and dashes do not matter. Never reads the database."""
        return isp_voucher_code.normalize(text) or False

    # ------------------------------------------------------------------ redemption

    @api.model
    def _redeem(
        self,
        code,
        phone,
        *,
        mac=None,
        ip=None,
        company=None,
        register_device=True,
        client_ip=None,
        phone_owner=False,
    ):
        """Redeem ``code`` for the customer with ``phone``: one period of the voucher's bundle
        through ``isp.purchase._fulfil`` (source "voucher"), exactly once per code.
        Returns the ``isp.purchase``.

        ``mac`` and ``ip`` are the redeeming device's, recorded on the voucher; the device is
        registered on the customer only with ``register_device`` (a caller that cannot tell
        the redeemer owns the phone number passes False: a voucher credits a number, it does
        not hand its account over). The brute-force limit counts failures per requester
        address (``client_ip``, the HTTP client's: a public caller passes it; else ``ip``),
        and per phone and MAC from that address; ``phone_owner`` (the requester proved
        owning the number) lifts the phone's count, so that nobody can lock its owner out.

        Raises IspVoucherRefused (a UserError with a message for the customer; its
        ``result`` says why) when the code is malformed (no database lookup), unknown,
        already used, expired or void, or when this phone, MAC or IP made too many failed
        attempts lately (blocked). Failed attempts are written as ``isp.voucher.attempt``
        rows in the caller's transaction, just before the error is raised: a public caller
        must answer the error normally (not re-raise it) for Odoo to commit them with the
        request. A bad phone number raises a plain UserError.

        Concurrency: the voucher row is locked (SELECT ... FOR UPDATE). A concurrent
        redemption of the same code waits for it; once the first commits, the waiter's
        REPEATABLE READ snapshot is stale and PostgreSQL raises a serialization failure,
        which Odoo's ``retrying()`` (requests, crons) turns into a new try that sees the
        code redeemed.
        """
        company = company or self.env.company
        normalized = self._normalize_code(code)
        if not normalized:
            raise IspVoucherRefused(
                self.env._(
                    "%(code)s is not a voucher code: check it (12 letters and digits, like "
                    "ABCD-EFGH-JKMN).",
                    code=(code or "")[:40] if isinstance(code, str) else "",
                ),
                "malformed",
            )
        Voucher = self.with_company(company)
        Partner = self.env["res.partner"].with_company(company)
        phone = Partner._isp_normalize_phone(phone, company.country_id)
        if mac:
            mac = normalize_mac(mac) or self.env["isp.device"]._normalize_mac(mac)
        ip = (ip or "").strip()[:64] or None
        requester = (client_ip or "").strip()[:64] or ip
        Attempt = self.env["isp.voucher.attempt"]
        Attempt._check_limit(company, phone, mac, requester, normalized, phone_owner=phone_owner)

        voucher = Voucher._lock_code(normalized, company)
        failure = voucher._refusal()
        if failure:
            result, message = failure
            Attempt._record(company, phone, mac, requester, normalized, result, voucher)
            raise IspVoucherRefused(message, result)

        partner = Partner._isp_find_or_create_customer(phone, company)
        n = voucher.redeem_count + 1
        reference = voucher.code if n == 1 else f"{voucher.code}#{n}"
        purchase = self.env["isp.purchase"]._fulfil(
            partner, voucher.bundle_id, "voucher", reference, invoice=False, amount=voucher.price
        )
        device = self.env["isp.device"]
        if mac and register_device:
            device = self.env["isp.device"]._isp_register(partner, mac, ip=ip)["device"]
        voucher.write(
            {
                "state": "redeemed",
                "partner_id": partner.id,
                "phone": phone,
                "mac": mac,
                "ip": ip,
                "device_id": device.id,
                "date_redeemed": fields.Datetime.now(),
                "subscription_id": purchase.subscription_id.id,
                "purchase_id": purchase.id,
                "redeem_count": n,
            }
        )
        return purchase

    @api.model
    def _lock_code(self, code, company):
        """The voucher ``code`` of ``company``, its row locked for this transaction (empty
        when there is none: another company's code is unknown here)."""
        self.flush_model(["code", "company_id", "state"])
        self.env.cr.execute(
            SQL(
                "SELECT id FROM isp_voucher WHERE code = %s AND company_id = %s FOR UPDATE",
                code,
                company.id,
            )
        )
        row = self.env.cr.fetchone()
        voucher = self.browse(row[0] if row else ())
        voucher.invalidate_recordset()
        # whoever holds a code may redeem it: the row is written as superuser
        return voucher.sudo()

    def _refusal(self):
        """(result, message for the customer) when this voucher cannot be redeemed now."""
        if not self:
            return "unknown", self.env._(
                "This voucher code does not exist. Check it and try again."
            )
        if self.state == "redeemed":
            return "used", self.env._("This voucher has already been used.")
        if self.state == "void":
            return "void", self.env._("This voucher was cancelled by the seller.")
        today = fields.Date.context_today(self)
        if self.state == "expired" or (self.valid_until and self.valid_until < today):
            return "expired", self.env._(
                "This voucher expired on %(date)s.",
                date=fields.Date.to_string(self.valid_until) if self.valid_until else "",
            )
        return None

    # ------------------------------------------------------------------ manager actions

    def action_void(self):
        """Cancel unused codes (lost, stolen or withdrawn cards)."""
        vouchers = self.filtered(lambda v: v.state in ("available", "expired"))
        if self - vouchers:
            raise UserError(
                self.env._(
                    "Only unused codes can be voided; %(codes)s were redeemed or already void.",
                    codes=", ".join((self - vouchers)[:5].mapped("code")),
                )
            )
        previous = {v.id: dict(STATES)[v.state] for v in vouchers}
        vouchers.write({"state": "void"})
        vouchers._message_log_batch(
            {
                v.id: Markup("%s") % self.env._("Voided (was %(state)s).", state=previous[v.id])
                for v in vouchers
            }
        )
        return True

    def action_mark_unused(self):
        """Make codes available again (a test redemption, a code voided by mistake). The
        redemption's purchase and subscription stay as they were: this only lets the code
        be redeemed once more (its next purchase reference is CODE#2, ...)."""
        vouchers = self.filtered(lambda v: v.state != "available")
        # an expired code made available again must not be refused as expired at once
        vouchers.filtered(lambda v: v.state == "expired").write({"valid_until": False})
        bodies = {}
        for voucher in vouchers:
            if voucher.state == "redeemed":
                bodies[voucher.id] = Markup("%s") % self.env._(
                    "Marked unused (was redeemed by %(customer)s, %(phone)s, on %(date)s; "
                    "purchase %(purchase)s).",
                    customer=voucher.partner_id.display_name,
                    phone=voucher.phone or "",
                    date=fields.Datetime.to_string(voucher.date_redeemed),
                    purchase=voucher.purchase_id.reference or "",
                )
            else:
                bodies[voucher.id] = Markup("%s") % self.env._(
                    "Marked unused (was %(state)s).", state=dict(STATES)[voucher.state]
                )
        vouchers.write(
            {
                "state": "available",
                "partner_id": False,
                "phone": False,
                "mac": False,
                "ip": False,
                "device_id": False,
                "date_redeemed": False,
                "subscription_id": False,
                "purchase_id": False,
            }
        )
        vouchers._message_log_batch(bodies)
        return True

    # ------------------------------------------------------------------ crons

    @api.model
    def _cron_expire_vouchers(self, batch_size=5000):
        """Available codes past their valid-until day → expired, in committed batches."""
        Cron = self.env["ir.cron"]
        today = fields.Date.context_today(self)
        domain = [
            ("state", "=", "available"),
            ("valid_until", "!=", False),
            ("valid_until", "<", today),
        ]
        while True:
            vouchers = self.search(domain, limit=batch_size, order="id")
            if not vouchers:
                break
            vouchers.write({"state": "expired"})
            remaining = self.search_count(domain)
            if not Cron._commit_progress(len(vouchers), remaining=remaining) or not remaining:
                break
