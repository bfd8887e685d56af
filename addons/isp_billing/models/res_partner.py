import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult
from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.exceptions import ConcurrencyError, ValidationError
from odoo.fields import Domain
from odoo.tools import SQL

MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


class ResPartner(models.Model):
    _inherit = "res.partner"

    is_isp_customer = fields.Boolean(string="ISP Customer", index=True)
    isp_is_reseller = fields.Boolean(
        string="Reseller", index=True, help="Sells the operator's vouchers (shop, agent)."
    )
    isp_device_limit = fields.Integer(
        string="Device Limit",
        default=lambda self: self.env.company.isp_default_device_limit,
        help="Devices this customer may register at once, unless the active bundle allows more.",
    )
    isp_subscription_ids = fields.One2many("isp.subscription", "partner_id", string="Subscriptions")
    isp_device_ids = fields.One2many("isp.device", "partner_id", string="Devices")
    isp_access_until = fields.Datetime(
        string="Access Until",
        compute="_compute_isp_access",
        store=True,
        help="When the customer's last active subscription expires.",
    )
    isp_purchase_count = fields.Integer(string="Purchases", compute="_compute_isp_purchase_count")
    isp_subscription_count = fields.Integer(
        string="Subscription Count", compute="_compute_isp_purchase_count"
    )

    _isp_phone_unique = models.UniqueIndex(
        "(company_id, phone) WHERE is_isp_customer AND active",
        "Another ISP customer of this company already has this phone number.",
    )
    _isp_device_limit_positive = models.Constraint(
        "CHECK(NOT is_isp_customer OR isp_device_limit > 0)",
        "A customer's device limit must be at least 1.",
    )

    @api.depends("isp_subscription_ids.state", "isp_subscription_ids.date_expiry")
    def _compute_isp_access(self):
        for partner in self:
            active = partner.isp_subscription_ids.filtered(lambda s: s.state == "active")
            partner.isp_access_until = max(active.mapped("date_expiry"), default=False)

    def _compute_isp_purchase_count(self):
        purchases = dict(
            self.env["isp.purchase"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        subscriptions = dict(
            self.env["isp.subscription"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.isp_purchase_count = purchases.get(partner, 0)
            partner.isp_subscription_count = subscriptions.get(partner, 0)

    # ------------------------------------------------------------------ phone numbers

    @api.model
    def _isp_normalize_phone(self, number, country=None):
        """Return ``number`` in E.164 (+255712345678) or raise a ValidationError saying why.

        National forms are read in ``country`` (default: the company's country), and a number
        given with its country code but without the plus (255712345678) is accepted too.
        Only mobile numbers are accepted: customers pay and are notified on their phones.
        """
        text = (number or "").strip()
        if not text:
            raise ValidationError(self.env._("A phone number is required."))
        country = country or self.env.company.country_id
        region = country.code if country else None
        candidates = [text]
        digits = "".join(ch for ch in text if ch.isdigit())
        if text.startswith("00") and len(digits) > 2:
            # 00 + country code, whatever the local international prefix (Tanzania's is 000)
            candidates.append("+" + digits[2:])
        elif not text.startswith("+") and digits:
            # the country code without its plus: 255712345678
            candidates.append("+" + digits)
        reason = None
        for candidate in candidates:
            try:
                parsed = phonenumbers.parse(candidate, region)
            except NumberParseException as exc:
                reason = reason or self._isp_parse_error_reason(exc, text)
                continue
            possible = phonenumbers.is_possible_number_with_reason(parsed)
            if possible != ValidationResult.IS_POSSIBLE:
                reason = reason or self._isp_length_reason(possible, text)
                continue
            if not phonenumbers.is_valid_number(parsed):
                reason = reason or self.env._(
                    "%(number)s is not a valid phone number%(where)s.",
                    number=text,
                    where=self.env._(" in %(country)s", country=country.name) if country else "",
                )
                continue
            if phonenumbers.number_type(parsed) not in MOBILE_TYPES:
                reason = self.env._(
                    "%(number)s is not a mobile number: customers need one to pay by mobile "
                    "money and receive SMS.",
                    number=text,
                )
                continue
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        raise ValidationError(reason)

    def _isp_parse_error_reason(self, exc, text):
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
            return self.env._(
                "%(number)s has no valid country code; write it with its country code "
                "(e.g. +255...).",
                number=text,
            )
        if exc.error_type == NumberParseException.NOT_A_NUMBER:
            return self.env._("%(number)s is not a phone number.", number=text)
        if exc.error_type == NumberParseException.TOO_LONG:
            return self.env._("%(number)s is too long for a phone number.", number=text)
        return self.env._("%(number)s is too short for a phone number.", number=text)

    def _isp_length_reason(self, result, text):
        if result == ValidationResult.TOO_LONG:
            return self.env._("%(number)s has too many digits.", number=text)
        if result == ValidationResult.INVALID_COUNTRY_CODE:
            return self.env._("%(number)s has an unknown country code.", number=text)
        if result == ValidationResult.TOO_SHORT:
            return self.env._("%(number)s has too few digits.", number=text)
        return self.env._("%(number)s does not have the length of a phone number.", number=text)

    def _isp_prepare_phone_vals(self, vals, company=None):
        if vals.get("phone"):
            company = company or self.env.company
            vals["phone"] = self._isp_normalize_phone(vals["phone"], company.country_id)
        return vals

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("is_isp_customer"):
                vals.setdefault("company_id", self.env.company.id)
                company = self.env["res.company"].browse(vals["company_id"])
                self._isp_prepare_phone_vals(vals, company)
                if "isp_device_limit" not in vals:
                    vals["isp_device_limit"] = company.isp_default_device_limit
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("phone") and (
            vals.get("is_isp_customer") or any(self.mapped("is_isp_customer"))
        ):
            by_company = self.grouped("company_id")
            if len(by_company) > 1:
                for partners in by_company.values():
                    partners.write(dict(vals))
                return True
            self._isp_prepare_phone_vals(vals, self.company_id[:1])
        result = super().write(vals)
        if vals.get("is_isp_customer") and "phone" not in vals:
            self._isp_check_customer_phone()
        return result

    def _isp_check_customer_phone(self):
        for partner in self.filtered("is_isp_customer"):
            if not partner.company_id:
                raise ValidationError(
                    self.env._("ISP customer %(name)s needs a company.", name=partner.name)
                )
            if partner.phone:
                normalized = self._isp_normalize_phone(partner.phone, partner.company_id.country_id)
                if normalized != partner.phone:
                    partner.phone = normalized

    @api.model
    def _isp_find_or_create_customer(self, phone, company=None, name=None):
        """The ISP customer of ``company`` with this phone number, created when new."""
        company = company or self.env.company
        e164 = self._isp_normalize_phone(phone, company.country_id)
        partner = self.with_context(active_test=True).search(
            [
                ("is_isp_customer", "=", True),
                ("company_id", "=", company.id),
                ("phone", "=", e164),
            ],
            limit=1,
        )
        if partner:
            return partner
        # A concurrent transaction creating the same number (two payments of a new payer
        # confirmed at once) blocks here on the partial unique index until it ends, then
        # fails on it: Odoo's retrying() (requests, crons) runs the caller again with a fresh
        # snapshot, which finds the customer committed meanwhile.
        # (create() inserts the row at once: the unique index is checked inside the savepoint.)
        # A customer made on a payment callback needs no creation message nor followers.
        quiet = self.with_context(
            mail_create_nolog=True, mail_create_nosubscribe=True, tracking_disable=True
        )
        try:
            with self.env.cr.savepoint(flush=False):
                partner = quiet.create(
                    {
                        "name": name or e164,
                        "phone": e164,
                        "is_isp_customer": True,
                        "company_id": company.id,
                    }
                ).with_env(self.env)
        except pg_errors.UniqueViolation as exc:
            raise ConcurrencyError(
                f"customer {e164} was created by a concurrent transaction"
            ) from exc
        return partner

    def _isp_lock(self):
        """Serialise work on these customers (fulfilments, device registrations).

        One UPDATE both waits for and takes the row lock and modifies the row: under Odoo's
        REPEATABLE READ isolation a concurrent transaction that locked the same customer then
        fails with a serialization error, which Odoo's request and cron runners retry with a
        fresh snapshot, instead of going on with a stale one.
        """
        if self.ids:
            self.env.cr.execute(
                SQL(
                    "UPDATE res_partner SET write_date = (now() AT TIME ZONE 'UTC') WHERE id IN %s",
                    tuple(self.ids),
                )
            )
            self.invalidate_recordset(["write_date"])

    def _isp_effective_device_limit(self):
        """Devices allowed at once: the largest of the active bundles' limits, else the
        customer's own limit."""
        self.ensure_one()
        active = self.isp_subscription_ids.filtered(lambda s: s.state == "active")
        bundle_limit = max(active.mapped("bundle_id.isp_device_limit"), default=0)
        return bundle_limit or self.isp_device_limit

    def action_isp_view_subscriptions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "isp_billing.isp_subscription_action"
        )
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"default_partner_id": self.id}
        return action

    def action_isp_view_purchases(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("isp_billing.isp_purchase_action")
        action["domain"] = [("partner_id", "=", self.id)]
        return action

    def _isp_send_login_code(self, code):
        """Hook: send the one-time sign-in ``code`` to this customer's phone (the captive
        page's "Already paid?"). Returns True when sent, False when no channel is installed
        (isp_billing has none; isp_sms sends it by SMS). On an empty recordset nothing is
        sent: the answer says whether a channel exists."""
        return False

    # ------------------------------------------------------------------ resellers

    isp_reseller_commission_percent = fields.Float(
        string="Reseller Commission (%)",
        digits=(5, 2),
        default=lambda self: self.env.company.isp_reseller_commission_percent,
        help="Discount this reseller gets on the face value of the vouchers it buys.",
    )
    isp_reseller_balance = fields.Monetary(
        string="Reseller Balance",
        compute="_compute_isp_reseller_balance",
        currency_field="isp_reseller_currency_id",
        help="Prepaid balance: the reseller's unspent credit on its receivable account "
        "(top-ups paid in, less the voucher batches bought).",
    )
    isp_reseller_currency_id = fields.Many2one(
        "res.currency", compute="_compute_isp_reseller_balance"
    )
    isp_reseller_purchase_ids = fields.One2many(
        "isp.reseller.purchase", "reseller_id", string="Voucher Purchases"
    )
    isp_reseller_commission_total = fields.Monetary(
        string="Commission Earned",
        compute="_compute_isp_reseller_balance",
        currency_field="isp_reseller_currency_id",
    )
    isp_voucher_reseller_ids = fields.Many2many(
        "res.partner",
        string="Voucher Resellers",
        compute="_compute_isp_voucher_reseller_ids",
        search="_search_isp_voucher_reseller_ids",
        help="The resellers whose voucher codes this customer redeemed.",
    )

    _isp_reseller_commission_range = models.Constraint(
        "CHECK(isp_reseller_commission_percent >= 0 AND isp_reseller_commission_percent < 100)",
        "A reseller commission is a percentage from 0 to below 100.",
    )

    def _isp_reseller_ledger_domain(self, company):
        """The reseller's posted receivable lines in ``company`` (its account statement)."""
        self.ensure_one()
        return (
            Domain("partner_id", "child_of", self.commercial_partner_id.ids)
            & Domain("company_id", "=", company.id)
            & Domain("account_id.account_type", "=", "asset_receivable")
            & Domain("parent_state", "=", "posted")
        )

    def _isp_reseller_balance_amount(self, company=None):
        """What the reseller may spend: the credit balance of its receivable account."""
        self.ensure_one()
        company = company or self.company_id or self.env.company
        self.env["account.move.line"].flush_model()
        [(balance,)] = (
            self.env["account.move.line"]
            .sudo()
            ._read_group(self._isp_reseller_ledger_domain(company), [], ["balance:sum"])
        )
        return company.currency_id.round(-(balance or 0.0))

    @api.depends_context("company")
    def _compute_isp_reseller_balance(self):
        commissions = dict(
            self.env["isp.reseller.purchase"]
            .sudo()
            ._read_group(
                [("reseller_id", "in", self.ids)], ["reseller_id"], ["amount_commission:sum"]
            )
        )
        for partner in self:
            company = partner.company_id or self.env.company
            partner.isp_reseller_currency_id = company.currency_id
            partner.isp_reseller_balance = (
                partner._isp_reseller_balance_amount(company)
                if partner.isp_is_reseller and partner.id
                else 0.0
            )
            partner.isp_reseller_commission_total = commissions.get(partner._origin, 0.0)

    def _compute_isp_voucher_reseller_ids(self):
        rows = (
            self.env["isp.voucher"]
            .sudo()
            ._read_group(
                [("partner_id", "in", self.ids), ("reseller_id", "!=", False)],
                ["partner_id", "reseller_id"],
            )
        )
        resellers = {}
        for partner, reseller in rows:
            resellers.setdefault(partner.id, []).append(reseller.id)
        for partner in self:
            partner.isp_voucher_reseller_ids = [
                fields.Command.set(resellers.get(partner._origin.id, []))
            ]

    def _search_isp_voucher_reseller_ids(self, operator, value):
        """Customers of resellers: ``[('isp_voucher_reseller_ids', 'in', reseller_ids)]``."""
        if operator not in ("in", "="):
            return NotImplemented
        ids = [value] if isinstance(value, int) else list(value)
        rows = (
            self.env["isp.voucher"]
            .sudo()
            ._read_group(
                [
                    ("reseller_id", "in", ids),
                    ("state", "=", "redeemed"),
                    ("partner_id", "!=", False),
                ],
                ["partner_id"],
            )
        )
        return Domain("id", "in", [partner.id for (partner,) in rows])

    def _isp_reseller_bundles(self):
        """Bundles this reseller may buy vouchers of: its company's hotspot bundles on sale."""
        self.ensure_one()
        company = self.company_id or self.env.company
        return (
            self.env["product.product"]
            .sudo()
            .search(
                [
                    ("is_isp_bundle", "=", True),
                    ("sale_ok", "=", True),
                    ("isp_service_type", "=", "hotspot"),
                    ("company_id", "in", (company.id, False)),
                ],
                order="list_price, id",
            )
        )

    def action_isp_reseller_top_up(self):
        """Staff: record a payment the reseller made (cash, bank, mobile money) as a
        customer payment; its credit is the reseller's balance."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Top up %(name)s", name=self.display_name),
            "res_model": "account.payment",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_payment_type": "inbound",
                "default_partner_type": "customer",
                "default_partner_id": self.commercial_partner_id.id,
                "default_memo": self.env._("Reseller top-up"),
                # a journal entry even where bank reconciliation is in use: the balance is
                # the receivable credit
                "force_payment_move": True,
            },
        }

    def action_isp_view_reseller_purchases(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "isp_billing.isp_reseller_purchase_action"
        )
        action["domain"] = [("reseller_id", "=", self.commercial_partner_id.id)]
        return action
