"""Payment reminders for unpaid PPPoE invoices (dunning): on the days the company set relative
to an invoice's due date, an M-Pesa prompt (STK push) for the amount still due and an SMS
naming the Paybill and the customer's account number, until the invoice is paid. One row per
invoice and reminder day, claimed before anything is sent: each reminder goes out once."""

import logging
from datetime import timedelta

import psycopg2
import pytz
from psycopg2 import errors as pg_errors

from odoo import Command, api, fields, models
from odoo.exceptions import ConcurrencyError, UserError
from odoo.fields import Domain
from odoo.tools import SQL, split_every

_logger = logging.getLogger(__name__)

# Reminders go out between these local hours (company time zone): the hourly cron sends
# nothing at night. An STK prompt is answered on the phone within about a minute or it
# expires, so one sent while the customer sleeps is lost and only wakes them up; 08:00-20:00
# is when people pay bills and their phones are at hand.
DUNNING_HOURS = (8, 20)
# a reminder whose day was missed (Odoo down all day) is still sent this many days late
DUNNING_CATCH_UP_DAYS = 1
# a claimed reminder not finished after this long belongs to a run that died
DUNNING_INTERRUPTED = timedelta(hours=1)
# the states of a payment of the invoice already under way: no second prompt
PUSH_PENDING_STATES = ("pending", "authorized")
PUSH_METHOD_CODES = ("mpesa", "mobile_money")


class IspDunningStep(models.Model):
    _name = "isp.dunning.step"
    _description = "ISP Payment Reminder"
    _order = "id desc"
    _rec_name = "move_id"

    move_id = fields.Many2one(
        "account.move", string="Invoice", required=True, readonly=True, ondelete="cascade"
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    subscription_id = fields.Many2one(related="move_id.isp_subscription_id")
    partner_id = fields.Many2one(related="move_id.partner_id", string="Customer")
    day = fields.Integer(
        string="Days from Due Date",
        required=True,
        readonly=True,
        help="Days after the due date (negative: before).",
    )
    date = fields.Date(required=True, readonly=True, help="The company's day it was due on.")
    state = fields.Selection(
        [
            ("claimed", "In Progress"),
            ("sent", "Sent"),
            ("paid", "Paid Already"),
            ("skipped", "Skipped"),
            ("failed", "Failed"),
        ],
        required=True,
        readonly=True,
        default="claimed",
    )
    push_state = fields.Selection(
        [
            ("none", "No Prompt"),
            ("sent", "Prompt Sent"),
            ("pending", "Payment Already Under Way"),
            ("failed", "Prompt Failed"),
        ],
        string="M-Pesa Prompt",
        required=True,
        readonly=True,
        default="none",
    )
    transaction_id = fields.Many2one("payment.transaction", readonly=True, ondelete="set null")
    amount = fields.Monetary(string="Amount Due", readonly=True)
    currency_id = fields.Many2one(related="move_id.currency_id")
    sms_queued = fields.Boolean(string="SMS Queued", readonly=True)
    note = fields.Text(string="What Happened", readonly=True)

    _once_per_day = models.Constraint(
        "UNIQUE(move_id, day)", "This reminder was already sent for this invoice."
    )

    # ------------------------------------------------------------------ cron

    @api.model
    def _cron_isp_dunning(self, batch_size=50, now=None):
        """Send the reminders due ``now`` (naive UTC; the current time by default), for every
        company that has them on: claimed in batches (committed before anything is sent: a
        second or concurrent run skips them, even when this one dies after sending), then
        sent one by one, each batch committed."""
        now = now or fields.Datetime.now()
        cron = self.env["ir.cron"]
        self._isp_close_interrupted(now)
        todo = []
        for company in self.env["res.company"].sudo().search([("isp_dunning_enabled", "=", True)]):
            todo += self._isp_due_steps(company, now)
        remaining = len(todo)
        for batch in split_every(batch_size, todo):
            steps = self._isp_claim_committed(batch)
            remaining -= len(batch)
            for step in steps:
                step._isp_run()
            if not cron._commit_progress(len(batch), remaining=remaining):
                return False
        return True

    @api.model
    def _isp_local_now(self, company, now):
        tz = pytz.timezone(company._isp_tz_name())
        return pytz.utc.localize(now).astimezone(tz)

    @api.model
    def _isp_due_steps(self, company, now):
        """[(invoice id, day, local date)] of the company's reminders due at ``now`` (naive
        UTC) and not sent yet: for each posted, unpaid PPPoE invoice, the latest reminder day
        reached (due date + day <= the company's today), at most a day late. None outside
        the sending hours."""
        local = self._isp_local_now(company, now)
        days = company._isp_dunning_day_list()
        if not days or not DUNNING_HOURS[0] <= local.hour < DUNNING_HOURS[1]:
            return []
        today = local.date()
        moves = (
            self.env["account.move"]
            .sudo()
            .search(
                Domain("company_id", "=", company.id)
                & Domain("move_type", "=", "out_invoice")
                & Domain("state", "=", "posted")
                & Domain("payment_state", "in", ("not_paid", "partial"))
                & Domain("isp_subscription_id.service_type", "=", "pppoe")
                & Domain(
                    "invoice_date_due",
                    ">=",
                    today - timedelta(days=days[-1] + DUNNING_CATCH_UP_DAYS),
                )
                & Domain("invoice_date_due", "<=", today - timedelta(days=days[0])),
                order="invoice_date_due, id",
            )
        )
        if not moves:
            return []
        done = {
            (step.move_id.id, step.day)
            for step in self.sudo().search([("move_id", "in", moves.ids)])
        }
        rows = []
        for move in moves:
            reached = [d for d in days if move.invoice_date_due + timedelta(days=d) <= today]
            if not reached:
                continue
            day = reached[-1]
            late = (today - (move.invoice_date_due + timedelta(days=day))).days
            if late <= DUNNING_CATCH_UP_DAYS and (move.id, day) not in done:
                rows.append((move.id, day, today))
        return rows

    @api.model
    def _isp_claim_committed(self, rows, attempts=3):
        """Claim these reminders and commit the claims (nothing is sent twice, whatever
        happens next). A concurrent run that claimed some of them first and committed after
        this transaction began makes the insert fail (repeatable read): committed here, the
        claim is tried again in a new snapshot, where that run's claims are seen and
        skipped."""
        cron = self.env["ir.cron"]
        for attempt in range(attempts):
            try:
                with self.env.cr.savepoint(flush=False):
                    steps = self._isp_claim(rows)
            except pg_errors.SerializationFailure:
                if attempt == attempts - 1:
                    raise
                _logger.info("Payment reminders: claimed by a concurrent run; claiming again")
                cron._commit_progress(0)
                continue
            cron._commit_progress(0)
            return steps
        return self.browse()

    @api.model
    def _isp_claim(self, rows):
        """Insert the reminder rows; returns those this transaction claimed (the others were
        taken by a concurrent run, which inserted them first)."""
        if not rows:
            return self.browse()
        self.env["account.move"].flush_model(["company_id"])
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO isp_dunning_step
                       (move_id, day, date, company_id, state, push_state, sms_queued,
                        create_uid, create_date, write_uid, write_date)
                SELECT r.move_id, r.day, r.date, m.company_id, 'claimed', 'none', FALSE,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM unnest(%(moves)s::int[], %(days)s::int[], %(dates)s::date[])
                       AS r(move_id, day, date)
                  JOIN account_move m ON m.id = r.move_id
                ON CONFLICT (move_id, day) DO NOTHING
                RETURNING id
                """,
                uid=self.env.uid,
                now=fields.Datetime.now(),
                moves=[row[0] for row in rows],
                days=[row[1] for row in rows],
                dates=[row[2] for row in rows],
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        self.env["account.move"].invalidate_model(["isp_dunning_step_ids"])
        return self.browse(sorted(ids))

    @api.model
    def _isp_close_interrupted(self, now):
        """Reminders claimed by a run that died before finishing them: failed, not sent again
        (their prompt may have gone out)."""
        stale = self.sudo().search(
            [("state", "=", "claimed"), ("create_date", "<", now - DUNNING_INTERRUPTED)]
        )
        if stale:
            stale.write(
                {
                    "state": "failed",
                    "note": self.env._(
                        "Interrupted before it finished; not sent again (its M-Pesa prompt "
                        "may have gone out)."
                    ),
                }
            )

    # ------------------------------------------------------------------ one reminder

    def _isp_run(self):
        """Send this claimed reminder: nothing when its invoice was paid meanwhile (read
        again now), else the M-Pesa prompt (when set and possible) and the SMS, and a note in
        the invoice's and the subscription's chatter saying what went out."""
        self.ensure_one()
        step = self.sudo()
        move = step.move_id
        move.invalidate_recordset(["payment_state", "amount_residual", "state"])
        if move.state != "posted" or move.payment_state not in ("not_paid", "partial"):
            step.write(
                {"state": "paid", "note": self.env._("Paid before the reminder: nothing sent.")}
            )
            return
        partner = move.partner_id
        phone = partner.phone_sanitized or partner.phone
        step.amount = move.amount_residual
        if not phone:
            step._isp_finish(
                "skipped",
                [self.env._("not sent: the customer has no phone number")],
            )
            return
        notes = []
        if move.company_id.isp_dunning_push:
            push_state, tx, push_note = step._isp_push(move, phone)
            step.write({"push_state": push_state, "transaction_id": tx.id})
            notes.append(push_note)
        try:
            with self.env.cr.savepoint():
                message = move._isp_dunning_notify(step)
        except (psycopg2.OperationalError, ConcurrencyError):
            raise
        except Exception:  # noqa: BLE001 - the prompt went out: the reminder is recorded
            _logger.exception("Payment reminder SMS for %s failed", move.name)
            message = False
        step.sms_queued = bool(message)
        notes.append(
            self.env._("reminder SMS queued for %(phone)s", phone=phone)
            if message
            else self.env._("no reminder SMS (no SMS sending is set up)")
        )
        if step.sms_queued or step.push_state == "sent":
            state = "sent"
        else:
            state = "skipped" if step.push_state == "pending" else "failed"
        step._isp_finish(state, notes)

    def _isp_finish(self, state, notes):
        """Record how this reminder ended and say it in the chatter of the invoice and of its
        subscription."""
        self.ensure_one()
        body = self.env._(
            "Payment reminder (%(when)s) for %(invoice)s, %(amount)s due: %(what)s.",
            when=self._isp_day_label(),
            invoice=self.move_id.name,
            amount=self.currency_id.format(self.amount),
            what="; ".join(notes),
        )
        self.write({"state": state, "note": body})
        self.move_id._message_log(body=body)
        if self.subscription_id:
            self.subscription_id._message_log(body=body)

    def _isp_day_label(self):
        self.ensure_one()
        if self.day == 0:
            return self.env._("due date")
        if self.day > 0:
            return self.env._("%(days)s days after the due date", days=self.day)
        return self.env._("%(days)s days before the due date", days=-self.day)

    # ------------------------------------------------------------------ the M-Pesa prompt

    @api.model
    def _isp_push_providers(self, company, currency=None):
        """The company's enabled providers that can push a payment request to a phone
        (payment.provider._isp_can_push), in ``currency`` when given, by sequence."""
        providers = (
            self.env["payment.provider"]
            .sudo()
            .search(
                [("company_id", "=", company.id), ("state", "in", ("enabled", "test"))],
                order="sequence, id",
            )
        )
        return providers.filtered(
            lambda p: p._isp_can_push()
            and (
                not currency or not p.available_currency_ids or currency in p.available_currency_ids
            )
        )

    def _isp_push(self, move, phone):
        """Push a payment request for the invoice's amount due to ``phone``: one transaction
        linked to the invoice (its payment reconciles the invoice). Returns (push_state,
        transaction, what to say)."""
        self.ensure_one()
        Tx = self.env["payment.transaction"].sudo()
        under_way = move.sudo().transaction_ids.filtered(lambda t: t.state in PUSH_PENDING_STATES)
        if under_way:
            return (
                "pending",
                under_way[:1],
                self.env._(
                    "no M-Pesa prompt: payment %(reference)s of this invoice is already under way",
                    reference=under_way[:1].reference,
                ),
            )
        provider = self._isp_push_providers(move.company_id, move.currency_id)[:1]
        if not provider:
            return (
                "none",
                Tx,
                self.env._("no M-Pesa prompt: no enabled payment provider can send one"),
            )
        methods = provider.payment_method_ids.filtered("active")
        method = methods.filtered(lambda m: m.code in PUSH_METHOD_CODES)[:1] or methods[:1]
        values = {
            "provider_id": provider.id,
            "payment_method_id": method.id,
            "amount": move.amount_residual,
            "currency_id": move.currency_id.id,
            "partner_id": move.partner_id.id,
            "operation": "online_direct",
            "invoice_ids": [Command.set(move.ids)],
        }
        try:
            with self.env.cr.savepoint():
                tx = Tx.create(
                    {
                        **values,
                        "reference": Tx._compute_reference(
                            provider.code, invoice_ids=values["invoice_ids"]
                        ),
                    }
                )
                tx._isp_send_push(phone)
        except UserError as error:
            # refused before anything was sent (a number or an amount the provider does not
            # take, its rate limit): no transaction kept
            return (
                "failed",
                Tx,
                self.env._("the M-Pesa prompt was not sent: %(reason)s", reason=error.args[0]),
            )
        if tx.state == "pending":
            return (
                "sent",
                tx,
                self.env._(
                    "M-Pesa prompt for %(amount)s sent to %(phone)s (%(reference)s)",
                    amount=tx.currency_id.format(tx.amount),
                    phone=phone,
                    reference=tx.reference,
                ),
            )
        return (
            "failed",
            tx,
            self.env._(
                "the M-Pesa prompt failed (%(reference)s): %(reason)s",
                reference=tx.reference,
                reason=tx.state_message or tx.state,
            ),
        )
