"""An operator company's platform subscription: periods, invoices issued ahead, reminders,
grace and suspension, restored when paid."""

import logging
from datetime import datetime

import pytz
from dateutil.relativedelta import relativedelta
from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain
from odoo.tools.misc import format_date

_logger = logging.getLogger(__name__)

STATES = [
    ("active", "Active"),
    ("grace", "Grace"),
    ("suspended", "Suspended"),
    ("cancelled", "Cancelled"),
]
# the operator's online sales are paused in these states (res.company._isp_sale_refusal)
PAUSED_STATES = ("suspended", "cancelled")
PLATFORM_GROUP = "isp_platform.group_isp_platform_manager"


class IspPlatformSubscription(models.Model):
    _name = "isp.platform.subscription"
    _description = "Platform Subscription"
    _inherit = ["mail.thread"]
    _order = "id desc"

    name = fields.Char(compute="_compute_name", store=True)
    operator_company_id = fields.Many2one(
        "res.company",
        string="Operator",
        required=True,
        index=True,
        ondelete="restrict",
        tracking=True,
        help="The operator company this subscription is for.",
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Invoiced Partner",
        required=True,
        tracking=True,
        help="The operator as the platform company's customer: its invoices are addressed to "
        "it and its reminders go to its email.",
    )
    plan_id = fields.Many2one("isp.platform.plan", required=True, tracking=True)
    company_id = fields.Many2one(
        "res.company",
        string="Platform Company",
        required=True,
        index=True,
        help="The platform company that invoices this subscription (the plan's).",
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    state = fields.Selection(STATES, required=True, default="active", tracking=True, index=True)
    state_date = fields.Datetime(
        string="State Since", readonly=True, help="When the state last changed (churn counts it)."
    )
    date_start = fields.Date(string="Start", required=True, default=fields.Date.context_today)
    period_start = fields.Date(string="Current Period Start", readonly=True)
    period_end = fields.Date(string="Current Period End", readonly=True)
    next_invoice_date = fields.Date(
        readonly=True,
        index="btree_not_null",
        help="When the next period's invoice is issued (its start minus the plan's "
        "invoice-ahead days); empty once cancelled.",
    )
    invoice_ids = fields.One2many(
        "account.move", "isp_platform_subscription_id", string="Invoices", readonly=True
    )
    invoice_count = fields.Integer(compute="_compute_invoice_figures")
    amount_due = fields.Monetary(compute="_compute_invoice_figures")
    pay_by_date = fields.Date(
        compute="_compute_invoice_figures",
        help="The last day to pay the overdue invoices before new sales are paused.",
    )
    monthly_amount = fields.Monetary(related="plan_id.monthly_price", string="Monthly Amount (MRR)")

    _operator_unique = models.Constraint(
        "UNIQUE(operator_company_id)", "An operator company has one platform subscription."
    )

    @api.depends("operator_company_id.name", "plan_id.name")
    def _compute_name(self):
        for subscription in self:
            subscription.name = (
                f"{subscription.operator_company_id.name or ''} / {subscription.plan_id.name or ''}"
            )

    @api.depends(
        "invoice_ids.state",
        "invoice_ids.payment_state",
        "invoice_ids.amount_residual",
        "invoice_ids.invoice_date_due",
        "plan_id.grace_days",
    )
    def _compute_invoice_figures(self):
        for subscription in self:
            unpaid = subscription._unpaid_invoices()
            subscription.invoice_count = len(subscription.invoice_ids)
            subscription.amount_due = sum(unpaid.mapped("amount_residual"))
            overdue = unpaid.filtered(
                lambda m, s=subscription: m.invoice_date_due and m.invoice_date_due < s._today()
            )
            due = min(overdue.mapped("invoice_date_due")) if overdue else False
            subscription.pay_by_date = (
                due + relativedelta(days=subscription.plan_id.grace_days) if due else False
            )

    # ------------------------------------------------------------------ creation

    @api.model
    def _create_for_operator(self, company, partner, plan):
        """The platform subscription of the operator ``company``: invoiced by the plan's
        platform company to ``partner`` (the operator's partner in the platform company). Its
        first period starts today and is invoiced now (posted, due today). Called by the
        approval of an operator's application; platform owners only."""
        if not (self.env.su or self.env.user.has_group(PLATFORM_GROUP)):
            raise AccessError(self.env._("Only the platform owner creates platform subscriptions."))
        plan.ensure_one()
        company.ensure_one()
        partner.ensure_one()
        if partner.company_id and partner.company_id != plan.company_id:
            raise UserError(
                self.env._(
                    "The operator's partner must belong to the platform company %(company)s.",
                    company=plan.company_id.name,
                )
            )
        subscription = self.sudo().create(
            {
                "operator_company_id": company.id,
                "partner_id": partner.id,
                "plan_id": plan.id,
                "company_id": plan.company_id.id,
                "date_start": self.with_company(plan.company_id)._today(),
            }
        )
        subscription._start()
        return subscription.sudo(self.env.su)

    def _start(self):
        """Open the first period and invoice it."""
        for subscription in self:
            start = subscription.date_start
            end = subscription._period_end_from(start)
            subscription.write(
                {
                    "period_start": start,
                    "period_end": end,
                    "next_invoice_date": subscription._invoice_date_for(
                        end + relativedelta(days=1)
                    ),
                    "state_date": fields.Datetime.now(),
                }
            )
            subscription._issue_invoice(start, end, invoice_date=start)
            subscription._sync_company_state()

    # ------------------------------------------------------------------ periods

    def _today(self):
        """Today in the platform company's time zone."""
        company = self.company_id[:1] or self.env.company
        tz = pytz.timezone(company._isp_tz_name())
        return datetime.now(tz).date()

    def _period_end_from(self, start):
        """The last day of the period starting on ``start``. Periods are counted from the
        subscription's start (monthly: the same day each month, clamped to the month's end),
        so short months do not make the periods drift."""
        self.ensure_one()
        anchor = self.date_start
        yearly = self.plan_id.billing_period == "year"
        index = 0
        while True:
            index += 1
            step = relativedelta(years=index) if yearly else relativedelta(months=index)
            following = anchor + step
            if following > start:
                return following - relativedelta(days=1)

    def _invoice_date_for(self, period_start):
        return period_start - relativedelta(days=self.plan_id.invoice_days_before)

    def _issue_invoice(self, start, end, invoice_date=None):
        """Post the invoice of the period ``start``–``end`` (once: the unique index on the
        subscription and period start refuses a second one, which is then skipped). Returns
        the invoice, or an empty recordset when that period already had one."""
        self.ensure_one()
        Move = self.env["account.move"].sudo().with_company(self.company_id)
        existing = Move.search(
            [
                ("isp_platform_subscription_id", "=", self.id),
                ("isp_platform_period_start", "=", start),
            ],
            limit=1,
        )
        if existing:
            return Move.browse()
        plan = self.plan_id
        lang = self.partner_id.lang or self.env.lang
        label = self.env._(
            "%(plan)s: %(operator)s, %(start)s to %(end)s",
            plan=plan.with_context(lang=lang).name,
            operator=self.operator_company_id.name,
            start=format_date(self.env, start, lang_code=lang),
            end=format_date(self.env, end, lang_code=lang),
        )
        invoice_date = invoice_date or self._today()
        try:
            with self.env.cr.savepoint():
                move = Move.create(
                    {
                        "move_type": "out_invoice",
                        "partner_id": self.partner_id.id,
                        "company_id": self.company_id.id,
                        "currency_id": self.company_id.currency_id.id,
                        "invoice_date": invoice_date,
                        "invoice_date_due": max(start, invoice_date),
                        "invoice_origin": self.name,
                        "isp_platform_subscription_id": self.id,
                        "isp_platform_period_start": start,
                        "isp_platform_period_end": end,
                        "invoice_line_ids": [
                            fields.Command.create(
                                {
                                    "product_id": plan.product_id.id,
                                    "name": label,
                                    "quantity": 1,
                                    "price_unit": plan.price,
                                }
                            )
                        ],
                    }
                )
                move.action_post()
        except pg_errors.UniqueViolation:
            # a concurrent run invoiced this period first
            return Move.browse()
        self.message_post(
            body=self.env._(
                "Invoice %(invoice)s issued for %(start)s to %(end)s, due %(due)s.",
                invoice=move.name,
                start=format_date(self.env, start),
                end=format_date(self.env, end),
                due=format_date(self.env, move.invoice_date_due),
            )
        )
        move._isp_platform_send("invoice")
        return move

    def _advance(self, today):
        """Move the current period forward to the one holding ``today`` (invoicing any
        period that has none yet), then issue the next period's invoice when its date came."""
        self.ensure_one()
        while self.period_end and self.period_end < today:
            start = self.period_end + relativedelta(days=1)
            end = self._period_end_from(start)
            self._issue_invoice(start, end)
            self.write(
                {
                    "period_start": start,
                    "period_end": end,
                    "next_invoice_date": self._invoice_date_for(end + relativedelta(days=1)),
                }
            )
        if self.next_invoice_date and self.next_invoice_date <= today:
            start = self.period_end + relativedelta(days=1)
            self._issue_invoice(start, self._period_end_from(start))
            # the next one after that: at the following period's renewal
            following = self._period_end_from(start) + relativedelta(days=1)
            self.next_invoice_date = self._invoice_date_for(following)

    # ------------------------------------------------------------------ states

    def _unpaid_invoices(self):
        return self.invoice_ids.filtered(
            lambda m: m.state == "posted"
            and m.move_type == "out_invoice"
            and m.payment_state in ("not_paid", "partial")
        )

    def _expected_state(self, today):
        """active / grace / suspended from the unpaid invoices' due dates (cancelled stays)."""
        self.ensure_one()
        if self.state == "cancelled":
            return "cancelled"
        overdue = self._unpaid_invoices().filtered(
            lambda m: m.invoice_date_due and m.invoice_date_due < today
        )
        if not overdue:
            return "active"
        oldest = min(overdue.mapped("invoice_date_due"))
        if oldest + relativedelta(days=self.plan_id.grace_days) < today:
            return "suspended"
        return "grace"

    def _update_state(self):
        """Set each subscription's state from its invoices, now (payment, cron)."""
        for subscription in self:
            state = subscription._expected_state(subscription._today())
            if state == subscription.state:
                continue
            previous = subscription.state
            subscription.write({"state": state, "state_date": fields.Datetime.now()})
            subscription._state_changed(previous)
        self._sync_company_state()

    def _state_changed(self, previous):
        self.ensure_one()
        if self.state == "suspended":
            self.message_post(
                body=self.env._(
                    "Suspended: an invoice is unpaid past the grace period. The operator's "
                    "new online sales are paused until payment."
                )
            )
            self._unpaid_invoices()[:1]._isp_platform_send("suspended")
        elif self.state == "grace":
            self._unpaid_invoices()[:1]._isp_platform_send("overdue")
        elif self.state == "active" and previous in ("grace", "suspended"):
            self.message_post(body=self.env._("Paid: the subscription is active again."))

    def _sync_company_state(self):
        """Copy the state to the operator company (what the captive page and the banner
        read, without reading this model)."""
        for subscription in self:
            company = subscription.operator_company_id.sudo()
            if company.isp_platform_state != subscription.state:
                company.isp_platform_state = subscription.state

    def write(self, vals):
        result = super().write(vals)
        if "operator_company_id" in vals:
            self._sync_company_state()
        return result

    # ------------------------------------------------------------------ staff actions

    def _check_platform_owner(self):
        if not (self.env.su or self.env.user.has_group(PLATFORM_GROUP)):
            raise AccessError(self.env._("Only the platform owner manages platform subscriptions."))

    def action_cancel(self):
        self._check_platform_owner()
        for subscription in self.filtered(lambda s: s.state != "cancelled"):
            subscription.sudo().write(
                {
                    "state": "cancelled",
                    "state_date": fields.Datetime.now(),
                    "next_invoice_date": False,
                }
            )
        self.sudo()._sync_company_state()
        return True

    def action_reactivate(self):
        """Cancelled → billed again from today (a new first period and invoice)."""
        self._check_platform_owner()
        for subscription in self.filtered(lambda s: s.state == "cancelled").sudo():
            today = subscription._today()
            subscription.write({"state": "active", "date_start": today})
            subscription._start()
            subscription._update_state()
        return True

    def action_refresh_state(self):
        self._check_platform_owner()
        self.sudo()._update_state()
        return True

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("isp_platform_subscription_id", "=", self.id)]
        action["context"] = {"create": False, "default_move_type": "out_invoice"}
        return action

    # ------------------------------------------------------------------ cron

    @api.model
    def _cron_platform_billing(self, batch_size=100):
        """Daily: move periods forward and issue the invoices due (once per period), send the
        reminders due (once per invoice and kind), then set grace / suspended / active from
        the invoices. Batched; each batch committed."""
        cron = self.env["ir.cron"]
        domain = Domain("state", "!=", "cancelled")
        remaining = self.search_count(domain)
        last_id = 0
        while True:
            batch = self.search(domain & Domain("id", ">", last_id), order="id", limit=batch_size)
            if not batch:
                break
            last_id = batch[-1].id
            for subscription in batch.try_lock_for_update():
                subscription = subscription.with_company(subscription.company_id)
                today = subscription._today()
                try:
                    with self.env.cr.savepoint():
                        subscription._advance(today)
                        subscription._send_reminders(today)
                        subscription._update_state()
                except UserError as error:
                    _logger.warning(
                        "Platform billing: subscription %s not processed: %s",
                        subscription.name,
                        error,
                    )
            remaining = max(remaining - len(batch), 0)
            if not cron._commit_progress(len(batch), remaining=remaining):
                return False
        return True

    def _send_reminders(self, today):
        """The renewal reminder: the next period's invoice still unpaid
        ``reminder_days_before`` days before its due date (once per invoice)."""
        self.ensure_one()
        days = self.plan_id.reminder_days_before
        if not days:
            return
        for move in self._unpaid_invoices():
            due = move.invoice_date_due
            if due and due >= today and (due - today).days <= days:
                move._isp_platform_send("reminder")
