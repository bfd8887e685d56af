import logging
import time
from datetime import timedelta

from librouteros.exceptions import LibRouterosError, TrapError

from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.constants import GC_UNLINK_LIMIT

from .. import routeros
from .isp_router import backoff_seconds

_logger = logging.getLogger(__name__)

# One router may hold the sync worker this long per turn; its remaining work waits for the
# next turn, after the other routers had theirs.
ROUTER_TIME_BOX_SECONDS = 60
DONE_JOBS_KEPT_DAYS = 7


class IspRouterJob(models.Model):
    """A router's pending synchronisation: one subscription, or the whole router ('full').

    Jobs are queued by billing events (state change, purchase) and by the periodic
    reconciliation, processed by the 'ISP: router sync queue' cron, and stay pending (with
    backoff and the last error) until the router has really been brought in line: nothing
    is lost while a router is down."""

    _name = "isp.router.job"
    _description = "ISP Router Sync Job"
    _order = "id desc"
    _rec_name = "router_id"

    router_id = fields.Many2one(
        "isp.router", required=True, index=True, ondelete="cascade", readonly=True
    )
    company_id = fields.Many2one(related="router_id.company_id", store=True, index=True)
    kind = fields.Selection(
        [("subscription", "Subscription"), ("full", "Full Reconciliation")],
        required=True,
        readonly=True,
    )
    subscription_id = fields.Many2one(
        "isp.subscription", index="btree_not_null", ondelete="cascade", readonly=True
    )
    reason = fields.Selection(
        [
            ("state", "Subscription State Change"),
            ("purchase", "New Period"),
            ("periodic", "Periodic Reconciliation"),
            ("manual", "Manual"),
            ("retry", "Retry of a Failed Object"),
            ("fair_use", "Data Cap Reached (Fair Use)"),
        ],
        readonly=True,
    )
    state = fields.Selection(
        [("pending", "Pending"), ("done", "Done")],
        default="pending",
        required=True,
        index=True,
        readonly=True,
    )
    attempts = fields.Integer(readonly=True)
    next_attempt = fields.Datetime(default=fields.Datetime.now, required=True, readonly=True)
    last_error = fields.Text(readonly=True)
    date_done = fields.Datetime(readonly=True)
    writes = fields.Integer(help="Changes written to the router by the run that did this job.")

    _pending_due_idx = models.Index("(next_attempt, router_id) WHERE state = 'pending'")

    # ------------------------------------------------------------------ queueing

    def _queue_cron(self):
        # by its XML id's cached id: no existence query at each billing event
        return self.env["ir.cron"].browse(
            self.env["ir.model.data"]._xmlid_to_res_id("isp_mikrotik.ir_cron_isp_router_sync_queue")
        )

    @api.model
    def _enqueue(self, subscriptions, reason="state", routers=None):
        """Queue the given subscriptions' sync on every active router (or on ``routers``) of
        their company serving their service, unless one is pending already, and wake the
        queue cron up. One statement whatever the number of subscriptions and routers: the
        billing hooks call this in every payment callback."""
        if not subscriptions:
            return self.browse()
        self.env["isp.subscription"].flush_model(["company_id", "service_type"])
        self.env["isp.router"].flush_model(
            ["active", "company_id", "service_hotspot", "service_pppoe", "next_retry"]
        )
        self.flush_model(["state", "kind", "subscription_id", "router_id"])
        now = fields.Datetime.now()
        router_filter = (
            SQL("r.active") if routers is None else SQL("r.id = ANY(%s)", routers.ids or [0])
        )
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO isp_router_job
                       (router_id, company_id, kind, subscription_id, reason, state, attempts,
                        next_attempt, create_uid, create_date, write_uid, write_date)
                SELECT r.id, r.company_id, 'subscription', s.id, %(reason)s, 'pending', 0,
                       GREATEST(%(now)s, COALESCE(r.next_retry, %(now)s)),
                       %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM isp_subscription s
                  JOIN isp_router r ON r.company_id = s.company_id
                   AND CASE s.service_type WHEN 'hotspot' THEN r.service_hotspot
                                           WHEN 'pppoe' THEN r.service_pppoe END
                 WHERE s.id = ANY(%(subscriptions)s)
                   AND %(router_filter)s
                   AND NOT EXISTS (
                       SELECT 1 FROM isp_router_job j
                        WHERE j.state = 'pending' AND j.kind = 'subscription'
                          AND j.subscription_id = s.id AND j.router_id = r.id
                   )
                 ORDER BY s.id, r.id
                RETURNING id, next_attempt
                """,
                reason=reason,
                now=now,
                uid=self.env.uid,
                subscriptions=subscriptions.ids,
                router_filter=router_filter,
            )
        )
        rows = self.env.cr.fetchall()
        if not rows:
            return self.browse()
        self.env["isp.router"].invalidate_model(["job_ids"])
        self._queue_cron()._trigger(min(next_attempt for _id, next_attempt in rows))
        return self.browse([job_id for job_id, _next in rows])

    @api.model
    def _enqueue_full(self, routers, reason="periodic", now=False):
        """Queue a full reconciliation of each router (unless one is pending already)."""
        pending = self.search(
            [("state", "=", "pending"), ("kind", "=", "full"), ("router_id", "in", routers.ids)]
        )
        moment = fields.Datetime.now()
        if now:
            pending.write({"next_attempt": moment})
        vals_list = [
            {
                "router_id": router.id,
                "kind": "full",
                "reason": reason,
                "next_attempt": moment if now else max(moment, router.next_retry or moment),
            }
            for router in routers - pending.router_id
        ]
        jobs = self.create(vals_list)
        if jobs or (now and pending):
            self._queue_cron()._trigger(min((jobs | pending).mapped("next_attempt")))
        return jobs

    @api.model
    def _cron_schedule_full_sync(self):
        """Periodic reconciliation: every active router gets a full sync queued."""
        self._enqueue_full(self.env["isp.router"].search([]), reason="periodic")
        return True

    # ------------------------------------------------------------------ processing

    @api.model
    def _cron_process_queue(self):
        """Process due jobs router by router, each committed on its own: a failing or slow
        router never blocks the others (time box, least recently served first)."""
        cron = self.env["ir.cron"]
        now = fields.Datetime.now()
        due = self.search([("state", "=", "pending"), ("next_attempt", "<=", now)])
        routers = due.router_id.filtered("active").sorted(
            lambda r: (r.last_sync_attempt or fields.Datetime.from_string("1970-01-01"), r.id)
        )
        remaining = len(routers)
        for router in routers:
            remaining -= 1
            if not router.try_lock_for_update(allow_referencing=True):
                continue  # another worker is syncing it
            jobs = due.filtered(lambda job, r=router: job.router_id == r)
            unfinished = router._process_jobs(jobs)
            if not cron._commit_progress(len(jobs), remaining=remaining + unfinished):
                break
        self._schedule_next_run()
        return True

    @api.model
    def _schedule_next_run(self):
        later = self.search(
            [("state", "=", "pending"), ("next_attempt", ">", fields.Datetime.now())],
            order="next_attempt",
            limit=1,
        )
        if later:
            self._queue_cron()._trigger(later.next_attempt)

    def _mark_done(self, writes=0):
        self.write(
            {
                "state": "done",
                "date_done": fields.Datetime.now(),
                "last_error": False,
                "writes": writes,
            }
        )

    def _mark_failed(self, message):
        now = fields.Datetime.now()
        for job in self:
            attempts = job.attempts + 1
            job.write(
                {
                    "attempts": attempts,
                    "last_error": message,
                    "next_attempt": now + timedelta(seconds=backoff_seconds(attempts)),
                }
            )

    @api.autovacuum
    def _gc_done_jobs(self, limit=GC_UNLINK_LIMIT):
        """Delete a batch of jobs done more than a week ago; returns (deleted, whether more
        are left) for ir.autovacuum to call again."""
        before = fields.Datetime.now() - timedelta(days=DONE_JOBS_KEPT_DAYS)
        jobs = self.search([("state", "=", "done"), ("date_done", "<", before)], limit=limit)
        jobs.unlink()
        return len(jobs), len(jobs) == limit


class IspRouter(models.Model):
    _inherit = "isp.router"

    def _process_jobs(self, jobs, force=False):
        """Run ``jobs`` (this router's due jobs) in one connection, unless the router is in
        its backoff (``force``: even then, the operator asked). Returns 1 when work is left
        for another turn (time box), else 0."""
        self.ensure_one()
        now = fields.Datetime.now()
        self.last_sync_attempt = now
        if not force and self.next_retry and self.next_retry > now:
            jobs.write({"next_attempt": self.next_retry})
            return 0
        deadline = time.monotonic() + ROUTER_TIME_BOX_SECONDS
        full = jobs.filtered(lambda j: j.kind == "full")
        targeted = jobs - full
        Reconciler = self.env["isp.router.reconciler"]
        try:
            with self.env.cr.savepoint(), self._api_client(deadline=deadline) as client:
                status = self._read_status(client)
                if full:
                    result = Reconciler._sync(self, client)
                else:
                    result = Reconciler._sync(self, client, targeted.subscription_id.sudo())
        except routeros.TimeBoxExceeded:
            _logger.info("Router %s: time box reached, the rest waits for its next turn", self.id)
            jobs.write({"next_attempt": fields.Datetime.now()})
            return 1
        except (TrapError, routeros.RouterError, LibRouterosError, OSError) as exc:
            self._jobs_failed(jobs, exc)
            return 0
        self._record_success(status)
        self._finish_jobs(jobs, full, result)
        return 0

    def _jobs_failed(self, jobs, exc):
        """``jobs`` could not run on this router: a command refused (TrapError: the router
        answers, its state is unchanged) or the router unreachable (its failure and backoff
        recorded). The jobs are failed with the reason and the sync recorded as failed."""
        if isinstance(exc, TrapError):
            message = self.env._("The router refused a command: %(reason)s", reason=str(exc))
        else:
            self._record_failure(exc)
            message = self.status_message
        jobs._mark_failed(message)
        self._record_sync(False, message)

    def _finish_jobs(self, jobs, full, result):
        failed_ids = set(result.errors)
        if full:
            # A full pass covers every pending job of this router queued before it started.
            covered = self.env["isp.router.job"].search(
                [
                    ("router_id", "=", self.id),
                    ("state", "=", "pending"),
                    ("id", "<=", max(jobs.ids)),
                    ("subscription_id", "not in", list(failed_ids)),
                ]
            )
            (covered | full)._mark_done(result.writes)
            retry = self.env["isp.subscription"].browse(
                [sid for sid in failed_ids if isinstance(sid, int)]
            )
            Job = self.env["isp.router.job"]
            Job._enqueue(retry, reason="retry", routers=self)
            failing = Job.search(
                [
                    ("router_id", "=", self.id),
                    ("state", "=", "pending"),
                    ("subscription_id", "in", retry.ids),
                ]
            )
            for job in failing:
                job._mark_failed(result.errors[job.subscription_id.id])
            self.write({"last_sync": fields.Datetime.now(), "last_sync_writes": result.writes})
        else:
            for job in jobs:
                error = result.errors.get(job.subscription_id.id)
                if error:
                    job._mark_failed(error)
                else:
                    job._mark_done(result.writes)
        self._record_sync(not result.errors, "\n".join(result.errors.values()))

    def _record_sync(self, ok, message):
        self.write({"sync_state": "ok" if ok else "error", "sync_message": message or False})
