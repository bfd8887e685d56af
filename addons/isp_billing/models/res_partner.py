"""ISP customers: their phone number (E.164, mobile), account number, subscriptions, devices
and access."""

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult
from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.exceptions import ConcurrencyError, UserError, ValidationError
from odoo.tools import SQL

from odoo.addons.phone_validation.tools.phone_validation import phone_parse

MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
PARSE_RESULTS = {
    NumberParseException.INVALID_COUNTRY_CODE: ValidationResult.INVALID_COUNTRY_CODE,
    NumberParseException.TOO_LONG: ValidationResult.TOO_LONG,
}

# Account numbers: a number from one PostgreSQL sequence (never reused, safe across concurrent
# transactions, many values in one query) followed by a Damm check digit, which catches every
# single-digit error and every swap of two adjacent digits (Luhn misses 09/90).
ACCOUNT_NUMBER_SEQUENCE = "isp_account_number_seq"
ACCOUNT_NUMBER_FIRST = 100000  # 6 digits + the check digit: 7 digits, never a leading 0
ACCOUNT_NUMBER_RE = re.compile(r"[0-9]{2,18}")
ACCOUNT_NUMBER_IGNORED_RE = re.compile(r"[\s\-\u2010-\u2015]+")
DAMM_TABLE = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def damm_digit(digits):
    """The Damm check digit of a string of digits: appended to them, their Damm digit is 0."""
    interim = 0
    for digit in digits:
        interim = DAMM_TABLE[interim][int(digit)]
    return interim


def account_number_from(base):
    """The account number of sequence value ``base``: its digits and their check digit."""
    digits = str(base)
    return f"{digits}{damm_digit(digits)}"


def clean_account_number(text):
    """``text`` as typed by a customer (spaces and dashes anywhere) as an account number, or
    None when it is none: not digits, or a wrong check digit (a mistyped number)."""
    number = ACCOUNT_NUMBER_IGNORED_RE.sub("", str(text or "")).upper()
    if not ACCOUNT_NUMBER_RE.fullmatch(number) or damm_digit(number) != 0:
        return None
    return number


class ResPartner(models.Model):
    _inherit = "res.partner"

    is_isp_customer = fields.Boolean(string="ISP Customer", index=True)
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
    isp_account_number = fields.Char(
        string="Account Number",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The customer's account number: typed as the account when paying by M-Pesa "
        "Paybill, shown on the portal, SMS and invoices. Given once when the partner becomes "
        "an ISP customer and never changed; its last digit is a check digit, so a mistyped "
        "number matches no customer.",
    )

    _isp_phone_unique = models.UniqueIndex(
        "(company_id, phone) WHERE is_isp_customer AND active",
        "Another ISP customer of this company already has this phone number.",
    )
    _isp_account_number_unique = models.UniqueIndex(
        "(company_id, isp_account_number) WHERE isp_account_number IS NOT NULL",
        "Another customer of this company already has this account number.",
    )
    _isp_device_limit_positive = models.Constraint(
        "CHECK(NOT is_isp_customer OR isp_device_limit > 0)",
        "A customer's device limit must be at least 1.",
    )

    def init(self):
        result = super().init()
        self.env.cr.execute(
            SQL(
                "CREATE SEQUENCE IF NOT EXISTS %s START WITH %s MINVALUE %s",
                SQL.identifier(ACCOUNT_NUMBER_SEQUENCE),
                ACCOUNT_NUMBER_FIRST,
                ACCOUNT_NUMBER_FIRST,
            )
        )
        return result

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

        phone_validation's ``phone_parse`` reads it: national forms in ``country`` (default:
        the company's country), and international ones with +, 00 or the bare country code
        (255712345678). Only mobile numbers are accepted: customers pay and are notified on
        their phones.
        """
        text = (number or "").strip()
        if not text:
            raise ValidationError(self.env._("A phone number is required."))
        country = country or self.env.company.country_id
        region = country.code if country else None
        digits = "".join(ch for ch in text if ch.isdigit())
        candidates = [text]
        if text.startswith("00") and len(digits) > 2:
            # 00 + country code, whatever the local international prefix (Tanzania's is 000)
            candidates.append("+" + digits[2:])
        elif not text.startswith("+") and digits:
            candidates.append("+" + digits)
        not_mobile = False
        for candidate in candidates:
            try:
                parsed = phone_parse(candidate, region)
            except UserError:
                continue
            if phonenumbers.number_type(parsed) in MOBILE_TYPES:
                return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            not_mobile = True
        if not_mobile:
            raise ValidationError(
                self.env._(
                    "%(number)s is not a mobile number: customers need one to pay by mobile "
                    "money and receive SMS.",
                    number=text,
                )
            )
        raise ValidationError(self._isp_phone_error(text, country))

    def _isp_phone_error(self, text, country):
        """Why ``text`` is no phone number of ``country``, in the customer's words."""
        try:
            parsed = phonenumbers.parse(text, country.code if country else None)
            result = phonenumbers.is_possible_number_with_reason(parsed)
        except NumberParseException as exc:
            if exc.error_type == NumberParseException.NOT_A_NUMBER:
                return self.env._("%(number)s is not a phone number.", number=text)
            result = PARSE_RESULTS.get(exc.error_type, ValidationResult.TOO_SHORT)
        if result == ValidationResult.INVALID_COUNTRY_CODE:
            return self.env._(
                "%(number)s has no valid country code; write it with its country code "
                "(e.g. +255...).",
                number=text,
            )
        if result == ValidationResult.TOO_LONG:
            return self.env._("%(number)s has too many digits.", number=text)
        if result == ValidationResult.TOO_SHORT:
            return self.env._("%(number)s has too few digits.", number=text)
        if result != ValidationResult.IS_POSSIBLE:
            return self.env._("%(number)s does not have the length of a phone number.", number=text)
        return self.env._(
            "%(number)s is not a valid phone number%(where)s.",
            number=text,
            where=self.env._(" in %(country)s", country=country.name) if country else "",
        )

    def _isp_prepare_phone_vals(self, vals, company=None):
        if vals.get("phone"):
            company = company or self.env.company
            vals["phone"] = self._isp_normalize_phone(vals["phone"], company.country_id)
        return vals

    @api.model_create_multi
    def create(self, vals_list):
        """Override of res.partner to store ISP customers' phones in E.164, in their company,
        and give them their account numbers (one query for the whole batch)."""
        numbered = []
        for vals in vals_list:
            if vals.get("is_isp_customer"):
                vals.setdefault("company_id", self.env.company.id)
                company = self.env["res.company"].browse(vals["company_id"])
                self._isp_prepare_phone_vals(vals, company)
                if "isp_device_limit" not in vals:
                    vals["isp_device_limit"] = company.isp_default_device_limit
                if not vals.get("isp_account_number"):
                    numbered.append(vals)
        numbers = self._isp_next_account_numbers(len(numbered))
        for vals, number in zip(numbered, numbers, strict=True):
            vals["isp_account_number"] = number
        return super().create(vals_list)

    def write(self, vals):
        """Override of res.partner to keep ISP customers' phones in E.164, their account
        numbers unchanged, and give one to a partner becoming an ISP customer."""
        if "isp_account_number" in vals and any(
            partner.isp_account_number and partner.isp_account_number != vals["isp_account_number"]
            for partner in self
        ):
            raise UserError(self.env._("A customer's account number never changes."))
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
        if vals.get("is_isp_customer"):
            self._isp_assign_account_numbers()
        return result

    # ------------------------------------------------------------------ account numbers

    @api.model
    def _isp_next_account_numbers(self, count):
        """``count`` new account numbers, in one query. The sequence is not transactional:
        concurrent transactions never get the same value, and a value is never given twice
        (a rolled back transaction leaves a gap, which does no harm)."""
        if count <= 0:
            return []
        self.env.cr.execute(
            SQL(
                "SELECT nextval(%s) FROM generate_series(1, %s)",
                ACCOUNT_NUMBER_SEQUENCE,
                count,
            )
        )
        return [account_number_from(base) for (base,) in self.env.cr.fetchall()]

    def _isp_assign_account_numbers(self):
        """Give an account number to each of these ISP customers who has none."""
        partners = self.filtered(lambda p: p.is_isp_customer and not p.isp_account_number)
        for partner, number in zip(
            partners, self._isp_next_account_numbers(len(partners)), strict=True
        ):
            partner.isp_account_number = number

    @api.model
    def _isp_fill_account_numbers(self):
        """Give account numbers to all ISP customers (archived ones too) who have none, in
        three queries whatever their number: the ids, the numbers, one UPDATE (the upgrade
        to 19.0.1.4.0 runs it for the customers made before)."""
        self.env.flush_all()
        self.env.cr.execute(
            """
            SELECT id FROM res_partner
             WHERE is_isp_customer AND COALESCE(isp_account_number, '') = ''
             ORDER BY id
            """
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        if not ids:
            return 0
        numbers = self._isp_next_account_numbers(len(ids))
        self.env.cr.execute(
            SQL(
                """
                UPDATE res_partner p SET isp_account_number = v.number
                  FROM unnest(%s::int[], %s::varchar[]) AS v(id, number)
                 WHERE p.id = v.id
                """,
                ids,
                numbers,
            )
        )
        self.browse(ids).invalidate_recordset(["isp_account_number"])
        return len(ids)

    def _isp_payment_details(self):
        """How this customer pays by M-Pesa: ``isp_account_number`` (theirs, else their
        commercial partner's) and ``isp_paybill_number`` (their company's Paybill / Till),
        each False when there is none; both False for a partner who is no ISP customer."""
        partner = self[:1]
        if not partner.isp_account_number:
            partner = partner.commercial_partner_id
        if not (partner.is_isp_customer and partner.isp_account_number):
            return {"isp_account_number": False, "isp_paybill_number": False}
        company = partner.company_id or self.env.company
        # sudo: a portal customer reads the company's setting (and, with isp_mpesa, its
        # providers' shortcodes), which their own rights may not cover
        return {
            "isp_account_number": partner.isp_account_number,
            "isp_paybill_number": company.sudo()._isp_paybill_number(),
        }

    @api.constrains("isp_account_number")
    def _check_isp_account_number(self):
        for partner in self:
            number = partner.isp_account_number
            if number and clean_account_number(number) != number:
                raise ValidationError(
                    self.env._(
                        "%(number)s is not an account number: account numbers are given by "
                        "Odoo, digits ending with a check digit.",
                        number=number,
                    )
                )

    @api.model
    def _isp_find_by_account_number(self, company, text):
        """The ISP customer of ``company`` whose account number is ``text`` as a customer
        typed it (spaces and dashes ignored), else an empty recordset. A number whose check
        digit is wrong (one digit mistyped, two adjacent digits swapped) matches nobody, not
        another customer. Archived customers are found too: their number stays theirs."""
        number = clean_account_number(text)
        if not number or not company:
            return self.browse()
        found = self.with_context(active_test=False).search(
            [
                ("company_id", "=", company.id),
                ("is_isp_customer", "=", True),
                ("isp_account_number", "=", number),
            ],
            limit=1,
        )
        return self.browse(found.ids)

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
        """The ISP customer of ``company`` with this phone number, created when new. The
        context's ``isp_customer_lang`` (the language of the page the customer used) is
        theirs when new, and adopted by a found one as ``_isp_adopt_lang`` decides."""
        lang = self.env.context.get("isp_customer_lang")
        if lang not in dict(self.env["res.lang"].get_installed()):
            lang = None
        partner = self._isp_find_or_create_customer_partner(phone, company, name, lang)
        partner._isp_adopt_lang(lang)
        return partner

    def _isp_adopt_lang(self, lang):
        """These customers speak ``lang`` (they used a page in it): it becomes their
        language (SMS and documents) when they have none yet or still the company's default
        one (its partner's language, else English). A language chosen otherwise (by staff,
        or an earlier choice of the customer's) is kept: nothing overrides a deliberate
        choice."""
        installed = dict(self.env["res.lang"].get_installed())
        if not isinstance(lang, str) or lang not in installed:
            return
        for partner in self:
            default = partner.company_id.partner_id.lang or "en_US"
            if partner.lang != lang and (not partner.lang or partner.lang == default):
                partner.lang = lang

    @api.model
    def _isp_find_or_create_customer_partner(self, phone, company, name, lang):
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
                        **({"lang": lang} if lang else {}),
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
