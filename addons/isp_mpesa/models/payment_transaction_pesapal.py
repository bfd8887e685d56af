import re
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, email_normalize, float_round
from odoo.tools.urls import urljoin

from odoo.addons.payment import utils as payment_utils
from odoo.addons.payment.logging import get_payment_logger

from .. import const
from .payment_provider import IspProviderError
from .payment_provider_pesapal import (
    PESAPAL_COMPLETED,
    PESAPAL_CURRENCIES,
    PESAPAL_DESCRIPTION_MAX,
    PESAPAL_FAILED,
    PESAPAL_INVALID,
    PESAPAL_REFERENCE,
    PESAPAL_RETURN_ROUTE,
    PESAPAL_REVERSED,
    PESAPAL_STATUS_PATH,
    PESAPAL_SUBMIT_ORDER_PATH,
)

_logger = get_payment_logger(__name__, const.SENSITIVE_KEYS)

# Lost notifications: the first status query this long after the order, then twice as long
# after each answer that settles nothing, at most every POLL_MAX.
POLL_FIRST = timedelta(minutes=2)
POLL_MAX = timedelta(hours=2)
POLL_BATCH = 200


def status_code(payment_data):
    """GetTransactionStatus' status_code as an int (None when absent or not a number)."""
    code = payment_data.get("status_code")
    if isinstance(code, bool):
        return None
    try:
        return int(code)
    except (TypeError, ValueError):
        return None


class PaymentTransaction(models.Model):
    """Pesapal: order submission and redirect, status query, lost-notification polling."""

    _inherit = "payment.transaction"  # pylint: disable=consider-merging-classes-inherited

    pesapal_status = fields.Char(readonly=True, help="The last status_code and description.")
    pesapal_confirmation_code = fields.Char(readonly=True)
    pesapal_payment_method = fields.Char(string="Paid With (Pesapal)", readonly=True)
    pesapal_reversed = fields.Boolean(
        string="Reversed by Pesapal",
        readonly=True,
        copy=False,
        help="Pesapal reversed this completed payment: the money went back to the payer. "
        "The payment recorded in Odoo stays until an accountant reverses it.",
    )
    pesapal_checked_at = fields.Datetime(string="Status Asked On", readonly=True, copy=False)
    pesapal_check_count = fields.Integer(readonly=True, copy=False)
    pesapal_next_check_at = fields.Datetime(readonly=True, copy=False, index="btree_not_null")

    # === Order (redirect flow) === #

    @api.model
    def _compute_reference(self, provider_code, prefix=None, separator="-", **kwargs):
        """Override of `payment` to make Pesapal's references fit its order ``id``: letters,
        digits and "-_.:", at most 50 characters (invoice names lose their slashes)."""
        if provider_code == "pesapal":
            if not prefix:
                prefix = self.sudo()._compute_reference_prefix(separator, **kwargs) or None
            if prefix:
                prefix = re.sub(r"[^A-Za-z0-9_.:-]+", "-", prefix).strip("-")[:40] or None
        return super()._compute_reference(
            provider_code, prefix=prefix, separator=separator, **kwargs
        )

    def _get_specific_rendering_values(self, processing_values):
        """Override of `payment` to submit the order to Pesapal and return its hosted page
        (the redirect form's action, its query as inputs: a GET form drops the action's)."""
        values = super()._get_specific_rendering_values(processing_values)
        if self.provider_code != "pesapal":
            return values
        try:
            redirect_url = self._pesapal_submit_order()
        except (UserError, ValidationError) as error:  # IspProviderError too
            message = str(error.args[0] if error.args else error)
            _logger.warning("Pesapal order for %s not submitted: %s", self.reference, message)
            self._set_error(message)
            return {}
        parts = urlsplit(redirect_url)
        return {
            "api_url": urlunsplit(parts._replace(query="", fragment="")),
            "url_params": parse_qsl(parts.query, keep_blank_values=True),
        }

    def _pesapal_check_order(self):
        """What Pesapal takes: its currencies, an amount, an id it accepts."""
        self.ensure_one()
        if self.currency_id.name not in PESAPAL_CURRENCIES:
            raise UserError(
                self.env._(
                    "Pesapal takes payments in %(currencies)s, not %(currency)s.",
                    currencies=", ".join(PESAPAL_CURRENCIES),
                    currency=self.currency_id.name,
                )
            )
        if self.currency_id.compare_amounts(self.amount, 0) <= 0:
            raise UserError(self.env._("There is nothing to pay."))
        if not PESAPAL_REFERENCE.match(self.reference or ""):
            raise UserError(
                self.env._(
                    "Pesapal needs a reference of at most 50 letters, digits or -_.: "
                    "(%(reference)s): create the transaction with its computed reference.",
                    reference=self.reference,
                )
            )
        if self.provider_reference:
            raise UserError(self.env._("This payment was already sent to Pesapal."))

    def _pesapal_billing_address(self):
        """The payer's email and/or phone (E.164 digits, no +), name and country."""
        self.ensure_one()
        email = email_normalize(self.partner_email or "") or None
        phone = None
        if self.partner_phone:
            country = self.partner_country_id or self.company_id.country_id
            try:
                phone = self.env["res.partner"]._isp_normalize_phone(self.partner_phone, country)
            except ValidationError:
                phone = None
        if not email and not phone:
            raise UserError(
                self.env._(
                    "Pesapal needs your email address or mobile number: add one to your "
                    "contact details, then pay again."
                )
            )
        first, last = payment_utils.split_partner_name(self.partner_name or "")
        address = {
            "email_address": email,
            "phone_number": phone.lstrip("+") if phone else None,
            "country_code": self.partner_country_id.code,
            "first_name": (first or "")[:50],
            "last_name": (last or "")[:50],
        }
        return {key: value for key, value in address.items() if value}

    def _pesapal_description(self):
        what = ", ".join(self.invoice_ids.mapped("name")) or self.reference
        text = self.env._("%(company)s: %(what)s", company=self.company_id.name, what=what)
        return text[:PESAPAL_DESCRIPTION_MAX]

    def _pesapal_submit_order(self):
        """SubmitOrderRequest; the order_tracking_id becomes the provider reference. Returns
        Pesapal's redirect_url."""
        self.ensure_one()
        self._pesapal_check_order()
        provider = self.provider_id
        billing_address = self._pesapal_billing_address()
        payload = {
            "id": self.reference,
            "currency": self.currency_id.name,
            "amount": float_round(self.amount, precision_digits=self.currency_id.decimal_places),
            "description": self._pesapal_description(),
            "callback_url": urljoin(provider.get_base_url(), PESAPAL_RETURN_ROUTE.lstrip("/")),
            "notification_id": provider._pesapal_ensure_ipn(),
            "billing_address": billing_address,
        }
        answer = self._send_api_request("POST", PESAPAL_SUBMIT_ORDER_PATH, json=payload)
        tracking = answer.get("order_tracking_id")
        redirect_url = answer.get("redirect_url")
        if (
            not isinstance(tracking, str)
            or not tracking
            or answer.get("merchant_reference") != self.reference
            or not isinstance(redirect_url, str)
            or urlsplit(redirect_url).scheme not in ("https", "http")
        ):
            raise IspProviderError(
                self.env._("Pesapal did not accept the order: %(answer)s", answer=answer),
                code="invalid",
            )
        self.write(
            {
                "provider_reference": tracking,
                "pesapal_next_check_at": fields.Datetime.now() + POLL_FIRST,
            }
        )
        self._pesapal_schedule_poll(POLL_FIRST)
        return redirect_url

    def _pesapal_schedule_poll(self, delay):
        cron = self.env.ref("isp_mpesa.ir_cron_pesapal_poll", raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger(fields.Datetime.now() + delay)

    # === Status (the only source of truth) === #

    @api.model
    def _pesapal_find(self, provider, tracking, reference):
        """The transaction of ``provider`` (any Pesapal provider when None) with this order
        tracking id and merchant reference, else an empty recordset."""
        if not (isinstance(tracking, str) and isinstance(reference, str)):
            return self.browse()
        if not (0 < len(tracking) <= 100 and 0 < len(reference) <= 100):
            return self.browse()
        domain = [
            ("reference", "=", reference),
            ("provider_code", "=", "pesapal"),
            ("provider_reference", "=", tracking),
        ]
        if provider is not None:
            domain.append(("provider_id", "=", provider.id))
        return self.search(domain, limit=1)

    def _pesapal_lock(self):
        """Lock this transaction's row and read it again: a concurrent notification of it
        waits, then fails to serialize and is retried, and finds it settled."""
        self.ensure_one()
        self.env.cr.execute(
            SQL("SELECT id FROM payment_transaction WHERE id = %s FOR UPDATE", self.id)
        )
        self.invalidate_recordset()

    def _pesapal_query(self):
        """GetTransactionStatus of this transaction's order, as payment data for
        ``_process``. Raises IspProviderError when it cannot be had or names another order."""
        self.ensure_one()
        tracking = self.provider_reference
        if not tracking:
            raise UserError(self.env._("%s was never sent to Pesapal.", self.reference))
        answer = self._send_api_request(
            "GET", PESAPAL_STATUS_PATH, params={"orderTrackingId": tracking}
        )
        if answer.get("merchant_reference") != self.reference or status_code(answer) is None:
            raise IspProviderError(
                self.env._(
                    "Pesapal's status of %(reference)s is unusable (merchant_reference "
                    "%(other)s, status_code %(code)s).",
                    reference=self.reference,
                    other=answer.get("merchant_reference"),
                    code=answer.get("status_code"),
                ),
                code="invalid",
            )
        self.pesapal_checked_at = fields.Datetime.now()
        return dict(answer, order_tracking_id=tracking)

    def _pesapal_settle(self):
        """Lock, ask Pesapal, process (notifications and the browser's return)."""
        self.ensure_one()
        self._pesapal_lock()
        return self._process("pesapal", self._pesapal_query())

    # === Processing chain === #

    @api.model
    def _extract_reference(self, provider_code, payment_data):
        """Override of `payment` to read the merchant reference."""
        if provider_code != "pesapal":
            return super()._extract_reference(provider_code, payment_data)
        return payment_data.get("merchant_reference")

    @api.model
    def _search_by_reference(self, provider_code, payment_data):
        """Override of `payment` to require the order tracking id too."""
        if provider_code != "pesapal":
            return super()._search_by_reference(provider_code, payment_data)
        tx = self._pesapal_find(
            None, payment_data.get("order_tracking_id"), payment_data.get("merchant_reference")
        )
        if not tx:
            _logger.warning("No Pesapal transaction for %s", payment_data.get("merchant_reference"))
        return tx

    def _process(self, provider_code, payment_data):
        """Override of `payment` to leave a transaction paid with another amount as it ended
        and to post-process a confirmed one now (an invoice paid: its payment, reconciled;
        bundles: isp_billing's post-processing cron)."""
        if provider_code != "pesapal":
            return super()._process(provider_code, payment_data)
        if not self:
            tx = self._search_by_reference(provider_code, payment_data)
            return tx._process(provider_code, payment_data) if tx else tx
        if not self.isp_amount_refused:
            super()._process(provider_code, payment_data)
        if self.state not in ("draft", "pending") or self.isp_amount_refused:
            self.pesapal_next_check_at = False
        if (
            self.state == "done"
            and not self.is_post_processed
            and self.isp_invoice_status != "to_invoice"
        ):
            self._post_process()
        return self

    def _extract_amount_data(self, payment_data):
        """Override of `payment` to return the amount paid (completed only)."""
        if self.provider_code != "pesapal":
            return super()._extract_amount_data(payment_data)
        if status_code(payment_data) != PESAPAL_COMPLETED:
            return None
        try:
            amount = float(payment_data.get("amount"))
        except (TypeError, ValueError):
            amount = 0.0
        return {"amount": amount, "currency_code": str(payment_data.get("currency") or "")}

    def _validate_amount(self, payment_data):
        """Override of `payment`: a completed payment of another amount or currency than the
        one due ends in error for good, never done (``_pesapal_wrong_amount``)."""
        if self.provider_code != "pesapal" or self.operation == "validation":
            return super()._validate_amount(payment_data)
        amount_data = self._extract_amount_data(payment_data)
        if amount_data is None:
            return None
        amount, currency = amount_data["amount"], amount_data["currency_code"]
        if (
            not amount
            or currency != self.currency_id.name
            or self.currency_id.compare_amounts(amount, self.amount)
        ):
            self._pesapal_wrong_amount(amount, currency, payment_data)
        return None

    def _pesapal_wrong_amount(self, amount, currency_code, payment_data):
        """Pesapal took ``amount`` ``currency_code``, not what is due: error, not applied.
        A bundle payment is Paid, Not Applied (isp_billing: staff grant access or refund);
        an invoice stays unpaid, its chatter says so."""
        self.ensure_one()
        if self.isp_bundle_id:
            self._isp_set_wrong_amount(amount, currency_code)
        else:
            _logger.warning(
                "Transaction %s paid %s %s, %s %s is due: not applied",
                self.reference,
                amount,
                currency_code,
                self.amount,
                self.currency_id.name,
            )
            message = self.env._(
                "Paid %(paid)s of %(due)s: the payment does not match the amount due, so it "
                "was not applied. Please contact us with your Pesapal confirmation code for a "
                "refund.",
                paid=self._isp_money(amount, currency_code),
                due=self._isp_money(self.amount, self.currency_id.name),
            )
            self.write(
                {
                    "isp_amount_refused": True,
                    "isp_paid_amount": amount,
                    "isp_public_message": message,
                }
            )
            if self.state == "error":
                self.state_message = message
            else:
                self._set_error(message)
            self._log_message_on_linked_documents(message)
        self.write(self._pesapal_status_values(payment_data))

    def _pesapal_status_values(self, payment_data):
        code = status_code(payment_data)
        description = str(payment_data.get("payment_status_description") or "")
        values = {"pesapal_status": f"{code} {description}".strip()[:100]}
        for key, field in (
            ("confirmation_code", "pesapal_confirmation_code"),
            ("payment_method", "pesapal_payment_method"),
        ):
            if isinstance(payment_data.get(key), str) and payment_data[key]:
                values[field] = payment_data[key][:100]
        return values

    def _apply_updates(self, payment_data):
        """Override of `payment` to update the transaction from Pesapal's status_code
        (payment_status_description's case varies: only the code is trusted)."""
        if self.provider_code != "pesapal":
            return super()._apply_updates(payment_data)
        if self.isp_amount_refused:  # another amount was paid: it stays as it ended
            return
        code = status_code(payment_data)
        self.write(self._pesapal_status_values(payment_data))
        if code == PESAPAL_COMPLETED:
            self._set_done(state_message=self.env._("Payment received. Thank you!"))
        elif code == PESAPAL_FAILED:
            reason = payment_data.get("description") or payment_data.get(
                "payment_status_description"
            )
            self._set_error(
                self.env._(
                    "The payment did not go through (Pesapal: %(reason)s). Please try again.",
                    reason=reason or code,
                )
            )
            self.isp_public_message = self.env._(
                "The payment did not go through. Please try again."
            )
        elif code == PESAPAL_REVERSED:
            if self.state == "done":
                self._pesapal_note_reversal()
            else:
                self._set_error(
                    self.env._("Pesapal reversed this payment: the money went back to the payer.")
                )
        elif code == PESAPAL_INVALID:
            # not paid (yet): the payer may still be on Pesapal's page; the polling cron ends
            # it after the provider's window
            _logger.info("Pesapal: %s not paid yet (status 0)", self.reference)
        else:
            _logger.warning("Pesapal: unknown status_code %s for %s", code, self.reference)

    def _pesapal_note_reversal(self):
        """A completed payment Pesapal reversed. Odoo has no "reversed" state and its payment
        is posted (an invoice reconciled with it): the transaction stays done, flagged, with a
        note on it and on the documents it paid, for an accountant to reverse the payment."""
        self.ensure_one()
        if self.pesapal_reversed:
            return
        message = self.env._(
            "Pesapal reversed payment %(reference)s (confirmation %(code)s): the money went "
            "back to the payer. Reverse the payment recorded in Odoo.",
            reference=self.reference,
            code=self.pesapal_confirmation_code or "?",
        )
        _logger.warning("Pesapal reversed %s after it was done", self.reference)
        self.write({"pesapal_reversed": True, "state_message": message})
        self._log_message_on_linked_documents(message)

    # === Lost notifications === #

    @api.model
    def _cron_pesapal_poll(self):
        """Ask Pesapal the status of unconfirmed orders whose next check is due (backing off
        after each answer that settles nothing); end those older than the provider's window."""
        now = fields.Datetime.now()
        due = self.search(
            [
                ("provider_code", "=", "pesapal"),
                ("state", "in", ("draft", "pending")),
                ("pesapal_next_check_at", "<=", now),
            ],
            order="pesapal_next_check_at, id",
            limit=POLL_BATCH,
        )
        cron = self.env["ir.cron"]
        for index, tx in enumerate(due):
            if tx.try_lock_for_update():
                tx._pesapal_poll_one(now)
            if not cron._commit_progress(1, remaining=len(due) - index - 1):
                break
        upcoming = self.search(
            [
                ("provider_code", "=", "pesapal"),
                ("state", "in", ("draft", "pending")),
                ("pesapal_next_check_at", "!=", False),
            ],
            order="pesapal_next_check_at",
            limit=1,
        )
        if upcoming:
            self._pesapal_schedule_poll(max(upcoming.pesapal_next_check_at - now, timedelta(0)))

    def _pesapal_poll_one(self, now):
        self.ensure_one()
        try:
            self._process("pesapal", self._pesapal_query())
        except UserError as error:  # IspProviderError too
            _logger.warning("Status of %s unknown: %s", self.reference, error.args[0])
        if self.state not in ("draft", "pending") or self.isp_amount_refused:
            self.pesapal_next_check_at = False
            return
        hours = self.provider_id.pesapal_poll_hours or 72
        if self.create_date + timedelta(hours=hours) <= now:
            _logger.info("No Pesapal confirmation for %s within %s h: ended", self.reference, hours)
            message = self.env._(
                "No confirmation came from Pesapal in time. If you paid, the payment will be "
                "applied as soon as Pesapal confirms it; otherwise please pay again."
            )
            self.isp_public_message = message
            self._set_error(message)
            self.pesapal_next_check_at = False
            return
        count = self.pesapal_check_count + 1
        delay = min(POLL_FIRST * (2**count), POLL_MAX)
        self.write({"pesapal_check_count": count, "pesapal_next_check_at": now + delay})
