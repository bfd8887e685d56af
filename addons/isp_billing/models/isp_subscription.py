import logging
import secrets
import string
from datetime import datetime, time

import pytz
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain
from odoo.tools import split_every
from odoo.tools.misc import format_date

_logger = logging.getLogger(__name__)

STATES = [
    ("draft", "Draft"),
    ("active", "Active"),
    ("expired", "Expired"),
    ("suspended", "Suspended"),
    ("cancelled", "Cancelled"),
]
# state -> states it may move to
TRANSITIONS = {
    "draft": {"active", "cancelled"},
    "active": {"expired", "suspended", "cancelled"},
    "suspended": {"active", "expired", "cancelled"},
    "expired": {"active", "cancelled"},
    "cancelled": set(),
}
# Unambiguous characters for passwords customers may have to type.
PASSWORD_ALPHABET = "".join(c for c in string.ascii_lowercase + string.digits if c not in "0o1il")


class IspSubscription(models.Model):
    _name = "isp.subscription"
    _description = "ISP Subscription"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_expiry desc, id desc"
    _check_company_auto = True

    name = fields.Char(
        string="Reference", required=True, readonly=True, copy=False, default="/", index="trigram"
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
        domain="[('is_isp_customer', '=', True)]",
    )
    phone = fields.Char(related="partner_id.phone")
    bundle_id = fields.Many2one(
        "product.product",
        required=True,
        tracking=True,
        check_company=True,
        domain="[('is_isp_bundle', '=', True)]",
    )
    service_type = fields.Selection(
        [("hotspot", "Hotspot"), ("pppoe", "PPPoE")],
        required=True,
        compute="_compute_service_type",
        store=True,
        readonly=False,
        precompute=True,
    )
    state = fields.Selection(
        STATES, default="draft", required=True, readonly=True, tracking=True, index=True, copy=False
    )
    date_start = fields.Datetime(string="Start", tracking=True, copy=False)
    date_expiry = fields.Datetime(string="Expiry", tracking=True, copy=False)
    data_cap_mb = fields.Integer(string="Data Cap (MB)", help="0 means no data cap.")
    data_used_mb = fields.Float(string="Data Used (MB)", digits=(16, 2), copy=False)
    data_left_mb = fields.Float(
        string="Data Left (MB)", compute="_compute_data_left_mb", digits=(16, 2)
    )
    login = fields.Char(copy=False, tracking=True, help="Hotspot user name or PPPoE secret name.")
    password = fields.Char(
        copy=False,
        groups="isp_billing.group_isp_manager",
        help="Hotspot or PPPoE password; visible to ISP managers only.",
    )
    purchase_ids = fields.One2many("isp.purchase", "subscription_id", string="Purchases")
    # compute_sudo: ISP users without invoicing rights still see their subscriptions' counts
    purchase_count = fields.Integer(compute="_compute_purchase_stats", compute_sudo=True)
    source = fields.Selection(
        [("payment", "Payment"), ("voucher", "Voucher"), ("manual", "Manual")],
        compute="_compute_source",
        store=True,
        help="How the latest period was obtained.",
    )
    source_reference = fields.Char(compute="_compute_source", store=True)
    invoice_ids = fields.Many2many(
        "account.move", compute="_compute_purchase_stats", compute_sudo=True, string="Invoices"
    )
    invoice_count = fields.Integer(compute="_compute_purchase_stats", compute_sudo=True)
    time_left = fields.Char(compute="_compute_time_left")

    _name_unique = models.Constraint(
        "UNIQUE(company_id, name)", "A subscription reference must be unique per company."
    )
    _login_unique = models.UniqueIndex(
        "(company_id, service_type, login) WHERE login IS NOT NULL",
        "This login is already used by another subscription of the same service.",
    )
    # The expiry sweep reads only active rows by expiry: its cost follows what expires.
    _active_expiry_idx = models.Index("(date_expiry) WHERE state = 'active'")
    _partner_service_idx = models.Index("(partner_id, service_type, state)")
    _dates_coherent = models.Constraint(
        "CHECK(date_expiry IS NULL OR date_start IS NULL OR date_expiry >= date_start)",
        "A subscription cannot expire before it starts.",
    )
    _data_not_negative = models.Constraint(
        "CHECK(data_cap_mb >= 0 AND data_used_mb >= 0)",
        "Data cap and data used cannot be negative.",
    )

    # ------------------------------------------------------------------ computes

    @api.depends("bundle_id")
    def _compute_service_type(self):
        for subscription in self:
            if subscription.bundle_id:
                subscription.service_type = subscription.bundle_id.isp_service_type
            elif not subscription.service_type:
                subscription.service_type = "hotspot"

    @api.depends("data_cap_mb", "data_used_mb")
    def _compute_data_left_mb(self):
        for subscription in self:
            subscription.data_left_mb = (
                max(subscription.data_cap_mb - subscription.data_used_mb, 0.0)
                if subscription.data_cap_mb
                else 0.0
            )

    @api.depends("purchase_ids.source", "purchase_ids.reference")
    def _compute_source(self):
        # the latest purchase of each subscription in one grouped query: a long-standing
        # customer's whole purchase history is not read at every payment
        latest_ids = dict(
            self.env["isp.purchase"]
            .sudo()
            ._read_group(
                [("subscription_id", "in", self._origin.ids)], ["subscription_id"], ["id:max"]
            )
        )
        for subscription in self:
            latest = self.env["isp.purchase"].sudo().browse(latest_ids.get(subscription._origin))
            subscription.source = latest.source
            subscription.source_reference = latest.reference

    def _compute_purchase_stats(self):
        for subscription in self:
            subscription.purchase_count = len(subscription.purchase_ids)
            subscription.invoice_ids = subscription.purchase_ids.invoice_id
            subscription.invoice_count = len(subscription.invoice_ids)

    def _compute_time_left(self):
        now = fields.Datetime.now()
        for subscription in self:
            if subscription.state != "active" or not subscription.date_expiry:
                subscription.time_left = False
                continue
            seconds = max(int((subscription.date_expiry - now).total_seconds()), 0)
            days, rest = divmod(seconds, 86400)
            hours, rest = divmod(rest, 3600)
            minutes = rest // 60
            if days:
                subscription.time_left = self.env._("%(d)s d %(h)s h", d=days, h=hours)
            elif hours:
                subscription.time_left = self.env._("%(h)s h %(m)s min", h=hours, m=minutes)
            else:
                subscription.time_left = self.env._("%(m)s min", m=minutes)

    # ------------------------------------------------------------------ CRUD

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
                vals["name"] = (
                    self.env["ir.sequence"].with_company(company).next_by_code("isp.subscription")
                    or "/"
                )
            if vals.get("state", "draft") != "draft":
                raise UserError(
                    self.env._("A subscription starts as a draft; activate it afterwards.")
                )
        subscriptions = super().create(vals_list)
        subscriptions.filtered(lambda s: not s.login)._isp_generate_credentials()
        return subscriptions

    def write(self, vals):
        if "state" not in vals:
            return super().write(vals)
        new_state = vals["state"]
        previous = {sub.id: sub.state for sub in self}
        for subscription in self:
            if subscription.state != new_state and new_state not in TRANSITIONS[subscription.state]:
                raise UserError(
                    self.env._(
                        "Subscription %(name)s cannot go from %(old)s to %(new)s.",
                        name=subscription.name,
                        old=dict(STATES)[subscription.state],
                        new=dict(STATES)[new_state],
                    )
                )
        result = super().write(vals)
        changed = self.filtered(lambda s: previous[s.id] != s.state)
        if changed:
            changed._isp_state_changed({sid: previous[sid] for sid in changed.ids})
        return result

    def _isp_generate_credentials(self):
        """Give each subscription a login (the phone's digits, unique per service) and a random
        password. Users type these into routers, so they stay short and unambiguous."""
        taken = {
            (row.company_id.id, row.service_type, row.login)
            for row in self.search(
                [
                    ("login", "!=", False),
                    ("partner_id", "in", self.partner_id.ids),
                ]
            )
        }
        for subscription in self:
            base = "".join(ch for ch in (subscription.partner_id.phone or "") if ch.isdigit())
            base = base or subscription.name.replace("/", "").lower()
            login, suffix = base, 1
            while (subscription.company_id.id, subscription.service_type, login) in taken:
                suffix += 1
                login = f"{base}-{suffix}"
            taken.add((subscription.company_id.id, subscription.service_type, login))
            subscription.sudo().write(
                {
                    "login": login,
                    "password": "".join(secrets.choice(PASSWORD_ALPHABET) for _i in range(8)),
                }
            )

    # ------------------------------------------------------------------ state machine

    def action_activate(self):
        now = fields.Datetime.now()
        for subscription in self:
            if subscription.state not in ("draft", "expired"):
                raise UserError(self.env._("Only draft or expired subscriptions can be activated."))
            subscription.write(
                {
                    "state": "active",
                    "date_start": now,
                    "date_expiry": subscription.bundle_id._isp_add_duration(now),
                    "data_cap_mb": subscription.bundle_id.isp_data_cap_mb,
                    "data_used_mb": 0.0,
                }
            )
        return True

    def action_suspend(self):
        if any(s.state != "active" for s in self):
            raise UserError(self.env._("Only active subscriptions can be suspended."))
        self.write({"state": "suspended"})
        return True

    def action_resume(self):
        if any(s.state != "suspended" for s in self):
            raise UserError(self.env._("Only suspended subscriptions can be resumed."))
        now = fields.Datetime.now()
        running = self.filtered(lambda s: s.date_expiry and s.date_expiry > now)
        running.write({"state": "active"})
        (self - running).write({"state": "expired"})
        return True

    def action_cancel(self):
        if any(s.state == "cancelled" for s in self):
            raise UserError(self.env._("This subscription is already cancelled."))
        self.write({"state": "cancelled"})
        return True

    def _isp_state_changed(self, previous_states):
        """Hook called after every state change, once per write, with ``self`` the changed
        subscriptions and ``previous_states`` their states before ({id: state}).

        isp_mikrotik (router sync) and isp_sms (notifications) extend it. Overrides must stay
        batch-aware and must not fail the state change: queue work, don't do it inline.
        """
        _logger.debug("ISP subscriptions %s changed state (from %s)", self.ids, previous_states)
        self._isp_recurring_state_changed(previous_states)

    # ------------------------------------------------------------------ fulfilment

    @api.model
    def _isp_fulfil(self, partner, bundle, source, reference, **options):
        """Activate or extend ``partner``'s access for ``bundle``, exactly once per
        (``source``, ``reference``). Every channel calls this: payment, voucher, manual.

        Options (keyword only): ``amount``, ``journal``, ``payment``, ``invoice``, ``date``.

        :param partner: the ISP customer (res.partner)
        :param bundle: the bundle (product.product or product.template)
        :param source: 'payment', 'voucher' or 'manual'
        :param reference: the unique reference of the source (transaction reference,
            voucher code, manual sequence number)
        :param amount: the amount actually paid; with ``invoice``, it must equal the invoice
            total; without, it is recorded on the purchase
        :param journal: journal to register the invoice's payment in (a paid purchase)
        :param payment: an existing posted account.payment to reconcile the invoice with
        :param invoice: ``True``: issue a posted customer invoice for the bundle now;
            ``False``: no invoice in the fulfilment. A payment transaction fulfils without
            invoice, the amount checked against the invoice to be, and issues the invoice in
            its post-processing (``payment.transaction._isp_fulfil_paid``).
        :param date: the moment access starts counting from (default: now)
        :return: the isp.purchase of this reference (the existing one on a repeated call)
        :raise ConcurrencyError: when a concurrent transaction fulfils the same reference or
            the same customer; Odoo's request/cron retry then sees the committed result.
        """
        return self.env["isp.purchase"]._isp_fulfil(partner, bundle, source, reference, **options)

    def _isp_apply_purchase(self, partner, bundle, start_at):
        """Find the customer's subscription for this service and extend or restart it, or
        create one. Returns (subscription, period start, period end).

        An active subscription is extended by ``bundle``'s duration from its expiry and
        keeps its own bundle when that one is bigger (``_isp_keeps_bundle``): a Daily
        voucher or payment added to a Weekly plan adds a day on the Weekly plan.

        No field tracking nor creation message: the fulfilment logs one note saying what
        was bought and until when (``isp.purchase._isp_fulfil``)."""
        quiet = self.with_context(mail_notrack=True, mail_create_nolog=True)
        subscription = quiet.search(
            [
                ("partner_id", "=", partner.id),
                ("company_id", "=", partner.company_id.id or self.env.company.id),
                ("service_type", "=", bundle.isp_service_type),
                ("state", "in", ("active", "suspended", "expired")),
            ],
            order="date_expiry desc, id desc",
            limit=1,
        )
        if subscription.state == "active" and subscription.date_expiry > start_at:
            start = subscription.date_expiry
            end = bundle._isp_add_duration(start)
            cap = (
                0
                if not (subscription.data_cap_mb and bundle.isp_data_cap_mb)
                else subscription.data_cap_mb + bundle.isp_data_cap_mb
            )
            vals = {"date_expiry": end, "data_cap_mb": cap}
            if not subscription._isp_keeps_bundle(bundle):
                vals["bundle_id"] = bundle.id
            subscription.write(vals)
            return subscription, start, end
        start, end = start_at, bundle._isp_add_duration(start_at)
        vals = {
            "bundle_id": bundle.id,
            "date_start": start,
            "date_expiry": end,
            "data_cap_mb": bundle.isp_data_cap_mb,
            "data_used_mb": 0.0,
        }
        if subscription:
            subscription.write(dict(vals, state="active"))
        else:
            subscription = quiet.create(
                dict(
                    vals,
                    partner_id=partner.id,
                    company_id=partner.company_id.id or self.env.company.id,
                )
            )
            subscription.write({"state": "active"})
        return subscription, start, end

    def _isp_keeps_bundle(self, bundle):
        """Whether this active subscription keeps its bundle when ``bundle``'s period is
        added to it.

        "Bigger" is the longer period (``isp_duration_hours``, a month counting 30 days):
        the current bundle stays when its period is longer than ``bundle``'s, so a shorter
        purchase (anyone may redeem a voucher or pay for a phone number) never turns a
        customer's Weekly plan into a Daily one, with the Daily plan's speed, device limit
        and router profile; it only adds its time. A bundle of the same or a longer period
        replaces the current one (a change of plan, an upgrade)."""
        self.ensure_one()
        current = self.bundle_id
        return bool(current) and current.isp_duration_hours > bundle.isp_duration_hours

    # ------------------------------------------------------------------ crons

    @api.model
    def _cron_expire_subscriptions(self, batch_size=1000):
        """Active subscriptions past expiry → expired, set-based and in committed batches."""
        now = fields.Datetime.now()
        domain = [("state", "=", "active"), ("date_expiry", "<=", now)]
        # monthly-billed subscriptions run while they are billed (unpaid: suspended)
        domain.append(("recurring_next_date", "=", False))
        remaining = self.search_count(domain)
        cron = self.env["ir.cron"]
        while remaining:
            batch = self.search(domain, order="date_expiry, id", limit=batch_size)
            if not batch:
                break
            # One batched chatter note per subscription instead of per-record field tracking
            # (one INSERT per row): the sweep's cost stays in what it does, not in its log.
            batch.with_context(mail_notrack=True).write({"state": "expired"})
            body = self.env._("Access expired.")
            batch._message_log_batch(bodies=dict.fromkeys(batch.ids, body))
            remaining = max(remaining - len(batch), 0)
            if not cron._commit_progress(len(batch), remaining=remaining):
                break
        return True

    # ------------------------------------------------------------------ UI

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", self.invoice_ids.ids)]
        action["context"] = {"create": False}
        return action

    def action_view_purchases(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("isp_billing.isp_purchase_action")
        action["domain"] = [("subscription_id", "=", self.id)]
        return action

    # ------------------------------------------------------------------ recurring billing (PPPoE)
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
            period = subscription._isp_next_period()
            subscription.next_period_date_start = period[0] if period else False
            subscription.next_period_date_end = period[1] if period else False

    def _compute_recurring_overdue(self):
        origin = self._origin
        overdue = (
            origin._isp_overdue_invoices(grace_days=0).isp_subscription_id if origin.ids else origin
        )
        for subscription in self:
            subscription.recurring_overdue = subscription._origin in overdue

    def _isp_next_period(self):
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

    def _isp_next_invoice_date(self):
        """OCA contract's rule: a pre-paid period is invoiced on its first day, a post-paid
        one on the day after its last."""
        self.ensure_one()
        period = self._isp_next_period()
        if not period:
            return False
        if self.recurring_invoicing_type == "pre-paid":
            return period[0]
        return period[1] + relativedelta(days=1)

    def _isp_tz(self):
        company = self.company_id[:1] or self.env.company
        tz_name = company.partner_id.tz
        if not tz_name and company.country_id.code:
            zones = pytz.country_timezones.get(company.country_id.code)
            tz_name = zones[0] if zones else None
        return pytz.timezone(tz_name or "UTC")

    def _isp_local_midnight(self, day):
        """The (naive UTC) moment ``day`` begins in the company's time zone."""
        local = self._isp_tz().localize(datetime.combine(day, time.min))
        return local.astimezone(pytz.utc).replace(tzinfo=None)

    def _isp_local_date(self, moment):
        """The company-local date of a (naive UTC) moment."""
        return pytz.utc.localize(moment).astimezone(self._isp_tz()).date()

    def _isp_recurring_start(self):
        """Start billing subscriptions that (re)start on a monthly bundle: the first period
        begins on the day access starts; purchases already cover their own periods."""
        for subscription in self.filtered(lambda s: s.recurring_invoicing_type):
            start_day = subscription._isp_local_date(
                subscription.date_start or fields.Datetime.now()
            )
            subscription.write({"recurring_date_start": start_day, "last_date_invoiced": False})
            subscription.recurring_next_date = subscription._isp_next_invoice_date()

    def _isp_recurring_state_changed(self, previous_states):
        started = self.filtered(
            lambda s: s.state == "active"
            and previous_states.get(s.id) in ("draft", "expired")
            and s.recurring_invoicing_type
        )
        started._isp_recurring_start()
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
            subscription._isp_invoice_period(subscription._isp_today())
        return True

    def _isp_paid_until(self):
        """The local date up to which purchases (payment, voucher, manual) already paid this
        subscription's access, or None."""
        self.ensure_one()
        ends = [p.date_end for p in self.purchase_ids if p.date_end]
        return self._isp_local_date(max(ends)) if ends else None

    def _isp_invoice_period(self, today):
        """Invoice this subscription's next period, move the billing forward and extend
        access to the end of the period it now covers. Periods already paid by purchases are
        skipped (billing resumes where they end). Returns the invoice (empty when nothing was
        due)."""
        self.ensure_one()
        period = self._isp_next_period()
        paid_until = self._isp_paid_until()
        if period and paid_until and paid_until > period[0]:
            self.last_date_invoiced = paid_until - relativedelta(days=1)
            self.recurring_next_date = self._isp_next_invoice_date()
            if not self.recurring_next_date or self.recurring_next_date > today:
                return self.env["account.move"]
            period = self._isp_next_period()
        if not period:
            self.recurring_next_date = False
            return self.env["account.move"]
        start, end, ratio = period
        invoice_date = min(self.recurring_next_date or today, today)
        move = self._isp_create_period_invoice(start, end, ratio, invoice_date)
        self.last_date_invoiced = end
        self.recurring_next_date = self._isp_next_invoice_date()
        # pre-paid: access runs to the end of the invoiced period; post-paid: the customer
        # goes on using the next period, invoiced when it ends.
        access_until = end
        if self.recurring_invoicing_type == "post-paid":
            following = self._isp_next_period()
            access_until = following[1] if following else end
        until = self._isp_local_midnight(access_until + relativedelta(days=1))
        if not self.date_expiry or until > self.date_expiry:
            self.date_expiry = until
        return move

    def _isp_create_period_invoice(self, start, end, ratio, invoice_date):
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
    def _isp_today(self):
        """Today in the company's time zone (billing days are the operator's days)."""
        return self._isp_local_date(fields.Datetime.now())

    def _isp_overdue_invoices(self, grace_days=None):
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
        todays = {company: self.with_company(company)._isp_today() for company in moves.company_id}

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
                today = subscription._isp_today()
                if subscription.recurring_next_date > today:
                    done.add(subscription.id)
                    continue
                try:
                    with self.env.cr.savepoint():
                        subscription._isp_invoice_period(today)
                except UserError as error:
                    done.add(subscription.id)
                    _logger.warning(
                        "ISP billing: subscription %s not invoiced: %s", subscription.name, error
                    )
            remaining = max(remaining - len(batch), 0)
            if not cron._commit_progress(len(locked), remaining=remaining):
                return False
        return self._isp_suspend_overdue()

    @api.model
    def _isp_suspend_overdue(self, batch_size=500):
        """Suspend active monthly subscriptions with an invoice unpaid past the grace period
        (the state hooks disable the router user and send the SMS)."""
        cron = self.env["ir.cron"]
        overdue = self.browse()._isp_overdue_invoices()
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

    def _isp_reconnect_paid(self):
        """Resume the suspended ones of these subscriptions that owe nothing overdue any more
        (called when one of their invoices is paid, online or by staff)."""
        suspended = self.filtered(lambda s: s.state == "suspended" and s.recurring_suspended)
        if not suspended:
            return
        still_overdue = suspended._isp_overdue_invoices().isp_subscription_id
        to_resume = suspended - still_overdue
        if to_resume:
            to_resume.recurring_suspended = False
            to_resume.action_resume()
            to_resume.message_post(body=self.env._("Reconnected: the overdue invoices are paid."))

    # ------------------------------------------------------------------ customer portal

    def _isp_portal_speed(self):
        """'10 Mbit/s down, 5 Mbit/s up' for the customer, or '' when unlimited."""
        self.ensure_one()
        bundle = self.bundle_id

        def rate(kbps):
            if kbps >= 1024 and kbps % 1024 == 0:
                return self.env._("%(value)s Mbit/s", value=kbps // 1024)
            return self.env._("%(value)s kbit/s", value=kbps)

        parts = []
        if bundle.isp_download_kbps:
            parts.append(self.env._("%(rate)s down", rate=rate(bundle.isp_download_kbps)))
        if bundle.isp_upload_kbps:
            parts.append(self.env._("%(rate)s up", rate=rate(bundle.isp_upload_kbps)))
        return ", ".join(parts)

    def _isp_portal_sessions(self, limit=10):
        """Hook: the customer's recent sessions for the portal, newest first, as dicts with
        ``start``, ``last_seen`` (datetimes), ``data_mb``, ``ip`` and ``online``. isp_billing
        records none; a module that polls the routers (isp_mikrotik) returns them."""
        self.ensure_one()
        return []

    def _isp_portal_invoices(self):
        """The invoices of this subscription: its period invoices and its purchases'."""
        self.ensure_one()
        moves = self.sudo().recurring_invoice_ids | self.sudo().purchase_ids.invoice_id
        return moves.filtered(lambda m: m.state == "posted").sorted(
            lambda m: (m.invoice_date or fields.Date.today(), m.id), reverse=True
        )

    def _isp_portal_plan_options(self):
        """Bundles the customer may ask to move to: the company's other bundles of the same
        service."""
        self.ensure_one()
        return (
            self.env["product.product"]
            .sudo()
            .search(
                [
                    ("is_isp_bundle", "=", True),
                    ("sale_ok", "=", True),
                    ("isp_service_type", "=", self.service_type),
                    ("company_id", "in", (self.company_id.id, False)),
                    ("id", "!=", self.bundle_id.id),
                ],
                order="list_price, id",
            )
        )

    def _isp_request_plan_change(self, bundle, note=""):
        """Record a customer's change-of-plan request for staff: a chatter message and a to-do
        activity. A repeated request for the same bundle while one is open adds nothing."""
        self.ensure_one()
        if bundle not in self._isp_portal_plan_options():
            raise UserError(self.env._("Choose one of the plans offered."))
        if self.state == "cancelled":
            raise UserError(self.env._("This subscription is cancelled."))
        summary = self.env._("Plan change: %(bundle)s", bundle=bundle.display_name)
        subscription = self.sudo()
        todo = self.env.ref("mail.mail_activity_data_todo")
        if subscription.activity_ids.filtered(
            lambda a: a.activity_type_id == todo and a.summary == summary
        ):
            return False
        note = (note or "").strip()[:500]
        subscription.message_post(
            body=self.env._(
                "%(customer)s asks to move from %(old)s to %(new)s.%(note)s",
                customer=self.partner_id.display_name,
                old=self.bundle_id.display_name,
                new=bundle.display_name,
                note=self.env._(" Note: %(note)s", note=note) if note else "",
            ),
            author_id=self.partner_id.id,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        subscription.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=summary,
            note=note,
            user_id=self._isp_staff_user().id,
        )
        return True

    def _isp_staff_user(self):
        """Who gets customers' requests: the customer's salesperson, else an ISP manager of
        the company."""
        self.ensure_one()
        salesperson = self.partner_id.user_id or self.partner_id.commercial_partner_id.user_id
        if salesperson and not salesperson.share:
            return salesperson
        managers = self.env.ref("isp_billing.group_isp_manager").sudo().all_user_ids
        managers = managers.filtered(
            lambda u: not u.share and u.active and self.company_id in u.company_ids
        )
        return managers.sorted("id")[:1] or self.env.ref("base.user_admin")
