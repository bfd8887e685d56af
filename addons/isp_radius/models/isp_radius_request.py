"""The queue of Disconnect-Requests and CoA-Requests (RFC 5176) Odoo sends to the NAS.

Billing events queue one request per open session (read from FreeRADIUS's radacct): the
billing transaction only inserts rows. The 'RADIUS: send Disconnect / CoA' cron, triggered
at commit and run every minute, claims due requests one at a time (committed claim, so two
workers never send the same one), sends each over UDP with pyrad, records the answer and
retries a silent NAS with backoff until it gives up."""

import json
import logging
from datetime import timedelta

from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.exceptions import AccessError, ConcurrencyError
from odoo.tools import SQL
from odoo.tools.constants import GC_UNLINK_LIMIT

from .. import coa
from .isp_radius_schema import FREERADIUS_TABLES

_logger = logging.getLogger(__name__)

CRON_XMLID = "isp_radius.ir_cron_isp_radius_request_send"
# finished requests are kept this long (days) for the operator to look back
KEPT_DAYS = 30
KEPT_FAILED_DAYS = 90
# concurrency errors reach Odoo's retry loop instead of being swallowed
RETRYABLE_ERRORS = (
    pg_errors.SerializationFailure,
    pg_errors.LockNotAvailable,
    pg_errors.DeadlockDetected,
    ConcurrencyError,
)
# radacct's service of a subscription: PPPoE sessions are accounted with Framed-Protocol PPP
SERVICE_MATCH = SQL("(COALESCE(a.framedprotocol, '') = 'PPP') = (s.service_type = 'pppoe')")
# a MAC as 12 upper-case hex digits, whatever the NAS's format (AA:BB:.., aa-bb-.., aabb.ccdd..)
MAC_DIGITS = "upper(regexp_replace({}, '[^0-9A-Fa-f]', '', 'g'))"


class IspRadiusRequest(models.Model):
    _name = "isp.radius.request"
    _description = "RADIUS Disconnect / CoA Request"
    _order = "id desc"
    _rec_name = "username"

    company_id = fields.Many2one("res.company", required=True, index=True, readonly=True)
    nas_id = fields.Many2one(
        "isp.radius.nas", string="NAS", required=True, index=True, ondelete="cascade", readonly=True
    )
    kind = fields.Selection(
        [("disconnect", "Disconnect"), ("coa", "Change of Authorization")],
        required=True,
        readonly=True,
    )
    subscription_id = fields.Many2one(
        "isp.subscription", index="btree_not_null", ondelete="set null", readonly=True
    )
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    username = fields.Char(string="User Name", required=True, readonly=True)
    acct_session_id = fields.Char(string="Session (Acct-Session-Id)", required=True, readonly=True)
    radacct_id = fields.Integer(
        string="Accounting Row", required=True, readonly=True, help="radacct.radacctid"
    )
    framed_ip = fields.Char(string="IP Address", readonly=True)
    mac = fields.Char(string="MAC Address", readonly=True)
    attributes = fields.Json(
        string="Attributes (JSON)",
        readonly=True,
        help="What the request changes (CoA: the new rate).",
    )
    attributes_text = fields.Char(string="Attributes", compute="_compute_attributes_text")
    reason = fields.Char(readonly=True)
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("sending", "Sending"),
            ("acked", "Acknowledged"),
            ("naked", "Refused (NAK)"),
            ("gone", "Session Already Ended"),
            ("failed", "Failed"),
            ("cancelled", "Cancelled"),
        ],
        default="pending",
        required=True,
        index=True,
        readonly=True,
    )
    attempts = fields.Integer(readonly=True)
    next_attempt = fields.Datetime(default=fields.Datetime.now, required=True, readonly=True)
    last_error = fields.Text(readonly=True)
    error_cause = fields.Integer(
        string="Error-Cause Code", readonly=True, help="RFC 5176 Error-Cause of the NAS's answer."
    )
    error_cause_name = fields.Char(string="Error Cause", compute="_compute_error_cause_name")
    date_done = fields.Datetime(readonly=True)

    _pending_due_idx = models.Index("(next_attempt) WHERE state = 'pending'")
    # one pending request of a kind per session: queued twice, it is sent once
    _pending_session_unique = models.UniqueIndex("(kind, radacct_id) WHERE state = 'pending'")
    _open_session_idx = models.Index("(radacct_id) WHERE state IN ('pending', 'sending')")

    def init(self):
        # The lookups of open sessions by user name and by MAC (FreeRADIUS's schema indexes
        # neither); radacct is created here if isp.radius.schema's init has not run yet.
        self.env.cr.execute(FREERADIUS_TABLES)
        self.env.cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS isp_radacct_open_username_idx ON radacct (username) "
                "WHERE acctstoptime IS NULL"
            )
        )
        self.env.cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS isp_radacct_open_mac_idx ON radacct (%s) "
                "WHERE acctstoptime IS NULL",
                SQL(MAC_DIGITS.format("callingstationid")),
            )
        )

    @api.depends("attributes")
    def _compute_attributes_text(self):
        for request in self:
            request.attributes_text = ", ".join(
                f"{name} = {value}" for name, value in (request.attributes or {}).items()
            )

    @api.depends("error_cause")
    def _compute_error_cause_name(self):
        for request in self:
            request.error_cause_name = coa.error_cause_label(request.error_cause)

    # ------------------------------------------------------------------ queueing

    @api.model
    def _queue_disconnect(self, subscriptions, reason):
        """Queue a Disconnect-Request for each open session of ``subscriptions`` on the active
        NAS of their company, and cancel the pending CoA of those sessions. Only inserts rows
        (and wakes the sender up at commit): never calls a NAS, never fails the caller."""
        return self._guarded(self._do_queue_disconnect, subscriptions, reason)

    @api.model
    def _queue_coa(self, subscriptions, reason):
        """Queue a CoA-Request with each subscription's current rate (its bundle's, or the
        fair-use rate after the data cap) for each of its open sessions. A pending CoA of the
        session takes the new rate instead; a session being disconnected gets none. A rate a
        NAS cannot be told (no limit on a standard NAS) is applied by a Disconnect: the
        customer reconnects and FreeRADIUS answers with the new rate."""
        return self._guarded(self._do_queue_coa, subscriptions, reason)

    @api.model
    def _queue_extension(self, subscriptions, reason):
        """Queue a CoA-Request for each open session of these active subscriptions whose
        period was extended: the sender gives it the Session-Timeout of the new expiry, so a
        customer who buys more time while online is not logged out at the old one. It also
        carries the current rate where the NAS can be told it; a NAS that cannot (no limit
        on a standard NAS) gets the Session-Timeout alone, never a Disconnect."""
        return self._guarded(self._do_queue_extension, subscriptions, reason)

    @api.model
    def _queue_device_disconnect(self, devices, reason):
        """Queue a Disconnect-Request for the open sessions of these devices' MAC addresses
        (the device owner's logins, or a MAC login) on the NAS of the device's company."""
        return self._guarded(self._do_queue_device_disconnect, devices, reason)

    @api.model
    def _guarded(self, method, records, reason):
        if not records:
            return self.browse()
        # the caller's own pending writes are flushed outside the guard: an error of the
        # billing change itself surfaces, it is not swallowed here
        self.env.flush_all()
        try:
            with self.env.cr.savepoint():
                return method(records, reason)
        except RETRYABLE_ERRORS:
            raise
        except Exception:
            _logger.exception(
                "RADIUS: could not queue requests for %s %s", records._name, records.ids
            )
            return self.browse()

    def _do_queue_disconnect(self, subscriptions, reason):
        return self._insert(self._subscription_sessions(subscriptions), "disconnect", reason)

    def _do_queue_coa(self, subscriptions, reason):
        # an inactive subscription's sessions are being disconnected, not re-rated
        subscriptions = subscriptions.filtered(lambda s: s.state == "active")
        if not subscriptions:
            return self.browse()
        sessions = self._subscription_sessions(subscriptions)
        rates = {sub.id: sub._isp_radius_coa_rates() for sub in subscriptions}
        coa_sessions, reconnect = [], []
        for session in sessions:
            attributes = coa.rate_attributes(
                session["nas_type"], *rates[session["subscription_id"]]
            )
            if attributes is None:
                reconnect.append(session)
            else:
                coa_sessions.append(dict(session, attributes=attributes))
        requests = self._insert(coa_sessions, "coa", reason)
        if reconnect:
            requests |= self._insert(
                reconnect,
                "disconnect",
                self.env._("%(reason)s (new rate applied at reconnection)", reason=reason),
            )
        return requests

    def _do_queue_extension(self, subscriptions, reason):
        subscriptions = subscriptions.filtered(lambda s: s.state == "active")
        if not subscriptions:
            return self.browse()
        rates = {sub.id: sub._isp_radius_coa_rates() for sub in subscriptions}
        sessions = [
            dict(
                session,
                attributes=coa.rate_attributes(
                    session["nas_type"], *rates[session["subscription_id"]]
                )
                or {},
            )
            for session in self._subscription_sessions(subscriptions)
        ]
        return self._insert(sessions, "coa", reason)

    def _do_queue_device_disconnect(self, devices, reason):
        return self._insert(self._device_sessions(devices), "disconnect", reason)

    def _session_columns(self):
        return SQL(
            """a.radacctid AS radacct_id, a.acctsessionid AS acct_session_id,
               a.username, host(a.framedipaddress) AS framed_ip,
               a.callingstationid AS mac, n.id AS nas_id, n.company_id, n.nas_type"""
        )

    def _subscription_sessions(self, subscriptions):
        """The open sessions (radacct rows without a stop) of these subscriptions: their login,
        their service (PPP ↔ PPPoE), on an active NAS of their company."""
        self.env["isp.subscription"].flush_model(["login", "service_type", "company_id"])
        self.env["isp.radius.nas"].flush_model(["address", "active", "company_id"])
        self.env.cr.execute(
            SQL(
                """
                SELECT %(columns)s, s.id AS subscription_id, s.partner_id
                  FROM isp_subscription s
                  JOIN isp_radius_nas n ON n.company_id = s.company_id AND n.active
                  JOIN radacct a ON a.nasipaddress = n.address::inet
                   AND a.username = s.login AND a.acctstoptime IS NULL AND %(service)s
                 WHERE s.id = ANY(%(ids)s) AND s.login IS NOT NULL
                 ORDER BY a.radacctid
                """,
                columns=self._session_columns(),
                service=SERVICE_MATCH,
                ids=subscriptions.ids,
            )
        )
        return self.env.cr.dictfetchall()

    def _device_sessions(self, devices):
        """The open sessions from these devices' MAC addresses on the active NAS of their
        company, under a login of the device's owner (its subscription) or the MAC itself."""
        self.env["isp.device"].flush_model(["mac", "partner_id", "company_id"])
        self.env["isp.subscription"].flush_model(["login", "service_type", "partner_id"])
        self.env["isp.radius.nas"].flush_model(["address", "active", "company_id"])
        mac = SQL(MAC_DIGITS.format("a.callingstationid"))
        self.env.cr.execute(
            SQL(
                """
                SELECT DISTINCT ON (a.radacctid)
                       %(columns)s, s.id AS subscription_id, d.partner_id
                  FROM isp_device d
                  JOIN isp_radius_nas n ON n.company_id = d.company_id AND n.active
                  JOIN radacct a ON a.nasipaddress = n.address::inet AND a.acctstoptime IS NULL
                   AND %(mac)s = replace(d.mac, ':', '')
                  LEFT JOIN isp_subscription s ON s.company_id = d.company_id
                   AND s.partner_id = d.partner_id AND s.login = a.username AND %(service)s
                 WHERE d.id = ANY(%(ids)s)
                   AND (s.id IS NOT NULL OR %(mac_login)s = replace(d.mac, ':', ''))
                 ORDER BY a.radacctid, s.id
                """,
                columns=self._session_columns(),
                mac=mac,
                mac_login=SQL(MAC_DIGITS.format("a.username")),
                service=SERVICE_MATCH,
                ids=devices.ids,
            )
        )
        return self.env.cr.dictfetchall()

    def _insert(self, sessions, kind, reason):
        """Insert one pending request of ``kind`` per session (dicts of _session_columns),
        unless one is pending already (a pending CoA takes the newest rate). Returns the
        requests inserted or updated, and wakes the sender up."""
        sessions = list({s["radacct_id"]: s for s in sessions}.values())
        if sessions:
            # a session being disconnected needs no new rate, nor another Disconnect
            disconnecting = self._disconnecting(sessions)
            sessions = [s for s in sessions if s["radacct_id"] not in disconnecting]
        if not sessions:
            return self.browse()
        now = fields.Datetime.now()
        uid = self.env.uid
        values = SQL(", ").join(
            SQL(
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, 'pending', 0, %s, "
                "%s, %s, %s, %s)",
                s["company_id"],
                s["nas_id"],
                kind,
                s.get("subscription_id"),
                s.get("partner_id"),
                s["username"],
                s["acct_session_id"],
                s["radacct_id"],
                s["framed_ip"],
                s["mac"],
                json.dumps(s.get("attributes") or {}),
                reason,
                now,
                uid,
                now,
                uid,
                now,
            )
            for s in sessions
        )
        conflict = (
            SQL("DO UPDATE SET attributes = EXCLUDED.attributes, reason = EXCLUDED.reason")
            if kind == "coa"
            else SQL("DO NOTHING")
        )
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO isp_radius_request
                       (company_id, nas_id, kind, subscription_id, partner_id, username,
                        acct_session_id, radacct_id, framed_ip, mac, attributes, reason,
                        state, attempts, next_attempt,
                        create_uid, create_date, write_uid, write_date)
                VALUES %(values)s
                ON CONFLICT (kind, radacct_id) WHERE state = 'pending' %(conflict)s
                RETURNING id
                """,
                values=values,
                conflict=conflict,
            )
        )
        requests = self.browse([row[0] for row in self.env.cr.fetchall()])
        if kind == "disconnect":
            self._cancel_pending_coa([s["radacct_id"] for s in sessions])
        self.invalidate_model()
        if requests:
            self._wake_sender()
        return requests

    def _disconnecting(self, sessions):
        self.env.cr.execute(
            SQL(
                """SELECT radacct_id FROM isp_radius_request
                    WHERE kind = 'disconnect' AND state IN ('pending', 'sending')
                      AND radacct_id = ANY(%s)""",
                [s["radacct_id"] for s in sessions],
            )
        )
        return {row[0] for row in self.env.cr.fetchall()}

    def _cancel_pending_coa(self, radacct_ids):
        self._cancel_pending(
            SQL("kind = 'coa' AND radacct_id = ANY(%s)", radacct_ids),
            self.env._("Superseded by a Disconnect of the session."),
        )

    @api.model
    def _cancel_pending_disconnect(self, subscriptions, reason):
        """The subscriptions are active again: their pending Disconnects (a NAS that was
        down) no longer apply."""
        return self._guarded(
            lambda subs, why: self._cancel_pending(
                SQL("kind = 'disconnect' AND subscription_id = ANY(%s)", subs.ids), why
            ),
            subscriptions,
            reason,
        )

    def _cancel_pending(self, condition, why):
        """Cancel the pending requests matching ``condition``. One being sent (claimed by the
        sender since this transaction began) is left to its fate instead of making this
        billing transaction fail."""
        now = fields.Datetime.now()
        try:
            with self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    SQL(
                        """UPDATE isp_radius_request
                              SET state = 'cancelled', last_error = %(why)s,
                                  date_done = %(now)s, write_date = %(now)s, write_uid = %(uid)s
                            WHERE id IN (SELECT id FROM isp_radius_request
                                          WHERE state = 'pending' AND %(condition)s
                                            FOR UPDATE SKIP LOCKED)
                        RETURNING id""",
                        why=why,
                        now=now,
                        uid=self.env.uid,
                        condition=condition,
                    )
                )
                cancelled = self.browse([row[0] for row in self.env.cr.fetchall()])
        except pg_errors.SerializationFailure:
            return self.browse()
        cancelled.invalidate_recordset()
        return cancelled

    def _sender_cron(self):
        # by its XML id's cached id: no existence query at each billing event
        return self.env["ir.cron"].browse(self.env["ir.model.data"]._xmlid_to_res_id(CRON_XMLID))

    def _wake_sender(self, at=None):
        """Run the sender at ``at`` (now by default): its trigger is seen by the cron
        workers once this transaction commits."""
        cron = self._sender_cron()
        if cron:
            cron._trigger(at)

    @api.autovacuum
    def _gc_finished(self, limit=GC_UNLINK_LIMIT):
        """Delete a batch of requests finished long ago (answered or cancelled after
        KEPT_DAYS, failed or refused after KEPT_FAILED_DAYS); returns (deleted, whether more
        are left) for ir.autovacuum to call again."""
        now = fields.Datetime.now()
        requests = self.search(
            [
                "|",
                "&",
                ("state", "in", ("acked", "gone", "cancelled")),
                ("date_done", "<", now - timedelta(days=KEPT_DAYS)),
                "&",
                ("state", "in", ("failed", "naked")),
                ("date_done", "<", now - timedelta(days=KEPT_FAILED_DAYS)),
            ],
            limit=limit,
        )
        requests.unlink()
        return len(requests), len(requests) == limit

    # ------------------------------------------------------------------ UI

    def action_retry(self):
        """Send failed or refused requests again (ISP managers)."""
        if not self.env.user.has_group("isp_billing.group_isp_manager"):
            raise AccessError(self.env._("Only ISP managers can send a RADIUS request again."))
        self.check_access("read")
        retried = self.filtered(lambda r: r.state in ("failed", "naked"))
        pending = self.search(
            [("state", "=", "pending"), ("radacct_id", "in", retried.mapped("radacct_id"))]
        )
        taken = {(r.kind, r.radacct_id) for r in pending}
        retried = retried.filtered(lambda r: (r.kind, r.radacct_id) not in taken)
        retried.sudo().write(
            {
                "state": "pending",
                "attempts": 0,
                "next_attempt": fields.Datetime.now(),
                "last_error": False,
                "error_cause": 0,
                "date_done": False,
            }
        )
        if retried:
            self._wake_sender()
        return True
