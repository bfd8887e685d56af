"""RADIUS accounting into Odoo: FreeRADIUS's radacct rows read in batches into
isp.radius.session and the subscriptions' data use; stale sessions closed; data caps
enforced through Disconnect / CoA requests."""

import ipaddress
import logging
from collections import defaultdict

import psycopg2

from odoo import api, models
from odoo.tools import SQL

from odoo.addons.isp_billing.models.isp_device import normalize_mac

_logger = logging.getLogger(__name__)

BATCH_SIZE = 5000
MIB = 1024 * 1024
# what the stale-session close writes (isp_radius_accounting_usage)
STALE_CAUSE = "Stale-Session"

# radacct rows are updated in place (Start inserts, Interim-Update and Stop update the same
# row): a trigger stamps every insert and update with the next value of a sequence, the
# watermark the ingestion reads after. SECURITY DEFINER: FreeRADIUS's database role needs no
# right on the sequence.
ACCOUNTING_SQL = """
CREATE SEQUENCE IF NOT EXISTS radacct_odoo_seq;
ALTER TABLE radacct ADD COLUMN IF NOT EXISTS odoo_seq bigint;
CREATE OR REPLACE FUNCTION radacct_odoo_seq_stamp() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    NEW.odoo_seq := nextval('radacct_odoo_seq');
    RETURN NEW;
END
$$;
DROP TRIGGER IF EXISTS radacct_odoo_seq_stamp ON radacct;
CREATE TRIGGER radacct_odoo_seq_stamp BEFORE INSERT OR UPDATE ON radacct
    FOR EACH ROW EXECUTE FUNCTION radacct_odoo_seq_stamp();
UPDATE radacct SET odoo_seq = NULL WHERE odoo_seq IS NULL;
CREATE INDEX IF NOT EXISTS radacct_odoo_seq_idx ON radacct (odoo_seq);
CREATE TABLE IF NOT EXISTS isp_radius_watermark (
    name varchar PRIMARY KEY,
    value bigint NOT NULL DEFAULT 0
);
INSERT INTO isp_radius_watermark (name) VALUES ('radacct'), ('radpostauth')
    ON CONFLICT DO NOTHING;
"""

# the radacct columns read, timestamps as naive UTC (Odoo's Datetime)
RADACCT_COLUMNS = SQL(
    """r.radacctid, r.acctsessionid, r.acctuniqueid, r.username, host(r.nasipaddress),
    r.acctstarttime AT TIME ZONE 'UTC', r.acctupdatetime AT TIME ZONE 'UTC',
    r.acctstoptime AT TIME ZONE 'UTC', r.acctsessiontime,
    COALESCE(r.acctinputoctets, 0), COALESCE(r.acctoutputoctets, 0), r.callingstationid,
    r.acctterminatecause, r.framedprotocol, host(r.framedipaddress), r.odoo_seq"""
)
ROW_KEYS = (
    "radacct_id",
    "acctsessionid",
    "acctuniqueid",
    "login",
    "nas_address",
    "start",
    "last_update",
    "stop",
    "session_time",
    "input_octets",
    "output_octets",
    "mac",
    "terminate_cause",
    "framed_protocol",
    "ip",
    "seq",
)
# isp_radius_session columns the upsert writes: (name, PostgreSQL array type)
UPSERT_COLUMNS = [
    ("acctuniqueid", "varchar"),
    ("acctsessionid", "varchar"),
    ("radacct_id", "int4"),
    ("nas_id", "int4"),
    ("nas_address", "varchar"),
    ("company_id", "int4"),
    ("service", "varchar"),
    ("login", "varchar"),
    ("subscription_id", "int4"),
    ("partner_id", "int4"),
    ("mac", "varchar"),
    ("ip", "varchar"),
    ("start", "timestamp"),
    ("last_update", "timestamp"),
    ("stop", "timestamp"),
    ("session_time", "int4"),
    ("input_octets", "numeric"),
    ("output_octets", "numeric"),
    ("counted_octets", "numeric"),
    ("usage_octets", "numeric"),
    ("terminate_cause", "varchar"),
    ("state", "varchar"),
]
# on a known session: what a newer radacct row changes (never its customer nor company)
UPDATED_COLUMNS = [
    "radacct_id",
    "mac",
    "ip",
    "start",
    "last_update",
    "stop",
    "session_time",
    "input_octets",
    "output_octets",
    "counted_octets",
    "usage_octets",
    "terminate_cause",
    "state",
]


def canonical_ip(value):
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def count_delta(total, base, session_time, previous_time):
    """Bytes to add for a session whose counter (input + output) is ``total`` now and was
    ``base`` when last counted: (delta, new base). A counter going backwards is a reset (the
    NAS counts again from zero: all of ``total`` is new) when the session time went on, and
    otherwise an older update arriving late (FreeRADIUS writes what it receives, in the
    order received): nothing is added and the base stays."""
    if total >= base:
        return total - base, total
    if session_time is not None and previous_time is not None and session_time > previous_time:
        return total, total
    return 0, base


class IspRadiusAccounting(models.AbstractModel):
    _name = "isp.radius.accounting"
    _description = "RADIUS accounting ingestion"

    def init(self):
        # radacct is made by isp.radius.schema: make sure it exists whatever the order
        self.env["isp.radius.schema"].init()
        self.env.cr.execute(ACCOUNTING_SQL)

    # ------------------------------------------------------------------ entry points

    @api.model
    def _cron_ingest(self):
        """Every minute: stale sessions closed, accounting and rejections ingested."""
        self._close_stale_sessions()
        self.env["ir.cron"]._commit_progress(0)
        self._ingest_accounting()
        self.env["isp.radius.postauth"]._ingest_postauth()
        return True

    @api.model
    def _lock_watermark(self, name):
        """The watermark ``name``, locked for this transaction; None when another ingestion
        holds it (that one does the work). The lock makes ingestions exclusive: two at once
        would count the same bytes twice."""
        try:
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    SQL(
                        "SELECT value FROM isp_radius_watermark WHERE name = %s "
                        "FOR UPDATE SKIP LOCKED",
                        name,
                    )
                )
                row = self.env.cr.fetchone()
        except psycopg2.errors.SerializationFailure:
            # another ingestion moved it since this transaction began: this one's snapshot
            # cannot see what that one wrote, it must not read on
            return None
        return row[0] if row else None

    @api.model
    def _set_watermark(self, name, value):
        self.env.cr.execute(
            SQL("UPDATE isp_radius_watermark SET value = %s WHERE name = %s", value, name)
        )

    @api.model
    def _ingest_accounting(self, batch_size=BATCH_SIZE):
        """Read the radacct rows changed since the watermark, in batches committed one by
        one: sessions upserted, the bytes not counted yet added to the subscriptions, data
        caps enforced. Returns the number of rows read."""
        cron = self.env["ir.cron"]
        done = 0
        catch_up = True
        while True:
            watermark = self._lock_watermark("radacct")
            if watermark is None:
                break
            rows = self._fetch_changed(watermark, batch_size)
            if catch_up:
                catch_up = False
                rows = self._fetch_late(watermark) + rows
            if not rows:
                break
            self._ingest_rows(rows)
            self._set_watermark("radacct", max(watermark, *(row["seq"] for row in rows)))
            done += len(rows)
            if not cron._commit_progress(len(rows)) or len(rows) < batch_size:
                break
        return done

    # ------------------------------------------------------------------ reading radacct

    @api.model
    def _fetch(self, query):
        self.env.cr.execute(query)
        return [dict(zip(ROW_KEYS, values, strict=True)) for values in self.env.cr.fetchall()]

    @api.model
    def _fetch_changed(self, watermark, limit):
        return self._fetch(
            SQL(
                "SELECT %s FROM radacct r WHERE r.odoo_seq > %s ORDER BY r.odoo_seq LIMIT %s",
                RADACCT_COLUMNS,
                watermark,
                limit,
            )
        )

    @api.model
    def _fetch_late(self, watermark):
        """Rows of open sessions changed below the watermark: an update whose transaction
        took its stamp before, but committed after, the rows that moved the watermark (a
        concurrent FreeRADIUS connection). Their bytes or their Stop would otherwise wait
        for the session's next update, or be lost for a Stop."""
        return self._fetch(
            SQL(
                """SELECT %s FROM isp_radius_session s
                   JOIN radacct r ON r.acctuniqueid = s.acctuniqueid
                  WHERE s.state = 'open' AND r.odoo_seq <= %s
                    AND (r.acctstoptime IS NOT NULL
                         OR COALESCE(r.acctinputoctets, 0) + COALESCE(r.acctoutputoctets, 0)
                            <> s.input_octets + s.output_octets)""",
                RADACCT_COLUMNS,
                watermark,
            )
        )

    # ------------------------------------------------------------------ one batch

    @api.model
    def _ingest_rows(self, rows):
        """Upsert the sessions of ``rows`` (radacct rows as dicts), add the bytes not counted
        yet to their subscriptions, enforce data caps, refresh devices."""
        rows = list({row["acctuniqueid"]: row for row in rows}.values())
        nas_by_address = self._nas_by_address({row["nas_address"] for row in rows})
        known = self._known_sessions([row["acctuniqueid"] for row in rows])
        subscriptions = self._match_subscriptions(
            [
                row
                for row in rows
                if row["acctuniqueid"] not in known and nas_by_address.get(row["nas_address"])
            ],
            nas_by_address,
        )
        usage = defaultdict(int)
        values = []
        started = []
        unknown_nas = 0
        for row in rows:
            session = known.get(row["acctuniqueid"])
            nas = nas_by_address.get(row["nas_address"])
            if not session and not nas:
                unknown_nas += 1
                continue
            vals = self._session_values(row, session, nas, subscriptions)
            if vals["subscription_id"] and vals["usage_delta"]:
                usage[vals["subscription_id"]] += vals["usage_delta"]
            if vals["partner_id"] and vals["mac"] and (not session or vals["stop"]):
                started.append((vals["partner_id"], vals["mac"], vals["ip"], vals["last_update"]))
            values.append(vals)
        if unknown_nas:
            _logger.warning(
                "RADIUS accounting: %s session(s) from an address that is no NAS skipped",
                unknown_nas,
            )
        usage = self._carry_remainders(usage, values)
        self._upsert_sessions(values)
        self._apply_usage(usage)
        self._update_devices(started)
        return len(values)

    @api.model
    def _carry_remainders(self, usage, values):
        """Data use is kept in MB with 2 decimals: a delta is rounded when added, and many small
        ones (an idle phone's interims) would all round to nothing. What does not make a whole
        hundredth of a MB is given back to the subscription's open sessions of the batch
        (their ``counted_octets`` lowered by it), so the next update counts it again. Returns
        the bytes to add per subscription."""
        open_sessions = defaultdict(list)
        for vals in values:
            if vals["subscription_id"] and vals["usage_delta"] > 0 and vals["state"] == "open":
                open_sessions[vals["subscription_id"]].append(vals)
        result = {}
        for subscription_id, total in usage.items():
            # whole hundredths of a MB in integers (a float division would lose one)
            leftover = total - (total * 100 // MIB * MIB + 99) // 100
            for vals in sorted(
                open_sessions.get(subscription_id, []), key=lambda v: -v["usage_delta"]
            ):
                back = min(leftover, vals["usage_delta"])
                vals["counted_octets"] -= back
                vals["usage_octets"] -= back
                vals["usage_delta"] -= back
                total -= back
                leftover -= back
                if not leftover:
                    break
            result[subscription_id] = total
        return result

    @api.model
    def _nas_by_address(self, addresses):
        """{radacct address: isp.radius.nas} (archived ones too: their sessions go on)."""
        wanted = {canonical_ip(address): address for address in addresses if address}
        result = {}
        for nas in (
            self.env["isp.radius.nas"]
            .sudo()
            .with_context(active_test=False)
            .search([("address", "in", [a for a in wanted if a] + list(wanted.values()))])
        ):
            address = wanted.get(canonical_ip(nas.address))
            if address:
                result[address] = nas
        return result

    @api.model
    def _known_sessions(self, unique_ids):
        self.env["isp.radius.session"].flush_model()
        self.env.cr.execute(
            SQL(
                """SELECT acctuniqueid, id, subscription_id, partner_id, company_id, nas_id,
                          service, counted_octets, usage_octets, session_time
                     FROM isp_radius_session WHERE acctuniqueid = ANY(%s)""",
                unique_ids,
            )
        )
        keys = (
            "id",
            "subscription_id",
            "partner_id",
            "company_id",
            "nas_id",
            "service",
            "counted_octets",
            "usage_octets",
            "session_time",
        )
        return {
            values[0]: dict(zip(keys, values[1:], strict=True)) for values in self.env.cr.fetchall()
        }

    @api.model
    def _service(self, row):
        return "pppoe" if (row["framed_protocol"] or "").upper() == "PPP" else "hotspot"

    @api.model
    def _match_subscriptions(self, rows, nas_by_address):
        """{(company id, service, login): (subscription id, partner id)} for new sessions:
        a login is a customer's within the company of the NAS it connected to."""
        logins = defaultdict(set)
        for row in rows:
            if row["login"]:
                logins[nas_by_address[row["nas_address"]].company_id.id].add(row["login"])
        result = {}
        Subscription = self.env["isp.subscription"].sudo().with_context(active_test=False)
        for company_id, names in logins.items():
            for subscription in Subscription.search_fetch(
                [("company_id", "=", company_id), ("login", "in", list(names))],
                ["login", "service_type", "partner_id"],
            ):
                result[(company_id, subscription.service_type, subscription.login)] = (
                    subscription.id,
                    subscription.partner_id.id,
                )
        return result

    @api.model
    def _session_values(self, row, session, nas, subscriptions):
        total = int(row["input_octets"]) + int(row["output_octets"])
        if session:
            delta, base = count_delta(
                total, int(session["counted_octets"]), row["session_time"], session["session_time"]
            )
            subscription_id, partner_id = session["subscription_id"], session["partner_id"]
            ids = (session["nas_id"], session["company_id"], session["service"])
            usage = int(session["usage_octets"]) + delta
        else:
            delta = base = usage = total
            service = self._service(row)
            subscription_id, partner_id = subscriptions.get(
                (nas.company_id.id, service, row["login"]), (None, None)
            )
            ids = (nas.id, nas.company_id.id, service)
        if row["stop"]:
            state = "stale" if row["terminate_cause"] == STALE_CAUSE else "closed"
        else:
            state = "open"
        return {
            "acctuniqueid": row["acctuniqueid"],
            "acctsessionid": row["acctsessionid"],
            "radacct_id": row["radacct_id"],
            "nas_id": ids[0],
            "nas_address": row["nas_address"],
            "company_id": ids[1],
            "service": ids[2],
            "login": row["login"],
            "subscription_id": subscription_id,
            "partner_id": partner_id,
            "mac": normalize_mac(row["mac"]) or row["mac"] or None,
            "ip": row["ip"],
            "start": row["start"],
            "last_update": row["last_update"] or row["start"],
            "stop": row["stop"],
            "session_time": row["session_time"],
            "input_octets": int(row["input_octets"]),
            "output_octets": int(row["output_octets"]),
            "counted_octets": base,
            "usage_octets": usage if subscription_id else 0,
            "terminate_cause": row["terminate_cause"] or None,
            "state": state,
            "usage_delta": delta,
        }

    @api.model
    def _upsert_sessions(self, values):
        """One INSERT ... ON CONFLICT for the batch (arrays unnested): the sessions are a log
        Odoo writes, not records edited, so no ORM write per row."""
        if not values:
            return
        names = [name for name, _type in UPSERT_COLUMNS]
        arrays = [
            SQL("%s::" + sql_type + "[]", [vals[name] for vals in values])  # noqa: ISC003
            for name, sql_type in UPSERT_COLUMNS
        ]
        uid = self.env.uid
        self.env.cr.execute(
            SQL(
                """INSERT INTO isp_radius_session
                       (%(columns)s, create_uid, create_date, write_uid, write_date)
                   SELECT *, %(uid)s, now() AT TIME ZONE 'UTC', %(uid)s,
                          now() AT TIME ZONE 'UTC'
                     FROM unnest(%(arrays)s)
                   ON CONFLICT (acctuniqueid) DO UPDATE SET %(updates)s,
                          write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date""",
                columns=SQL(", ").join(SQL.identifier(name) for name in names),
                uid=uid,
                arrays=SQL(", ").join(arrays),
                updates=SQL(", ").join(
                    SQL("%s = EXCLUDED.%s", SQL.identifier(name), SQL.identifier(name))
                    for name in UPDATED_COLUMNS
                ),
            )
        )
        self.env["isp.radius.session"].invalidate_model()
