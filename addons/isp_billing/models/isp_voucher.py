import base64

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..exceptions import IspVoucherRefused
from . import isp_voucher_code
from .isp_device import normalize_mac
from .isp_voucher_batch import CARD_LAYOUT_SPECS, DEFAULT_CARD_LAYOUT
from .isp_voucher_qr import qr_png

# The partner cash sales of cards are invoiced to when no buyer is named (one per company).
SALE_PARTNER_REF = "ISP-VOUCHER-SALES"

STATES = [
    ("available", "Available"),
    ("redeemed", "Redeemed"),
    ("expired", "Expired"),
    ("void", "Void"),
]


class IspVoucher(models.Model):
    """A prepaid code. Rows are inserted set-based by ``isp.voucher.batch`` (SQL), so every
    stored field here has a column default or is filled by that INSERT."""

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
    # The code's money in the books: the posted customer invoice that sold it, a cash sale
    # ("Mark as Sold", ``_sell``) or a reseller's purchase (``isp.reseller.purchase``). A code
    # has one at most: its money is booked once, never again on redemption.
    sale_move_id = fields.Many2one(
        "account.move",
        string="Sale Invoice",
        readonly=True,
        copy=False,
        index="btree_not_null",
        groups="account.group_account_invoice",
    )
    is_sold = fields.Boolean(
        string="Sold",
        readonly=True,
        copy=False,
        help="Its money is booked: sold for cash (Mark as Sold) or bought by a reseller.",
    )
    date_sold = fields.Datetime(string="Sold On", readonly=True, copy=False)

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

    # ------------------------------------------------------------------ cards

    def _captive_url(self):
        """What the card's QR code opens: the captive page with the code filled in, on the
        company's website (website installed) or the database's base URL."""
        self.ensure_one()
        return f"{self.get_base_url().rstrip('/')}/hotspot?voucher={self.code}"

    def _card_pages(self, per_page):
        """The vouchers in pages of ``per_page`` cards (report templates)."""
        return [self[i : i + per_page] for i in range(0, len(self), per_page)]

    def _card_qr_src(self):
        """The card's QR code (``_captive_url``) as a small PNG data URI: black modules on a
        transparent background, QR_SCALE pixels a module. wkhtmltopdf's PDF engine stores
        an image's colours as JPEG and its transparency losslessly: a flat black image with
        the pattern in its transparency stays sharp and costs about 1.5 kB a card, where
        Odoo's 300 x 300 px barcode widget costs 36 kB (a 50-card roll was 2 MB)."""
        self.ensure_one()
        return "data:image/png;base64," + base64.b64encode(qr_png(self._captive_url())).decode()

    def _card_duration(self):
        """How long the access lasts, in words (the bundle's unit when it matches)."""
        self.ensure_one()
        hours = self.duration_hours or 0
        template = self.bundle_id.product_tmpl_id
        if template.isp_duration_unit == "months" and round(template.isp_duration_hours) == hours:
            months = template.isp_duration_value
            if months == 1:
                return self.env._("1 month")
            return self.env._("%(count)s months", count=months)
        if hours and hours % 24 == 0:
            if hours == 24:
                return self.env._("1 day")
            return self.env._("%(count)s days", count=hours // 24)
        if hours == 1:
            return self.env._("1 hour")
        return self.env._("%(count)s hours", count=hours)

    def _card_data_cap(self):
        """The bundle's data cap in words ("500 MB", "1.5 GB"), or "" without a cap."""
        self.ensure_one()
        mb = self.bundle_id.product_tmpl_id.isp_data_cap_mb
        if not mb:
            return ""
        if mb < 1024:
            return self.env._("%(mb)s MB", mb=mb)
        gb = f"{mb / 1024:.1f}".removesuffix(".0")
        return self.env._("%(gb)s GB", gb=gb)

    @api.model
    def _card_layout_spec(self, layout):
        """The CARD_LAYOUT_SPECS entry of ``layout`` (report templates)."""
        return CARD_LAYOUT_SPECS[layout]

    def _card_sheets(self, layout=None):
        """The A4 sheets of these vouchers: [(layout spec, [[voucher, ...] per row])], each
        batch's vouchers in its batch's A4 layout (``layout``, a CARD_LAYOUTS key, for all;
        a batch printed on a roll is laid out as the default A4 layout here)."""
        sheets = []
        for batch, vouchers in self.grouped("batch_id").items():
            key = layout or batch.card_layout
            spec = CARD_LAYOUT_SPECS.get(key)
            if not spec or spec["paper"] != "a4":
                spec = CARD_LAYOUT_SPECS[DEFAULT_CARD_LAYOUT]
            cols = spec["columns"]
            for page in vouchers._card_pages(spec["per_page"]):
                sheets.append((spec, [list(row) for row in page._card_pages(cols)]))
        return sheets

    def action_print_cards(self):
        """Print these codes as cards, in their batches' layout (one paper at a time)."""
        if not self:
            raise UserError(self.env._("Select the vouchers to print."))
        self.check_access("read")
        papers = {CARD_LAYOUT_SPECS[b.card_layout]["paper"] for b in self.batch_id}
        if len(papers) > 1:
            raise UserError(
                self.env._(
                    "These vouchers' batches print on different papers (A4 and rolls): "
                    "print them batch by batch."
                )
            )
        report = CARD_LAYOUT_SPECS[self.batch_id[:1].card_layout]["report"]
        vouchers = self.sorted(lambda v: (v.batch_id.id, v.id))
        # config=False: the cards have their own layout, not the company's document layout
        return self.env.ref(report).report_action(vouchers, config=False)

    # ------------------------------------------------------------------ cash sales

    def action_open_sell(self):
        """Vouchers list: Mark as Sold for the selected codes."""
        return self.env["isp.voucher.sell"]._open(self)

    def _sell(self, journal, partner=None):
        """Book the sale of these codes for cash: one posted customer invoice (a line per
        batch: the bundle, the number of codes, the card price taxes included) paid in
        ``journal``, and the codes marked sold. Returns the invoice.

        Exactly once per code: the codes' rows are locked (SELECT ... FOR UPDATE, in id
        order); a concurrent sale or redemption of one of them waits, and once it commits
        this transaction's REPEATABLE READ snapshot is stale: PostgreSQL raises a
        serialization failure and Odoo's ``retrying()`` runs the request again, which then
        refuses the codes already sold. Refused (UserError, nothing changes): void codes,
        codes already sold, codes of a batch bought by a reseller (invoiced to it), codes
        of several companies.

        ISP users may sell (the shop desk, as the counter sale); the accounting runs as
        superuser from here, for codes the user can read.
        """
        if not self:
            raise UserError(self.env._("Select the vouchers that were sold."))
        if not self.env.user.has_group("isp_billing.group_isp_user"):
            raise AccessError(self.env._("Only ISP staff can record voucher sales."))
        self.check_access("read")
        company = self.company_id
        if len(company) != 1:
            raise UserError(self.env._("Sell the vouchers of one company at a time."))
        journal = journal.sudo()
        if journal.company_id != company or journal.type not in ("cash", "bank"):
            raise UserError(
                self.env._("Choose a cash or bank journal of %(company)s.", company=company.name)
            )
        self.flush_model(["sale_move_id", "state"])
        self.env.cr.execute(
            SQL(
                "SELECT id FROM isp_voucher WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
                self.ids,
            )
        )
        vouchers = self.sudo().with_company(company)
        vouchers.invalidate_recordset()
        vouchers._check_sellable()
        partner = (partner or vouchers._sale_partner(company)).sudo()
        move = vouchers._create_sale_invoice(journal, partner)
        vouchers.write(
            {"sale_move_id": move.id, "is_sold": True, "date_sold": fields.Datetime.now()}
        )
        for batch, sold in vouchers.grouped("batch_id").items():
            batch.message_post(
                body=self.env._(
                    "%(count)s codes sold for %(amount)s by %(user)s, paid in %(journal)s "
                    "(invoice %(invoice)s).",
                    count=len(sold),
                    amount=batch.currency_id.format(sum(sold.mapped("price"))),
                    user=self.env.user.name,
                    journal=journal.name,
                    invoice=move.name,
                )
            )
        return move

    def _check_sellable(self):
        sold = self.filtered("is_sold")
        if sold:
            raise UserError(
                self.env._(
                    "%(codes)s already sold: their money is booked (invoice %(invoice)s).",
                    codes=", ".join(sold[:5].mapped("code")),
                    invoice=", ".join(sold.sale_move_id[:3].mapped("name")),
                )
            )
        void = self.filtered(lambda v: v.state == "void")
        if void:
            raise UserError(
                self.env._(
                    "%(codes)s are void: a cancelled card cannot be sold.",
                    codes=", ".join(void[:5].mapped("code")),
                )
            )
        bought = (
            self.env["isp.reseller.purchase"]
            .sudo()
            .search([("batch_id", "in", self.batch_id.ids)], limit=1)
        )
        if bought:
            raise UserError(
                self.env._(
                    "Batch %(batch)s was bought by reseller %(reseller)s and invoiced to it: "
                    "its codes are already paid for.",
                    batch=bought.batch_id.name,
                    reseller=bought.reseller_id.display_name,
                )
            )

    @api.model
    def _sale_partner(self, company):
        """Who cash sales of cards are invoiced to when the buyer is not named: the
        company's "Voucher Sales" customer (made on first use, one per company)."""
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        partner = Partner.search(
            [("ref", "=", SALE_PARTNER_REF), ("company_id", "=", company.id)], limit=1
        )
        if partner:
            return partner
        # Two first sales at once make one partner: the company row is updated, so that a
        # concurrent first sale fails with a serialization error (REPEATABLE READ) and is
        # retried, finding this one's partner.
        self.env.cr.execute(SQL("UPDATE res_company SET id = id WHERE id = %s", company.id))
        return Partner.create(
            {
                "name": self.env._("Voucher Sales (%(company)s)", company=company.name),
                "ref": SALE_PARTNER_REF,
                "company_id": company.id,
                "comment": self.env._("Cash sales of voucher cards to the public."),
            }
        )

    def _create_sale_invoice(self, journal, partner):
        """The posted invoice of these codes' sale, paid in ``journal``. Each line's unit
        price is the card price without the taxes included in it, so that the invoice
        totals what the cards say."""
        company = self.company_id
        Move = self.env["account.move"].sudo().with_company(company)
        lines = []
        for (batch, price), vouchers in self.grouped(lambda v: (v.batch_id, v.price)).items():
            bundle = vouchers.bundle_id[:1]
            lines.append(
                fields.Command.create(
                    {
                        "product_id": bundle.id,
                        "name": self.env._(
                            "%(bundle)s voucher cards, batch %(batch)s",
                            bundle=bundle.display_name,
                            batch=batch.name,
                        ),
                        "quantity": len(vouchers),
                        "price_unit": self._untaxed_unit_price(bundle, price, partner, company),
                    }
                )
            )
        move = Move.create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "company_id": company.id,
                "invoice_origin": ", ".join(self.batch_id.mapped("name"))[:200],
                "ref": self.env._("Voucher cards"),
                "invoice_line_ids": lines,
            }
        )
        move.action_post()
        self.env["account.payment.register"].sudo().with_company(company).with_context(
            active_model="account.move", active_ids=move.ids
        ).create(
            {
                "journal_id": journal.id,
                "payment_date": fields.Date.context_today(self),
                "communication": move.name,
            }
        )._create_payments()
        return move

    @api.model
    def _untaxed_unit_price(self, bundle, price, partner, company):
        """The invoice line unit price that makes one card cost ``price`` taxes included:
        ``price`` itself with no tax or taxes included in the price, else the price
        without the bundle's (excluded) taxes."""
        Tax = self.env["account.tax"].sudo().with_company(company)
        fiscal_position = (
            self.env["account.fiscal.position"]
            .sudo()
            .with_company(company)
            ._get_fiscal_position(partner)
        )
        taxes = bundle.sudo().taxes_id.filtered_domain(Tax._check_company_domain(company))
        if fiscal_position:
            taxes = fiscal_position.map_tax(taxes)
        if not taxes or all(tax.price_include for tax in taxes):
            return price
        base_line = Tax._prepare_base_line_for_taxes_computation(
            None,
            price_unit=price,
            quantity=1.0,
            tax_ids=taxes,
            currency_id=company.currency_id,
            special_mode="total_included",
        )
        Tax._add_tax_details_in_base_line(base_line, company)
        return base_line["tax_details"]["raw_total_excluded_currency"]

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
