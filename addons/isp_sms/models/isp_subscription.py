import logging
from datetime import timedelta

from psycopg2 import errors as pg_errors

from odoo import Command, api, fields, models
from odoo.exceptions import ConcurrencyError
from odoo.tools import SQL, split_every
from odoo.tools.misc import format_datetime

_logger = logging.getLogger(__name__)

TEMPLATE_EXPIRY_WARNING = "isp_sms.sms_template_isp_expiry_warning"
TEMPLATE_EXPIRED = "isp_sms.sms_template_isp_access_expired"
TEMPLATE_SUSPENDED = "isp_sms.sms_template_isp_suspension"
TEMPLATE_CREDENTIALS = {
    "hotspot": "isp_sms.sms_template_isp_credentials_hotspot",
    "pppoe": "isp_sms.sms_template_isp_credentials_pppoe",
}
# concurrency errors must reach Odoo's retry loop instead of being swallowed
RETRYABLE_ERRORS = (
    pg_errors.SerializationFailure,
    pg_errors.LockNotAvailable,
    pg_errors.DeadlockDetected,
    ConcurrencyError,
)


def isp_sms_guard(records, label, method, *args):
    """Run ``method(*args)`` in a savepoint; an error is logged, never raised, so that queueing
    an SMS cannot fail the billing change that fired it (concurrency errors excepted)."""
    # The caller's own pending writes are flushed first, outside the guard: an error in the
    # billing change itself must surface, not be swallowed here with the transaction aborted.
    records.env.flush_all()
    try:
        with records.env.cr.savepoint():
            return method(*args)
    except RETRYABLE_ERRORS:
        raise
    except Exception:
        _logger.exception(
            "ISP SMS: could not queue %s for %s %s", label, records._name, records.ids
        )
        return None


class IspSubscription(models.Model):
    _inherit = "isp.subscription"

    isp_sms_expiry = fields.Char(
        string="Expiry (SMS text)",
        compute="_compute_isp_sms_expiry",
        help="Expiry in the customer's time zone, for SMS templates.",
    )
    isp_sms_reminder_ids = fields.One2many(
        "isp.sms.reminder", "subscription_id", string="SMS Reminders"
    )

    @api.depends("date_expiry", "partner_id.tz", "company_id")
    @api.depends_context("lang")
    def _compute_isp_sms_expiry(self):
        for subscription in self:
            subscription.isp_sms_expiry = subscription._sms_datetime(subscription.date_expiry)

    def _sms_datetime(self, value):
        """``value`` as SMS write it: in the customer's time zone, else the company's."""
        if not value:
            return ""
        tz = self.partner_id.tz or self._tz().zone
        return format_datetime(self.env, value, tz=tz, dt_format="dd/MM/yyyy HH:mm")

    # ------------------------------------------------------------------ hooks

    def _state_changed(self, previous_states):
        """Override of isp_billing's hook to queue the SMS of a state change."""
        result = super()._state_changed(previous_states)
        # isp_no_state_sms: subscriptions taken over from another system (isp_mikrotik's
        # import from a router) are no news to their customers
        if not self.env.context.get("isp_no_state_sms"):
            isp_sms_guard(self, "state change SMS", self._sms_on_state_change, previous_states)
        return result

    def _sms_on_state_change(self, previous_states):
        """Login credentials on the first activation, expiry and suspension notices."""
        self.filtered(
            lambda s: previous_states.get(s.id) == "draft" and s.state == "active"
        )._sms_send_credentials()
        self.filtered(
            lambda s: previous_states.get(s.id) == "active" and s.state == "expired"
        )._sms_post(TEMPLATE_EXPIRED)
        self.filtered(lambda s: s.state == "suspended")._sms_post(TEMPLATE_SUSPENDED)

    # ------------------------------------------------------------------ queueing

    def _sms_post(self, template_xmlid, render_records=None):
        """Queue one SMS per subscription with Odoo's ``_message_sms``: ``template_xmlid``
        rendered on ``render_records`` (aligned with ``self``; the subscriptions by default)
        in the customer's language, posted in the subscription's chatter to the customer
        (delivery status on the notification), sent by sms's queue cron, which the new SMS
        trigger. Billing events come from public callbacks and crons: posted as superuser.
        Returns {subscription id: mail.message}."""
        template = self._sms_template(template_xmlid) if self else None
        if not template:
            return {}
        render_sudo = (render_records if render_records is not None else self).sudo()
        bodies = template._render_field("body", render_sudo.ids, compute_lang=True)
        return {
            subscription.id: subscription._message_sms(
                bodies[record.id], partner_ids=subscription.partner_id.ids, put_in_queue=True
            )
            for subscription, record in zip(self.sudo(), render_sudo, strict=True)
            if subscription.partner_id.phone
        }

    def _sms_template(self, xmlid):
        """The SMS template of ``xmlid`` (as superuser), or an empty recordset (logged)."""
        template = self.env.ref(xmlid, raise_if_not_found=False)
        if not template:
            _logger.warning("ISP SMS: template %s is missing; nothing sent", xmlid)
        return (template or self.env["sms.template"]).sudo()

    def _sms_send_credentials(self):
        """Queue the login and password SMS. The password is readable by ISP managers only,
        so this SMS is not copied into the chatter (which every ISP user reads): it goes to
        the queue directly and the chatter notes that it was queued, with the SMS attached
        to that note as Odoo's SMS notification (``_sms_attach_to_notes``): the note shows
        whether it was then sent, delivered or failed."""
        with_phone = self.sudo().filtered("partner_id.phone")
        for service, subscriptions in with_phone.grouped("service_type").items():
            template = self._sms_template(TEMPLATE_CREDENTIALS[service])
            if not template:
                continue
            bodies = template._render_field("body", subscriptions.ids, compute_lang=True)
            sms = self.env["sms.sms"].sudo()
            sms = sms.create(
                [
                    {
                        "number": sub.partner_id.phone_sanitized or sub.partner_id.phone,
                        "partner_id": sub.partner_id.id,
                        "body": bodies[sub.id],
                        "isp_company_id": sub.company_id.id,
                    }
                    for sub in subscriptions
                ]
            )
            # queued, not sent: the sending is sms's queue cron's, and may fail
            notes = subscriptions._message_log_batch(
                bodies={
                    sub.id: self.env._(
                        "Login credentials SMS queued for %(number)s (its text, with the "
                        "password, is not copied here).",
                        number=sub.partner_id.phone,
                    )
                    for sub in subscriptions
                }
            )
            subscriptions._sms_attach_to_notes(notes, sms)

    def _sms_attach_to_notes(self, notes, sms):
        """Attach each SMS of ``sms`` (aligned with ``self``) to the chatter note of
        ``notes`` (mail.message, one per subscription) that speaks of it, the way sms's
        ``_notify_thread_by_sms`` attaches an SMS to its message: an SMS notification with
        a tracker. The gateway's answers and delivery reports then update the notification
        (queued, sent, delivered, failed and why), which the note shows, without the SMS's
        text in the chatter."""
        note_of = {note.res_id: note for note in notes}
        self.env["mail.notification"].sudo().create(
            [
                {
                    "author_id": note_of[sub.id].author_id.id,
                    "mail_message_id": note_of[sub.id].id,
                    "res_partner_id": one.partner_id.id,
                    "sms_number": one.number,
                    "notification_type": "sms",
                    "sms_id_int": one.id,
                    "sms_tracker_ids": [Command.create({"sms_uuid": one.uuid})],
                    "is_read": True,
                    "notification_status": "ready",
                }
                for sub, one in zip(self, sms, strict=True)
                if sub.id in note_of
            ]
        )

    def _sms_cancel_reminders(self):
        """Cancel reminders not sent yet, queued or waiting for a retry (the customer renewed)."""
        messages = self.sudo().isp_sms_reminder_ids.message_id
        if messages:
            self.env["sms.sms"].sudo().search(
                [
                    ("mail_message_id", "in", messages.ids),
                    "|",
                    ("state", "=", "outgoing"),
                    "&",
                    ("state", "=", "process"),
                    ("isp_retry_at", "!=", False),
                ]
            ).action_set_canceled()

    # ------------------------------------------------------------------ reminders cron

    @api.model
    def _reminder_offsets(self, company):
        """{service: [(kind, offset)]}, offsets ascending."""
        hours = company.isp_reminder_hotspot_hours
        days = company._isp_parse_day_offsets(company.isp_reminder_pppoe_days)
        return {
            "hotspot": [(f"h{hours}", timedelta(hours=hours))] if hours > 0 else [],
            "pppoe": [(f"d{d}", timedelta(days=d)) for d in sorted(days)],
        }

    @api.model
    def _due_reminders(self, company, service, offsets, now):
        """Rows (subscription id, expiry, kind) due now and not yet sent for their period:
        the kind is the nearest offset before expiry already reached. Reads active rows by
        expiry through the partial index on (date_expiry) WHERE state = 'active'. Subscriptions
        billed monthly (isp_billing's recurring invoices) get no expiry reminder: their access
        follows their invoices, not a bought period."""
        self.flush_model(
            [
                "state",
                "date_expiry",
                "date_start",
                "company_id",
                "service_type",
                "recurring_next_date",
            ]
        )
        self.env["isp.sms.reminder"].flush_model()
        cases = SQL(" ").join(
            SQL("WHEN s.date_expiry <= %s THEN %s", now + offset, kind) for kind, offset in offsets
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT d.id, d.date_expiry, d.kind, d.date_start FROM (
                    SELECT s.id, s.date_expiry, s.date_start, CASE %(cases)s END AS kind
                      FROM isp_subscription s
                     WHERE s.state = 'active'
                       AND s.date_expiry > %(now)s
                       AND s.date_expiry <= %(horizon)s
                       AND s.company_id = %(company)s
                       AND s.service_type = %(service)s
                       -- billed monthly: the period's invoice and its due date speak instead
                       AND s.recurring_next_date IS NULL
                ) d
                WHERE NOT EXISTS (
                    SELECT 1 FROM isp_sms_reminder r
                     WHERE r.subscription_id = d.id
                       AND r.date_expiry = d.date_expiry
                       AND r.kind = d.kind
                )
                ORDER BY d.date_expiry, d.id
                """,
                cases=cases,
                now=now,
                horizon=now + offsets[-1][1],
                company=company.id,
                service=service,
            )
        )
        offset_of = dict(offsets)
        # no reminder for a period that started inside the reminder's window
        return [
            (sub_id, expiry, kind)
            for sub_id, expiry, kind, start in self.env.cr.fetchall()
            if not start or start <= expiry - offset_of[kind]
        ]

    @api.model
    def _claim_reminders(self, rows):
        """Insert reminder rows; returns those this transaction claimed (others were taken
        by a concurrent run)."""
        if not rows:
            return []
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO isp_sms_reminder
                       (subscription_id, date_expiry, kind, company_id,
                        create_uid, create_date, write_uid, write_date)
                SELECT r.sub_id, r.expiry, r.kind, s.company_id,
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM unnest(%(ids)s::int[], %(expiries)s::timestamp[], %(kinds)s::varchar[])
                       AS r(sub_id, expiry, kind)
                  JOIN isp_subscription s ON s.id = r.sub_id
                ON CONFLICT (subscription_id, date_expiry, kind) DO NOTHING
                RETURNING id, subscription_id
                """,
                uid=self.env.uid,
                now=fields.Datetime.now(),
                ids=[row[0] for row in rows],
                expiries=[row[1] for row in rows],
                kinds=[row[2] for row in rows],
            )
        )
        claimed = self.env.cr.fetchall()
        self.env["isp.sms.reminder"].invalidate_model()
        self.invalidate_model(["isp_sms_reminder_ids"])
        return claimed

    @api.model
    def _cron_isp_sms_reminders(self, batch_size=500):
        """Queue expiry reminders: hotspot the company's hours before expiry, PPPoE at its day
        offsets; each once per period; set-based, in committed batches."""
        now = fields.Datetime.now()
        cron = self.env["ir.cron"]
        todo = []
        for company in self.env["res.company"].sudo().search([]):
            for service, offsets in self._reminder_offsets(company).items():
                if offsets:
                    todo += self._due_reminders(company, service, offsets, now)
        remaining = len(todo)
        for batch in split_every(batch_size, todo):
            claimed = self._claim_reminders(batch)
            if claimed:
                reminder_ids = dict((sub_id, rid) for rid, sub_id in claimed)
                subscriptions = self.browse(list(reminder_ids))
                messages = (
                    isp_sms_guard(
                        subscriptions,
                        "expiry reminders",
                        subscriptions._sms_post,
                        TEMPLATE_EXPIRY_WARNING,
                    )
                    or {}
                )
                if messages:
                    self.env.cr.execute(
                        SQL(
                            """
                            UPDATE isp_sms_reminder r SET message_id = m.message_id
                              FROM unnest(%s::int[], %s::int[]) AS m(reminder_id, message_id)
                             WHERE r.id = m.reminder_id
                            """,
                            [reminder_ids[sub_id] for sub_id in messages],
                            [message.id for message in messages.values()],
                        )
                    )
                    self.env["isp.sms.reminder"].invalidate_model(["message_id"])
            remaining -= len(batch)
            if not cron._commit_progress(len(batch), remaining=remaining):
                return True
        cron._commit_progress(0, remaining=0)
        return True
