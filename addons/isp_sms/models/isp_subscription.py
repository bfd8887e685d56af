import logging
from datetime import timedelta

import pytz
from markupsafe import escape
from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.exceptions import ConcurrencyError
from odoo.fields import Command
from odoo.tools import SQL, html2plaintext, split_every
from odoo.tools.misc import format_datetime

_logger = logging.getLogger(__name__)

TEMPLATE_EXPIRY_WARNING = "isp_sms.sms_template_isp_expiry_warning"
TEMPLATE_EXPIRED = "isp_sms.sms_template_isp_access_expired"
TEMPLATE_SUSPENDED = "isp_sms.sms_template_isp_suspension"
TEMPLATE_CREDENTIALS = {
    "hotspot": "isp_sms.sms_template_isp_credentials_hotspot",
    "pppoe": "isp_sms.sms_template_isp_credentials_pppoe",
}
ACTIVATED_KEY = "isp_sms.activated_subscription_ids"
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


def isp_sms_number(partner):
    """The number Odoo's SMS notification sends to: the partner's phone in E.164. A number
    already written with its country code is parsed without a country (its format does not
    depend on it, and this spares reading the company's address)."""
    phone = partner.phone
    if phone and phone.startswith("+"):
        number = partner._phone_format_number(phone, partner.env["res.country"])
    else:
        number = partner._phone_format(number=phone)
    return number or phone


def isp_sms_timezone(partner, company):
    tz = partner.tz or company.partner_id.tz
    if not tz and company.country_id.code:
        zones = pytz.country_timezones.get(company.country_id.code)
        tz = zones[0] if zones else None
    return tz or "UTC"


def isp_sms_format_datetime(env, value, partner, company):
    if not value:
        return ""
    return format_datetime(
        env, value, tz=isp_sms_timezone(partner, company), dt_format="dd/MM/yyyy HH:mm"
    )


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

    @api.depends("date_expiry", "partner_id.tz")
    @api.depends_context("lang")
    def _compute_isp_sms_expiry(self):
        for subscription in self:
            subscription.isp_sms_expiry = isp_sms_format_datetime(
                self.env, subscription.date_expiry, subscription.partner_id, subscription.company_id
            )

    # ------------------------------------------------------------------ hooks

    def _isp_state_changed(self, previous_states):
        result = super()._isp_state_changed(previous_states)
        isp_sms_guard(self, "state change SMS", self._isp_sms_on_state_change, previous_states)
        return result

    def _isp_sms_on_state_change(self, previous_states):
        # remembered until the fulfilment hook: an activation is confirmed as a payment or a
        # voucher, a purchase extending a running period as a renewal
        activated = self.env.cr.cache.setdefault(ACTIVATED_KEY, set())
        activated.update(self.filtered(lambda s: s.state == "active").ids)
        first = self.filtered(
            lambda s: previous_states.get(s.id) == "draft" and s.state == "active"
        )
        expired = self.filtered(
            lambda s: previous_states.get(s.id) == "active" and s.state == "expired"
        )
        suspended = self.filtered(lambda s: s.state == "suspended")
        if first:
            first._isp_sms_send_credentials()
        if expired:
            expired._isp_sms_post(TEMPLATE_EXPIRED)
        if suspended:
            suspended._isp_sms_post(TEMPLATE_SUSPENDED)

    # ------------------------------------------------------------------ queueing

    def _isp_sms_post(self, template_xmlid, render_records=None):
        """Queue one SMS per subscription (``render_records``, aligned with ``self``, are the
        records the template renders: the subscriptions themselves by default), in the
        customer's language, logged in the subscription's chatter with Odoo's SMS
        notification (delivery status), to the queue (never sent inline: the queue cron sends
        it). Returns {subscription id: mail.message}.

        Billing events come from public callbacks (payments, vouchers) and crons: the
        messages are created as superuser."""
        template = self._isp_sms_template(template_xmlid)
        if not template:
            return {}
        subscriptions_sudo = self.sudo()
        render_sudo = (render_records if render_records is not None else self).sudo()
        bodies = template._render_field("body", render_sudo.ids, compute_lang=True)
        return subscriptions_sudo._isp_sms_queue(
            [
                (subscription, bodies[record.id])
                for subscription, record in zip(subscriptions_sudo, render_sudo, strict=True)
                if subscription.partner_id.phone
            ]
        )

    def _isp_sms_template(self, xmlid):
        """The SMS template of ``xmlid`` (as superuser), or an empty recordset (logged)."""
        template_id = self.env["ir.model.data"]._xmlid_to_res_id(xmlid, raise_if_not_found=False)
        if not template_id:
            _logger.warning("ISP SMS: template %s is missing; nothing sent", xmlid)
        return self.env["sms.template"].sudo().browse(template_id or [])

    def _isp_sms_queue(self, texts):
        """Queue ``texts`` ([(subscription, SMS text)], subscriptions as superuser) the way
        Odoo's ``_message_sms`` (``message_post`` of an SMS) records them, in batch: a chatter
        message of type SMS with the customer as recipient, the ``sms.sms`` in the queue, the
        customer's SMS notification and its delivery tracker. The customer is the only one
        notified, so none of ``message_post``'s followers, threading and reply-to work is
        done. Returns {subscription id: mail.message}."""
        if not texts:
            return {}
        author_id, email_from = self._message_compute_author()
        subtype_id = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note")
        reply_to = self.env["mail.thread"]._notify_get_reply_to(
            default=email_from, author_id=author_id
        )[False]
        messages = self._message_create(
            [
                {
                    "author_id": author_id,
                    "email_from": email_from,
                    "model": self._name,
                    "res_id": subscription.id,
                    "body": escape(text),
                    "message_type": "sms",
                    "subtype_id": subtype_id,
                    "partner_ids": subscription.partner_id.ids,
                    "record_company_id": subscription.company_id.id,
                    "reply_to": reply_to,
                }
                for subscription, text in texts
            ]
        )
        sms_all = (
            self.env["sms.sms"]
            .sudo()
            .create(
                [
                    {
                        # the text Odoo's SMS notification sends: the posted body as text
                        "body": html2plaintext(escape(text)),
                        "mail_message_id": message.id,
                        "state": "outgoing",
                        "partner_id": subscription.partner_id.id,
                        "number": isp_sms_number(subscription.partner_id),
                    }
                    for (subscription, text), message in zip(texts, messages, strict=True)
                ]
            )
        )
        self.env["mail.notification"].sudo().create(
            [
                {
                    "author_id": author_id,
                    "mail_message_id": sms.mail_message_id.id,
                    "res_partner_id": sms.partner_id.id,
                    "sms_number": sms.number,
                    "notification_type": "sms",
                    "sms_id_int": sms.id,
                    "sms_tracker_ids": [Command.create({"sms_uuid": sms.uuid})],
                    "is_read": True,
                    "notification_status": "ready",
                    "failure_type": "",
                }
                for sms in sms_all
            ]
        )
        return {
            subscription.id: message
            for (subscription, _text), message in zip(texts, messages, strict=True)
        }

    def _isp_sms_send_credentials(self):
        """Queue the login and password SMS. The password is readable by ISP managers only,
        so this SMS is not copied into the chatter (which every ISP user reads): it goes to
        the queue directly and the chatter only notes that it was sent."""
        SmsSudo = self.env["sms.sms"].sudo()
        for service, subscriptions in self.grouped("service_type").items():
            template = self._isp_sms_template(TEMPLATE_CREDENTIALS[service])
            subscriptions_sudo = subscriptions.sudo().filtered(lambda s: s.partner_id.phone)
            if not template or not subscriptions_sudo:
                continue
            bodies = template._render_field("body", subscriptions_sudo.ids, compute_lang=True)
            SmsSudo.create(
                [
                    {
                        "number": subscription.partner_id.phone,
                        "partner_id": subscription.partner_id.id,
                        "body": bodies[subscription.id],
                        "isp_company_id": subscription.company_id.id,
                    }
                    for subscription in subscriptions_sudo
                ]
            )
            subscriptions_sudo._message_log_batch(
                bodies={
                    subscription.id: self.env._(
                        "Login credentials sent by SMS to %(number)s.",
                        number=subscription.partner_id.phone,
                    )
                    for subscription in subscriptions_sudo
                }
            )

    def _isp_sms_cancel_reminders(self):
        """Cancel reminders still waiting in the queue (the customer renewed)."""
        messages = self.sudo().isp_sms_reminder_ids.message_id
        if not messages:
            return
        waiting = (
            self.env["sms.sms"]
            .sudo()
            .search([("mail_message_id", "in", messages.ids), ("state", "=", "outgoing")])
        )
        if waiting:
            waiting.action_set_canceled()

    # ------------------------------------------------------------------ reminders cron

    @api.model
    def _isp_reminder_offsets(self, company):
        """{service: [(kind, offset)]}, offsets ascending."""
        hours = company.isp_reminder_hotspot_hours
        days = company._isp_parse_day_offsets(company.isp_reminder_pppoe_days)
        return {
            "hotspot": [(f"h{hours}", timedelta(hours=hours))] if hours > 0 else [],
            "pppoe": [(f"d{d}", timedelta(days=d)) for d in sorted(days)],
        }

    @api.model
    def _isp_due_reminders(self, company, service, offsets, now):
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
    def _isp_claim_reminders(self, rows):
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
            for service, offsets in self._isp_reminder_offsets(company).items():
                if offsets:
                    todo += self._isp_due_reminders(company, service, offsets, now)
        remaining = len(todo)
        for batch in split_every(batch_size, todo):
            claimed = self._isp_claim_reminders(batch)
            if claimed:
                reminder_ids = dict((sub_id, rid) for rid, sub_id in claimed)
                subscriptions = self.browse(list(reminder_ids))
                messages = (
                    isp_sms_guard(
                        subscriptions,
                        "expiry reminders",
                        subscriptions._isp_sms_post,
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
