"""Sending the queued Disconnect / CoA requests (isp.radius.request): the cron, the
claim that keeps two workers from sending one request twice, and what each answer does."""

import logging
from datetime import datetime, timedelta, timezone

from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .. import coa

_logger = logging.getLogger(__name__)

# Wait after the 1st, 2nd, ... unanswered attempt; failed after the last one.
BACKOFF_SECONDS = (30, 60, 120, 300, 900)
MAX_ATTEMPTS = len(BACKOFF_SECONDS) + 1
# A claim older than this was left by a worker that died while sending: sent again.
STALE_SENDING = timedelta(minutes=10)


class IspRadiusRequest(models.Model):
    _inherit = "isp.radius.request"

    # ------------------------------------------------------------------ sending

    @api.model
    def _cron_send(self, timeout=None):
        """Send the due requests one at a time: each is claimed in a committed transaction
        (another worker skips it), sent, and its answer committed. A NAS that does not answer
        is probed once per run: its other due requests share the probe's fate."""
        cron = self.env["ir.cron"]
        self._release_stale_claims()
        remaining = self.search_count(
            [("state", "=", "pending"), ("next_attempt", "<=", fields.Datetime.now())]
        )
        cron._commit_progress(remaining=remaining)
        silent_nas, seen = [], []
        while True:
            request = self._claim_next(silent_nas, seen)
            if not request:
                break
            seen.append(request.id)
            outcome = request._send(timeout or coa.SEND_TIMEOUT)
            if outcome and outcome.outcome == "timeout":
                silent_nas.append(request.nas_id.id)
            if not cron._commit_progress(1):
                break
        self._schedule_next_run()
        return True

    @api.model
    def _claim_next(self, skip_nas, seen, attempts=3):
        """Claim the next due request ('sending', committed) and return it, or an empty
        recordset. A concurrent worker's committed claim makes this one's fail (repeatable
        read): committed, the claim is tried again in a new snapshot, where it is skipped."""
        cron = self.env["ir.cron"]
        self.flush_model()
        for attempt in range(attempts):
            now = fields.Datetime.now()
            try:
                with self.env.cr.savepoint(flush=False):
                    self.env.cr.execute(
                        SQL(
                            """
                            UPDATE isp_radius_request
                               SET state = 'sending', write_date = %(now)s, write_uid = %(uid)s
                             WHERE id = (
                                   SELECT id FROM isp_radius_request
                                    WHERE state = 'pending' AND next_attempt <= %(now)s
                                      AND nas_id != ALL(%(skip)s) AND id != ALL(%(seen)s)
                                    ORDER BY next_attempt, id
                                    LIMIT 1
                                      FOR UPDATE SKIP LOCKED)
                            RETURNING id
                            """,
                            now=now,
                            uid=self.env.uid,
                            skip=skip_nas or [0],
                            seen=seen or [0],
                        )
                    )
                    row = self.env.cr.fetchone()
            except pg_errors.SerializationFailure:
                if attempt == attempts - 1:
                    raise
                cron._commit_progress(0)
                continue
            self.invalidate_model(["state"])
            cron._commit_progress(0)  # the claim is seen by the other workers
            return self.browse(row[0] if row else [])
        return self.browse()

    @api.model
    def _release_stale_claims(self):
        """Requests left 'sending' by a worker that died mid-send go back to the queue."""
        self.env.cr.execute(
            SQL(
                "UPDATE isp_radius_request SET state = 'pending' "
                "WHERE state = 'sending' AND write_date < %s",
                fields.Datetime.now() - STALE_SENDING,
            )
        )
        self.invalidate_model(["state"])

    def _session_timeout(self):
        """A CoA carries the subscription's Session-Timeout as of now (a period extended
        while online, or a new rate: the NAS keeps the session to the paid expiry). Counted
        from the session's start, as a Session-Timeout of a login is: a NAS that counts it
        from now instead keeps the session a little longer, never shorter; the Disconnect at
        expiry ends it either way."""
        subscription = self.subscription_id.sudo()
        if self.kind != "coa" or subscription.state != "active" or not subscription.date_expiry:
            return {}
        self.env.cr.execute(
            SQL("SELECT acctstarttime FROM radacct WHERE radacctid = %s", self.radacct_id)
        )
        row = self.env.cr.fetchone()
        expiry = subscription.date_expiry.replace(tzinfo=timezone.utc)
        start = row[0] if row and row[0] else datetime.now(timezone.utc)
        return {"Session-Timeout": max(int((expiry - start).total_seconds()), 1)}

    def _send(self, timeout):
        """Send this claimed request and record the NAS's answer. Returns the coa.Outcome, or
        None when it was not sent (its NAS archived)."""
        self.ensure_one()
        nas = self.nas_id.sudo()
        if not nas.active:
            self._finish("cancelled", message=self.env._("The NAS is archived."))
            return None
        try:
            secret = nas._isp_secret("secret")
        except UserError as exc:
            secret, outcome = None, coa.Outcome("error", 0, str(exc))
        else:
            outcome = None if secret else coa.Outcome("error", 0, "The NAS has no secret.")
        if secret:
            attributes = dict(
                coa.session_attributes(self.username, self.acct_session_id, self.framed_ip),
                **(self.attributes or {}),
                **self._session_timeout(),
            )
            outcome = coa.send(
                self.kind, nas.address, nas.coa_port, secret, attributes, timeout=timeout
            )
        _logger.info(
            "RADIUS %s #%s for %s (session %s) to NAS %s: %s %s",
            self.kind,
            self.id,
            self.username,
            self.acct_session_id,
            nas.name,
            outcome.outcome,
            coa.error_cause_label(outcome.error_cause),
        )
        self._record(outcome)
        return outcome

    def _record(self, outcome):
        if outcome.outcome == "ack":
            self._finish("acked", cause=outcome.error_cause)
        elif outcome.outcome == "nak" and outcome.error_cause == coa.SESSION_CONTEXT_NOT_FOUND:
            message = self.env._(
                "The NAS has no such session (%(cause)s): it had already ended.",
                cause=coa.error_cause_label(outcome.error_cause),
            )
            self._finish("gone", cause=outcome.error_cause, message=message)
        elif outcome.outcome == "nak":
            self._finish("naked", cause=outcome.error_cause, message=outcome.message)
            self._note_subscriptions(
                self.env._("refused by the NAS: %(cause)s", cause=outcome.message)
            )
        else:
            unanswered = self
            if outcome.outcome == "timeout":
                unanswered |= self._silent_siblings()
            unanswered._retry_later(outcome.message)

    def _silent_siblings(self):
        """The other due requests of this request's NAS, which did not answer: they would
        not be answered either. Those another worker holds, or claimed since this
        transaction began, are left to it."""
        self.flush_model()
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL(
                        """SELECT id FROM isp_radius_request
                            WHERE nas_id = %s AND state = 'pending' AND next_attempt <= %s
                              AND id != %s
                              FOR UPDATE SKIP LOCKED""",
                        self.nas_id.id,
                        fields.Datetime.now(),
                        self.id,
                    )
                )
                return self.browse([row[0] for row in self.env.cr.fetchall()])
        except pg_errors.SerializationFailure:
            return self.browse()

    def _finish(self, state, cause=0, message=False):
        self.write(
            {
                "state": state,
                "attempts": self.attempts + (state != "cancelled"),
                "error_cause": cause,
                "last_error": message,
                "date_done": fields.Datetime.now(),
            }
        )

    def _retry_later(self, message):
        now = fields.Datetime.now()
        failed = self.browse()
        for attempts, requests in self.grouped(lambda r: r.attempts + 1).items():
            if attempts >= MAX_ATTEMPTS:
                failed |= requests
                continue
            requests.write(
                {
                    "state": "pending",
                    "attempts": attempts,
                    "last_error": message,
                    "next_attempt": now + timedelta(seconds=BACKOFF_SECONDS[attempts - 1]),
                }
            )
        failed.write(
            {"state": "failed", "attempts": MAX_ATTEMPTS, "last_error": message, "date_done": now}
        )
        failed._note_subscriptions(
            self.env._(
                "not answered after %(count)s attempts (%(error)s)",
                count=MAX_ATTEMPTS,
                error=message,
            )
        )

    def _note_subscriptions(self, what):
        """A note on each subscription of these requests saying what became of them."""
        bodies = {}
        for request in self.filtered("subscription_id"):
            label = (
                self.env._("RADIUS Disconnect")
                if request.kind == "disconnect"
                else self.env._("RADIUS CoA")
            )
            line = self.env._(
                "%(label)s of session %(session)s on %(nas)s %(what)s.",
                label=label,
                session=request.acct_session_id,
                nas=request.nas_id.name,
                what=what,
            )
            sid = request.subscription_id.id
            bodies[sid] = f"{bodies[sid]}\n{line}" if sid in bodies else line
        if bodies:
            self.env["isp.subscription"].browse(list(bodies))._message_log_batch(bodies=bodies)

    @api.model
    def _schedule_next_run(self):
        later = self.search([("state", "=", "pending")], order="next_attempt", limit=1)
        if later:
            self._wake_sender(max(later.next_attempt, fields.Datetime.now()))
