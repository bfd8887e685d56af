"""PPPoE monthly billing of subscriptions: the recurrence (pre-paid / post-paid, interval,
next invoice date), one invoice per period, suspension when overdue past the grace days and
reconnection when paid."""

import logging
from datetime import datetime, time

import pytz
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain
from odoo.tools import split_every
from odoo.tools.misc import format_date

_logger = logging.getLogger(__name__)


class IspSubscription(models.Model):
    _inherit = "isp.subscription"  # pylint: disable=consider-merging-classes-inherited

    # Modelled on OCA contract's recurrence: an invoicing type (pre-paid / post-paid), an
    # interval, the next invoice date and the last date invoiced; each invoice covers one
    # period (its own dates on the invoice), and its payment drives suspension and reconnection.

    recurring_invoicing_type = fields.Selection(
        [("pre-paid", "Pre-paid"), ("post-paid", "Post-paid")],
        string="Invoicing Type",
        compute="_compute_recurring_invoicing_type",
        store=True,
        readonly=False,
        precompute=True,
        tracking=True,
        help="Empty: not invoiced recurrently. Pre-paid: each period is invoiced on its first "
        "day. Post-paid: on the day after it ends.",
    )
    recurring_interval = fields.Integer(
        string="Invoice Every (months)",
        compute="_compute_recurring_invoicing_type",
        store=True,
        readonly=False,
        precompute=True,
    )
    recurring_date_start = fields.Date(
        string="Billing Start", copy=False, tracking=True, help="First day billed."
    )
    recurring_date_end = fields.Date(
        string="Billing End",
        tracking=True,
        help="Last day billed; empty: until the subscription is cancelled.",
    )
    recurring_next_date = fields.Date(
        string="Next Invoice Date",
        copy=False,
        index="btree_not_null",
        tracking=True,
        help="When the billing cron issues the next invoice; empty when billing is stopped.",
    )
    last_date_invoiced = fields.Date(copy=False, readonly=True)
    next_period_date_start = fields.Date(
        string="Next Period Start", compute="_compute_next_period", compute_sudo=True
    )
    next_period_date_end = fields.Date(
        string="Next Period End", compute="_compute_next_period", compute_sudo=True
    )
    recurring_invoice_ids = fields.One2many(
        "account.move", "isp_subscription_id", string="Period Invoices", readonly=True
    )
    recurring_suspended = fields.Boolean(
        string="Suspended for Non-payment",
        copy=False,
        readonly=True,
        help="Suspended by the billing cron; paying the overdue invoices reconnects it.",
    )
    recurring_overdue = fields.Boolean(
        string="Overdue",
        compute="_compute_recurring_overdue",
        compute_sudo=True,
        help="An invoice of this subscription is unpaid past its due date.",
    )

    _recurring_interval_positive = models.Constraint(
        "CHECK(recurring_invoicing_type IS NULL OR recurring_interval > 0)",
        "A subscription is invoiced every month or more.",
    )

    @api.depends("bundle_id", "service_type")
    def _compute_recurring_invoicing_type(self):
        for subscription in self:
            bundle = subscription.bundle_id
            kind = bundle.isp_recurring_invoicing_type
            if subscription.service_type == "pppoe" and kind in ("pre-paid", "post-paid"):
                subscription.recurring_invoicing_type = kind
                subscription.recurring_interval = (
                    bundle.isp_duration_value if bundle.isp_duration_unit == "months" else 1
                ) or 1
            else:
                subscription.recurring_invoicing_type = False
                subscription.recurring_interval = 0

    @api.depends(
        "recurring_invoicing_type",
        "recurring_date_start",
        "recurring_date_end",
        "last_date_invoiced",
        "recurring_interval",
        "company_id.isp_recurring_prorate",
    )
    def _compute_next_period(self):
        for subscription in self:
            period = subscription._next_period()
            subscription.next_period_date_start = period[0] if period else False
            subscription.next_period_date_end = period[1] if period else False

    def _compute_recurring_overdue(self):
        origin = self._origin
        overdue = (
            origin._overdue_invoices(grace_days=0).isp_subscription_id if origin.ids else origin
        )
        for subscription in self:
            subscription.recurring_overdue = subscription._origin in overdue

    def _next_period(self):
        """(start, end, ratio) of the next period to invoice, dates inclusive, or None.

        With the company's pro-rating on, periods follow calendar months: a first period that
        does not start on the 1st ends with its month and ``ratio`` is its share of the month.
        """
        self.ensure_one()
        if not (self.recurring_invoicing_type and self.recurring_date_start):
            return None
        interval = self.recurring_interval or 1
        if self.last_date_invoiced:
            start = self.last_date_invoiced + relativedelta(days=1)
        else:
            start = self.recurring_date_start
        if self.recurring_date_end and start > self.recurring_date_end:
            return None
        ratio = 1.0
        if self.company_id.isp_recurring_prorate and start.day != 1:
            month_end = start + relativedelta(day=31)
            ratio = ((month_end - start).days + 1) / month_end.day / interval
            end = month_end
        else:
            end = start + relativedelta(months=interval, days=-1)
        if self.recurring_date_end and end > self.recurring_date_end:
            full = (end - start).days + 1
            end = self.recurring_date_end
            ratio *= ((end - start).days + 1) / full
        return start, end, ratio

    def _next_invoice_date(self):
        """OCA contract's rule: a pre-paid period is invoiced on its first day, a post-paid
        one on the day after its last."""
        self.ensure_one()
        period = self._next_period()
        if not period:
            return False
        if self.recurring_invoicing_type == "pre-paid":
            return period[0]
        return period[1] + relativedelta(days=1)

    def _tz(self):
        """The company's time zone (res.company._isp_tz_name)."""
        return pytz.timezone((self.company_id[:1] or self.env.company)._isp_tz_name())

    def _local_midnight(self, day):
        """The (naive UTC) moment ``day`` begins in the company's time zone."""
        local = self._tz().localize(datetime.combine(day, time.min))
        return local.astimezone(pytz.utc).replace(tzinfo=None)

    def _local_date(self, moment):
        """The company-local date of a (naive UTC) moment."""
        return pytz.utc.localize(moment).astimezone(self._tz()).date()

    def _recurring_start(self):
        """Start billing subscriptions that (re)start on a monthly bundle: the first period
        begins on the day access starts; purchases already cover their own periods."""
        for subscription in self.filtered(lambda s: s.recurring_invoicing_type):
            start_day = subscription._local_date(subscription.date_start or fields.Datetime.now())
            subscription.write({"recurring_date_start": start_day, "last_date_invoiced": False})
            subscription.recurring_next_date = subscription._next_invoice_date()

    def _recurring_state_changed(self, previous_states):
        started = self.filtered(
            lambda s: s.state == "active"
            and previous_states.get(s.id) in ("draft", "expired")
            and s.recurring_invoicing_type
        )
        started._recurring_start()
        stopped = self.filtered(
            lambda s: s.state in ("cancelled", "expired") and s.recurring_next_date
        )
        stopped.recurring_next_date = False
        # resumed by hand (or ended): no longer waiting for a payment to reconnect
        self.filtered(lambda s: s.state != "suspended" and s.recurring_suspended).write(
            {"recurring_suspended": False}
        )

    def action_isp_invoice_next_period(self):
        """Staff: issue the next period's invoice now, whatever its date."""
        # the invoice is created as superuser: the button's group and the record's rights are
        # checked here too, since any user can call a public method over RPC
        if not self.env.user.has_group("account.group_account_invoice"):
            raise AccessError(self.env._("Only invoicing users can issue invoices."))
        self.check_access("write")
        for subscription in self:
            if not (subscription.recurring_invoicing_type and subscription.recurring_next_date):
                raise UserError(
                    self.env._(
                        "Subscription %(name)s is not billed monthly or its billing has ended.",
                        name=subscription.name,
                    )
                )
            subscription._invoice_period(subscription._today())
        return True

    def _paid_until(self):
        """The local date up to which purchases (payment, voucher, manual) already paid this
        subscription's access, or None."""
        self.ensure_one()
        ends = [p.date_end for p in self.purchase_ids if p.date_end]
        return self._local_date(max(ends)) if ends else None

    def _invoice_period(self, today):
        """Invoice this subscription's next period, move the billing forward and extend
        access to the end of the period it now covers. Periods already paid by purchases are
        skipped (billing resumes where they end). Returns the invoice (empty when nothing was
        due)."""
        self.ensure_one()
        period = self._next_period()
        paid_until = self._paid_until()
        if period and paid_until and paid_until > period[0]:
            self.last_date_invoiced = paid_until - relativedelta(days=1)
            self.recurring_next_date = self._next_invoice_date()
            if not self.recurring_next_date or self.recurring_next_date > today:
                return self.env["account.move"]
            period = self._next_period()
        if not period:
            self.recurring_next_date = False
            return self.env["account.move"]
        start, end, ratio = period
        invoice_date = min(self.recurring_next_date or today, today)
        move = self._create_period_invoice(start, end, ratio, invoice_date)
        self.last_date_invoiced = end
        self.recurring_next_date = self._next_invoice_date()
        # pre-paid: access runs to the end of the invoiced period; post-paid: the customer
        # goes on using the next period, invoiced when it ends.
        access_until = end
        if self.recurring_invoicing_type == "post-paid":
            following = self._next_period()
            access_until = following[1] if following else end
        until = self._local_midnight(access_until + relativedelta(days=1))
        if not self.date_expiry or until > self.date_expiry:
            self.date_expiry = until
        return move

    def _create_period_invoice(self, start, end, ratio, invoice_date):
        self.ensure_one()
        company = self.company_id
        bundle = self.bundle_id
        lang = self.partner_id.lang or self.env.lang
        label = self.env._(
            "%(bundle)s, %(start)s to %(end)s",
            bundle=bundle.with_context(lang=lang).display_name,
            start=format_date(self.env, start, lang_code=lang),
            end=format_date(self.env, end, lang_code=lang),
        )
        move = (
            self.env["account.move"]
            .with_company(company)
            .sudo()
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.partner_id.id,
                    "company_id": company.id,
                    "invoice_date": invoice_date,
                    "invoice_date_due": invoice_date
                    + relativedelta(days=company.isp_recurring_due_days),
                    "invoice_origin": self.name,
                    "isp_subscription_id": self.id,
                    "isp_period_start": start,
                    "isp_period_end": end,
                    "invoice_line_ids": [
                        fields.Command.create(
                            {
                                "product_id": bundle.id,
                                "name": label,
                                "quantity": 1,
                                "price_unit": company.currency_id.round(bundle.lst_price * ratio),
                            }
                        )
                    ],
                }
            )
        )
        move.action_post()
        self.message_post(
            body=self.env._(
                "Invoice %(invoice)s issued for %(start)s to %(end)s, due %(due)s.",
                invoice=move.name,
                start=format_date(self.env, start),
                end=format_date(self.env, end),
                due=format_date(self.env, move.invoice_date_due),
            )
        )
        return move.sudo(False)

    @api.model
    def _today(self):
        """Today in the company's time zone (billing days are the operator's days)."""
        return self._local_date(fields.Datetime.now())

    def _overdue_invoices(self, grace_days=None):
        """Posted period invoices of these subscriptions (all, on an empty recordset) still
        unpaid ``grace_days`` after their due date (each company's grace period when None),
        counted in each company's days."""
        domain = (
            Domain("isp_subscription_id", "!=", False)
            & Domain("state", "=", "posted")
            & Domain("move_type", "=", "out_invoice")
            & Domain("payment_state", "in", ("not_paid", "partial"))
            # a day of margin for the time zones east of UTC; exact per company below
            & Domain("invoice_date_due", "<=", fields.Date.today() + relativedelta(days=1))
        )
        if self:
            domain &= Domain("isp_subscription_id", "in", self.ids)
        moves = self.env["account.move"].sudo().search(domain)
        todays = {company: self.with_company(company)._today() for company in moves.company_id}

        def overdue(move):
            grace = move.company_id.isp_recurring_grace_days if grace_days is None else grace_days
            return move.invoice_date_due + relativedelta(days=grace) < todays[move.company_id]

        return moves.filtered(overdue)

    @api.model
    def _cron_isp_recurring_billing(self, batch_size=200):
        """Issue the period invoices that are due, then suspend the subscriptions whose
        invoices are unpaid past the grace period; batched, each batch committed."""
        cron = self.env["ir.cron"]
        now = fields.Datetime.now()
        domain = Domain("recurring_next_date", "<=", now.date() + relativedelta(days=1)) & Domain(
            "state", "in", ("active", "suspended")
        )
        done = set()  # billed as far as today, failed, not due yet locally or locked elsewhere
        remaining = self.search_count(domain)
        while True:
            batch = self.search(domain & Domain("id", "not in", list(done)), limit=batch_size)
            if not batch:
                break
            locked = batch.try_lock_for_update()
            done.update((batch - locked).ids)
            for subscription in locked:
                subscription = subscription.with_company(subscription.company_id)
                today = subscription._today()
                if subscription.recurring_next_date > today:
                    done.add(subscription.id)
                    continue
                try:
                    with self.env.cr.savepoint():
                        subscription._invoice_period(today)
                except UserError as error:
                    done.add(subscription.id)
                    _logger.warning(
                        "ISP billing: subscription %s not invoiced: %s", subscription.name, error
                    )
            remaining = max(remaining - len(batch), 0)
            if not cron._commit_progress(len(locked), remaining=remaining):
                return False
        return self._suspend_overdue()

    @api.model
    def _suspend_overdue(self, batch_size=500):
        """Suspend active monthly subscriptions with an invoice unpaid past the grace period
        (the state hooks disable the router user and send the SMS)."""
        cron = self.env["ir.cron"]
        overdue = self.browse()._overdue_invoices()
        subscriptions = overdue.isp_subscription_id.filtered(lambda s: s.state == "active")
        for batch in split_every(batch_size, subscriptions.ids, self.browse):
            batch.write({"state": "suspended", "recurring_suspended": True})
            for subscription in batch:
                invoices = overdue.filtered(lambda m, s=subscription: m.isp_subscription_id == s)
                subscription.message_post(
                    body=self.env._(
                        "Suspended: invoice %(invoices)s unpaid past the grace period.",
                        invoices=", ".join(invoices.mapped("name")),
                    )
                )
            if not cron._commit_progress(len(batch)):
                return False
        return True

    def _reconnect_paid(self):
        """Resume the suspended ones of these subscriptions that owe nothing overdue any more
        (called when one of their invoices is paid, online or by staff)."""
        suspended = self.filtered(lambda s: s.state == "suspended" and s.recurring_suspended)
        if not suspended:
            return
        still_overdue = suspended._overdue_invoices().isp_subscription_id
        to_resume = suspended - still_overdue
        if to_resume:
            to_resume.recurring_suspended = False
            to_resume.action_resume()
            to_resume.message_post(body=self.env._("Reconnected: the overdue invoices are paid."))
