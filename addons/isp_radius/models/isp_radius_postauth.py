"""FreeRADIUS's radpostauth rejections into the access log, with the reason; retention of
the rows FreeRADIUS writes (radpostauth, closed radacct sessions)."""

import logging
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from odoo.addons.isp_billing.models.isp_device import normalize_mac

from .isp_radius_accounting import BATCH_SIZE, canonical_ip

_logger = logging.getLogger(__name__)

# Rows are read by id. Ids are taken at INSERT and rows committed a moment later, by several
# FreeRADIUS connections at once: a row is read once it is this old, so a smaller id still
# being committed is not jumped over (the watermark never goes back).
SETTLE_SECONDS = 5
PURGE_LIMIT = 5000


class IspRadiusPostauth(models.AbstractModel):
    _name = "isp.radius.postauth"
    _description = "RADIUS post-auth ingestion"

    @api.model
    def _ingest_postauth(self, batch_size=BATCH_SIZE, settle=SETTLE_SECONDS):
        """Read radpostauth rows after the watermark in committed batches: each
        Access-Reject becomes a denied entry of the access log (company of the NAS, the
        customer when the login is known, the MAC, the reason). Accepts are not logged: the
        accounting Start records each session. Returns the number of rows read."""
        Accounting = self.env["isp.radius.accounting"]
        cron = self.env["ir.cron"]
        done = 0
        while True:
            watermark = Accounting._lock_watermark("radpostauth")
            if watermark is None:
                break
            self.env.cr.execute(
                SQL(
                    """SELECT id, username, reply, callingstationid,
                              authdate AT TIME ZONE 'UTC', host(nasipaddress)
                         FROM radpostauth
                        WHERE id > %s AND authdate <= clock_timestamp() - make_interval(secs => %s)
                        ORDER BY id LIMIT %s""",
                    watermark,
                    settle,
                    batch_size,
                )
            )
            rows = self.env.cr.fetchall()
            if not rows:
                break
            self._log_rejections([row for row in rows if row[2] == "Access-Reject"])
            Accounting._set_watermark("radpostauth", rows[-1][0])
            done += len(rows)
            if not cron._commit_progress(len(rows)) or len(rows) < batch_size:
                break
        return done

    @api.model
    def _log_rejections(self, rows):
        """rows: (id, login, reply, MAC, date, NAS address)."""
        if not rows:
            return
        nas_by_address = self.env["isp.radius.accounting"]._nas_by_address({row[5] for row in rows})
        logins = defaultdict(set)
        for row in rows:
            nas = nas_by_address.get(row[5])
            if nas:
                logins[nas.company_id.id].add(row[1])
        Subscription = self.env["isp.subscription"].sudo()
        by_login = defaultdict(list)
        for company_id, names in logins.items():
            for subscription in Subscription.search(
                [("company_id", "=", company_id), ("login", "in", list(names))]
            ):
                by_login[(company_id, subscription.login)].append(subscription)
        open_sessions = self._open_sessions_at(rows, nas_by_address, by_login)
        vals_list = []
        skipped = 0
        for _id, login, _reply, mac, date, address in rows:
            nas = nas_by_address.get(address)
            if not nas:
                skipped += 1
                continue
            candidates = by_login.get((nas.company_id.id, login), [])
            subscription, reason, message = self._reject_reason(
                login, date, candidates, open_sessions
            )
            vals_list.append(
                {
                    "date": date,
                    "company_id": nas.company_id.id,
                    "result": "denied",
                    "reason": reason,
                    "message": message,
                    "partner_id": subscription.partner_id.id if subscription else False,
                    "mac": normalize_mac(mac) or mac or False,
                }
            )
        if skipped:
            _logger.warning("RADIUS post-auth: %s rejection(s) from no known NAS skipped", skipped)
        self.env["isp.access.log"].sudo().create(vals_list)

    @api.model
    def _open_sessions_at(self, rows, nas_by_address, by_login):
        """{subscription id: [(start, stop)]} of the RADIUS sessions of the active
        subscriptions rejected, to count those open at each rejection."""
        subscription_ids = {
            sub.id for subs in by_login.values() for sub in subs if sub.state == "active"
        }
        if not subscription_ids:
            return {}
        earliest = min(row[4] for row in rows)
        result = defaultdict(list)
        for session in (
            self.env["isp.radius.session"]
            .sudo()
            .search_fetch(
                [
                    ("subscription_id", "in", list(subscription_ids)),
                    ("start", "<=", max(row[4] for row in rows)),
                    "|",
                    ("stop", "=", False),
                    ("stop", ">", earliest),
                ],
                ["subscription_id", "start", "stop"],
            )
        ):
            result[session.subscription_id.id].append((session.start, session.stop))
        return result

    @api.model
    def _reject_reason(self, login, date, candidates, open_sessions):
        """Why FreeRADIUS refused ``login`` at ``date``: (subscription, reason, message)
        from the subscription's state now (the rejection is read within a minute)."""
        if not candidates:
            return (
                None,
                "unknown_customer",
                self.env._("Unknown login %(login)s", login=(login or "")[:64]),
            )
        # the login's subscription of either service: an active one first, else the latest
        subscription = sorted(
            candidates,
            key=lambda s: (s.state == "active", s.date_expiry or fields.Datetime.now(), s.id),
        )[-1]
        if subscription.state == "suspended":
            return subscription, "suspended", False
        if subscription.state == "expired" or (
            subscription.state == "active"
            and subscription.date_expiry
            and subscription.date_expiry <= date
        ):
            return subscription, "expired", False
        if subscription.state != "active":
            return subscription, "no_subscription", False
        if (
            subscription.data_cap_mb
            and subscription.data_used_mb >= subscription.data_cap_mb
            and not subscription.fair_use_active
        ):
            return subscription, "data_cap", False
        limit = subscription.partner_id._isp_effective_device_limit()
        online = sum(
            1
            for start, stop in open_sessions.get(subscription.id, [])
            if start and start <= date and (not stop or stop > date)
        )
        if limit and online >= limit:
            return (
                subscription,
                "device_limit",
                self.env._(
                    "%(count)s sessions open, the most allowed at once (%(limit)s)",
                    count=online,
                    limit=limit,
                ),
            )
        return subscription, "other", self.env._("Wrong password")

    # ------------------------------------------------------------------ retention

    @api.autovacuum
    def _gc_radius_rows(self, limit=PURGE_LIMIT):
        """Delete what FreeRADIUS wrote and Odoo has read, older than the access-log
        retention of the NAS's company: radpostauth rows (their rejections are in the
        access log, which has the same retention) and closed radacct rows (their sessions
        are isp.radius.session). Rows of no known NAS follow the longest retention."""
        cr = self.env.cr
        companies = self.env["res.company"].sudo().search([])
        if not companies:
            return 0
        now = fields.Datetime.now()
        nas_records = self.env["isp.radius.nas"].sudo().with_context(active_test=False).search([])
        longest = max(companies.mapped("isp_access_log_retention_days"))
        cr.execute(
            SQL(
                "SELECT name, value FROM isp_radius_watermark WHERE name IN %s",
                ("radacct", "radpostauth"),
            )
        )
        watermarks = dict(cr.fetchall())
        cutoffs = [
            (
                [canonical_ip(nas.address) for nas in nas_records if nas.company_id == company],
                now - timedelta(days=company.isp_access_log_retention_days),
            )
            for company in companies
        ]
        known = [canonical_ip(nas.address) for nas in nas_records]
        deleted = 0
        for addresses, cutoff in [*cutoffs, (None, now - timedelta(days=longest))]:
            if addresses is None:
                scope = SQL(
                    "(nasipaddress IS NULL OR NOT host(nasipaddress) = ANY(%s))", known or [""]
                )
            else:
                scope = SQL("host(nasipaddress) = ANY(%s)", addresses or [""])
            cr.execute(
                SQL(
                    """DELETE FROM radpostauth WHERE id IN (
                           SELECT id FROM radpostauth
                            WHERE id <= %s AND authdate < (%s::timestamp AT TIME ZONE 'UTC') AND %s
                            LIMIT %s)""",
                    watermarks.get("radpostauth", 0),
                    cutoff,
                    scope,
                    limit,
                )
            )
            deleted += cr.rowcount
            cr.execute(
                SQL(
                    """DELETE FROM radacct WHERE radacctid IN (
                           SELECT radacctid FROM radacct
                            WHERE odoo_seq <= %s
                              AND acctstoptime < (%s::timestamp AT TIME ZONE 'UTC') AND %s
                            LIMIT %s)""",
                    watermarks.get("radacct", 0),
                    cutoff,
                    scope,
                    limit,
                )
            )
            deleted += cr.rowcount
        return deleted
