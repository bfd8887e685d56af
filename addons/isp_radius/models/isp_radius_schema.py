"""The tables FreeRADIUS writes (radacct, radpostauth), the views it reads and the read-limited
database role it connects as."""

import base64
import hashlib
import hmac
import logging
import re
import secrets

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# FreeRADIUS 3.2's own PostgreSQL schema (raddb/mods-config/sql/main/postgresql/schema.sql) for
# the two tables it writes, so its stock accounting and post-auth queries work unchanged.
# They are not Odoo models: FreeRADIUS owns their rows; Odoo reads them in batches
# (isp.radius.session, isp.radius.postauth) and closes stale sessions.
FREERADIUS_TABLES = """
CREATE TABLE IF NOT EXISTS radacct (
    radacctid           bigserial PRIMARY KEY,
    acctsessionid       text NOT NULL,
    acctuniqueid        text NOT NULL UNIQUE,
    username            text,
    realm               text,
    nasipaddress        inet NOT NULL,
    nasportid           text,
    nasporttype         text,
    acctstarttime       timestamp with time zone,
    acctupdatetime      timestamp with time zone,
    acctstoptime        timestamp with time zone,
    acctinterval        bigint,
    acctsessiontime     bigint,
    acctauthentic       text,
    connectinfo_start   text,
    connectinfo_stop    text,
    acctinputoctets     bigint,
    acctoutputoctets    bigint,
    calledstationid     text,
    callingstationid    text,
    acctterminatecause  text,
    servicetype         text,
    framedprotocol      text,
    framedipaddress     inet,
    framedipv6address   inet,
    framedipv6prefix    inet,
    framedinterfaceid   text,
    delegatedipv6prefix inet,
    class               text
);
CREATE INDEX IF NOT EXISTS radacct_active_session_idx ON radacct (acctuniqueid)
    WHERE acctstoptime IS NULL;
CREATE INDEX IF NOT EXISTS radacct_bulk_close ON radacct (nasipaddress, acctstarttime)
    WHERE acctstoptime IS NULL;
CREATE INDEX IF NOT EXISTS radacct_start_user_idx ON radacct (acctstarttime, username);
-- Simultaneous-Use: a user's open sessions, at every Access-Request (not in FreeRADIUS's schema)
CREATE INDEX IF NOT EXISTS radacct_open_username_idx ON radacct (username)
    WHERE acctstoptime IS NULL;
CREATE INDEX IF NOT EXISTS radacct_class_idx ON radacct (class);
CREATE TABLE IF NOT EXISTS radpostauth (
    id                  bigserial PRIMARY KEY,
    username            text NOT NULL,
    pass                text,
    reply               text,
    calledstationid     text,
    callingstationid    text,
    authdate            timestamp with time zone NOT NULL DEFAULT now(),
    class               text,
    -- not in FreeRADIUS's schema: the NAS that asked (the suite's post-auth query fills it
    -- with Packet-Src-IP-Address), so a rejection is logged under the NAS's company
    nasipaddress        inet
);
CREATE INDEX IF NOT EXISTS radpostauth_username_idx ON radpostauth (username);
CREATE INDEX IF NOT EXISTS radpostauth_class_idx ON radpostauth (class);
"""


# What FreeRADIUS reads: SQL views over Odoo's own tables, computed at query time, so an
# Access-Request sees the subscription as it is committed at that instant (a payment that
# commits is online at once; an expiry needs no sweep: date_expiry is compared with now()).
# Odoo stores datetimes as UTC timestamps without zone: "now" is taken in UTC whatever the
# TimeZone of FreeRADIUS's connection.
#
# isp_radius_nas_v: the NAS that count (active), by the address their packets come from.
# isp_radius_user_v: one row per (subscription, NAS of its company serving its service) that
#   may be accepted: paid (active, not past expiry) and under its data cap or on a fair-use
#   bundle; or expired (or active past expiry) on a NAS that lets unpaid customers reach the
#   captive page. Nothing else: suspended, cancelled, draft, capped out, unknown → no row.
# isp_radius_radcheck / isp_radius_radreply: those rows as FreeRADIUS's attribute rows
#   (id, username, attribute, op, value) plus the keys the queries filter on (nasaddress,
#   service).
#
# isp_radius_check(login, nas address, service) / isp_radius_reply(...) /
#   isp_radius_open_sessions(...): what FreeRADIUS's queries call. The first two read the
#   views above, the third radacct and the NAS view, nothing else; they only exist for speed:
#   the views cost ~2 ms to PLAN and ~0.1 ms to run, and FreeRADIUS sends text queries (no
#   prepared statements); a PL/pgSQL function keeps its plan for the connection
#   (plan_cache_mode = force_generic_plan), so each pooled connection plans once
#   (bench/bench_radius_auth.py). SECURITY DEFINER: they run with the views' owner's
#   rights, as a view would; EXECUTE is the FreeRADIUS role's only (not PUBLIC's). Their
#   search_path is pg_catalog's only and their tables are schema-qualified: Odoo lets PUBLIC
#   create objects in schema public, and none may stand in for an operator or a function
#   they call with their owner's rights.
UNPAID_SESSION_TIMEOUT = 900
INTERIM_INTERVAL = 300
VIEW_NAMES = ("isp_radius_nas_v", "isp_radius_user_v", "isp_radius_radcheck", "isp_radius_radreply")
FUNCTION_NAMES = ("isp_radius_check", "isp_radius_reply", "isp_radius_open_sessions")


def _attribute_function(name, view):
    return f"""
CREATE OR REPLACE FUNCTION {name}(p_username text, p_nasaddress text, p_service text)
RETURNS TABLE (id bigint, username text, attribute text, value text, op text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $fn$
BEGIN
    RETURN QUERY
    SELECT v.id::bigint, v.username::text, v.attribute::text, v.value::text, v.op::text
      FROM public.{view} v
     WHERE v.username = p_username AND v.nasaddress = p_nasaddress AND v.service = p_service
     ORDER BY v.id;
END
$fn$;
REVOKE ALL ON FUNCTION {name}(text, text, text) FROM PUBLIC;
"""


def _rate_text(column):
    """RouterOS rate text of kbit/s (isp_mikrotik's rate_text): '0', '512k' or '2M'."""
    return (
        f"CASE WHEN {column} <= 0 THEN '0' WHEN {column} % 1024 = 0 "
        f"THEN ({column} / 1024)::text || 'M' ELSE {column}::text || 'k' END"
    )


VIEWS_SQL = (
    f"""
CREATE OR REPLACE VIEW isp_radius_nas_v AS
SELECT n.id AS nas_id, n.address AS nasaddress, n.company_id, n.nas_type,
       n.service_hotspot, n.service_pppoe, n.framed_pool,
       n.unpaid_access, n.unpaid_address_list, n.unpaid_pool
  FROM isp_radius_nas n
 WHERE n.active;

CREATE OR REPLACE VIEW isp_radius_user_v AS
SELECT s.id AS subscription_id, s.company_id, n.nasaddress, n.nas_type,
       s.service_type AS service, s.login AS username, s.password, a.access,
       COALESCE(NULLIF(pt.isp_device_limit, 0), NULLIF(co.isp_default_device_limit, 0), 1)
           AS device_limit,
       v.session_timeout, v.upload_kbps, v.download_kbps, v.bytes_left, v.address_list,
       v.framed_ip, v.framed_pool
  FROM isp_subscription s
  JOIN isp_radius_nas_v n
    ON n.company_id = s.company_id
   AND CASE s.service_type WHEN 'pppoe' THEN n.service_pppoe ELSE n.service_hotspot END
  JOIN res_company co ON co.id = s.company_id
  JOIN product_product pp ON pp.id = s.bundle_id
  JOIN product_template pt ON pt.id = pp.product_tmpl_id
  -- "OFFSET 0": computed once per row and referred to by name (not copied into every
  -- expression that uses it: the views would be slow to plan and to run)
 CROSS JOIN LATERAL (
    SELECT CASE
             WHEN s.state = 'active' AND s.date_expiry > (now() AT TIME ZONE 'UTC') THEN
               CASE WHEN COALESCE(s.data_cap_mb, 0) = 0
                         OR COALESCE(s.data_used_mb, 0) < s.data_cap_mb THEN 'full'
                    WHEN COALESCE(pt.isp_fair_use_download_kbps, 0) > 0 THEN 'fair_use'
               END
             WHEN n.unpaid_access AND s.state IN ('expired', 'active') THEN 'unpaid'
           END AS access
    OFFSET 0
 ) a
 CROSS JOIN LATERAL (
    SELECT CASE WHEN a.access = 'unpaid' THEN {UNPAID_SESSION_TIMEOUT}
                ELSE GREATEST(FLOOR(EXTRACT(EPOCH FROM
                         (s.date_expiry - (now() AT TIME ZONE 'UTC')))), 1)::bigint
           END AS session_timeout,
           CASE WHEN a.access = 'full' THEN pt.isp_upload_kbps
                WHEN a.access = 'fair_use'
                THEN COALESCE(NULLIF(pt.isp_fair_use_upload_kbps, 0),
                              pt.isp_fair_use_download_kbps)
           END AS upload_kbps,
           CASE WHEN a.access = 'full' THEN pt.isp_download_kbps
                WHEN a.access = 'fair_use' THEN pt.isp_fair_use_download_kbps
           END AS download_kbps,
           CASE WHEN a.access = 'full' AND s.data_cap_mb > 0
                THEN FLOOR((s.data_cap_mb - COALESCE(s.data_used_mb, 0)) * 1048576)::bigint
           END AS bytes_left,
           CASE WHEN a.access = 'unpaid' THEN n.unpaid_address_list END AS address_list,
           CASE WHEN s.service_type = 'pppoe' AND a.access <> 'unpaid'
                THEN s.radius_framed_ip END AS framed_ip,
           CASE WHEN a.access = 'unpaid' THEN NULLIF(n.unpaid_pool, '')
                WHEN s.service_type = 'pppoe' AND s.radius_framed_ip IS NULL
                THEN COALESCE(NULLIF(s.radius_framed_pool, ''), NULLIF(n.framed_pool, ''))
           END AS framed_pool
    OFFSET 0
 ) v
 WHERE s.login IS NOT NULL
   AND COALESCE(s.password, '') <> ''
   AND s.state IN ('active', 'expired')
   AND a.access IS NOT NULL;

CREATE OR REPLACE VIEW isp_radius_radcheck AS
SELECT u.subscription_id * 4 + a.n AS id, u.nasaddress, u.service, u.username,
       a.attribute, a.op, a.value
  FROM isp_radius_user_v u
 CROSS JOIN LATERAL (VALUES
       (0, 'Cleartext-Password', ':=', u.password),
       (1, 'Simultaneous-Use', ':=', u.device_limit::text)
 ) AS a (n, attribute, op, value);

CREATE OR REPLACE VIEW isp_radius_radreply AS
SELECT u.subscription_id * 16 + a.n AS id, u.nasaddress, u.service, u.username,
       a.attribute, ':='::text AS op, a.value
  FROM isp_radius_user_v u
 CROSS JOIN LATERAL (VALUES
       (0, 'Session-Timeout', u.session_timeout::text),
       (1, 'Acct-Interim-Interval', '{INTERIM_INTERVAL}'),
       (2, 'Mikrotik-Rate-Limit',
        CASE WHEN u.nas_type = 'mikrotik' AND (u.upload_kbps > 0 OR u.download_kbps > 0)
             THEN {_rate_text("u.upload_kbps")} || '/' || {_rate_text("u.download_kbps")} END),
       (3, 'WISPr-Bandwidth-Max-Up',
        CASE WHEN u.nas_type <> 'mikrotik' AND u.upload_kbps > 0
             THEN (u.upload_kbps::bigint * 1000)::text END),
       (4, 'WISPr-Bandwidth-Max-Down',
        CASE WHEN u.nas_type <> 'mikrotik' AND u.download_kbps > 0
             THEN (u.download_kbps::bigint * 1000)::text END),
       (5, 'Mikrotik-Total-Limit',
        CASE WHEN u.nas_type = 'mikrotik' THEN (u.bytes_left % 4294967296)::text END),
       (6, 'Mikrotik-Total-Limit-Gigawords',
        CASE WHEN u.nas_type = 'mikrotik' THEN (u.bytes_left / 4294967296)::text END),
       (7, 'Framed-IP-Address', u.framed_ip),
       (8, 'Framed-Pool', u.framed_pool),
       (9, 'Mikrotik-Address-List',
        CASE WHEN u.nas_type = 'mikrotik' THEN NULLIF(u.address_list, '') END)
 ) AS a (n, attribute, value)
 WHERE a.value IS NOT NULL;
"""
    + _attribute_function("isp_radius_check", "isp_radius_radcheck")
    + _attribute_function("isp_radius_reply", "isp_radius_radreply")
    + """
-- Simultaneous-Use: the login's open sessions of this service on the active NAS of the same
-- company as the NAS asking (a login is a company's and a service's, not global).
CREATE OR REPLACE FUNCTION isp_radius_open_sessions(
    p_username text, p_nasaddress text, p_service text)
RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $fn$
BEGIN
    RETURN (
        SELECT count(*)
          FROM public.radacct a
          JOIN public.isp_radius_nas_v n ON n.nasaddress::inet = a.nasipaddress
          JOIN public.isp_radius_nas_v asking ON asking.company_id = n.company_id
         WHERE asking.nasaddress = p_nasaddress
           AND a.username = p_username
           AND a.acctstoptime IS NULL
           AND (COALESCE(a.framedprotocol, '') = 'PPP') = (p_service = 'pppoe'));
END
$fn$;
REVOKE ALL ON FUNCTION isp_radius_open_sessions(text, text, text) FROM PUBLIC;
"""
)


ROLE_PASSWORD_PARAM = "isp_radius.db_password"


def scram_verifier(password, iterations=4096):
    """PostgreSQL's SCRAM-SHA-256 verifier of ``password``: what ALTER ROLE ... PASSWORD
    stores, so the clear password never goes through a query (nor a query log)."""
    salt = secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    b64 = base64.b64encode
    return (
        f"SCRAM-SHA-256${iterations}:{b64(salt).decode()}"
        f"${b64(stored_key).decode()}:{b64(server_key).decode()}"
    )


class IspRadiusSchema(models.AbstractModel):
    _name = "isp.radius.schema"
    _description = "FreeRADIUS tables and views"

    def init(self):
        self.env.cr.execute(FREERADIUS_TABLES)
        # the views need isp.subscription's RADIUS columns: isp.subscription's init makes
        # them (it runs after its _auto_init); on an update they exist already
        self.env.cr.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_name = 'isp_subscription' "
            "AND column_name = 'radius_framed_pool'"
        )
        if self.env.cr.fetchone():
            self._create_views()

    @api.model
    def _create_views(self):
        """(Re)make the views FreeRADIUS reads, and give the role its rights on them again."""
        try:
            with self.env.cr.savepoint():
                self.env.cr.execute(VIEWS_SQL)
        except Exception:  # noqa: BLE001 - a changed column list: CREATE OR REPLACE refuses
            _logger.info("FreeRADIUS views changed shape: dropping and creating them again")
            self.env.cr.execute(
                SQL(
                    "DROP VIEW IF EXISTS %s CASCADE",
                    SQL(", ").join(map(SQL.identifier, VIEW_NAMES)),
                )
            )
            for name in FUNCTION_NAMES:
                self.env.cr.execute(
                    SQL("DROP FUNCTION IF EXISTS %s(text, text, text)", SQL.identifier(name))
                )
            self.env.cr.execute(VIEWS_SQL)
        if self._db_role_exists():
            self._db_role_grant()

    # ------------------------------------------------------------------ database role

    @api.model
    def _db_role_name(self):
        """The role FreeRADIUS connects as: one per database (isp_radius_<database>)."""
        dbname = self.env.cr.dbname
        slug = re.sub(r"[^a-z0-9_]", "_", dbname.lower())
        if slug != dbname or len(slug) > 40:
            slug = f"{slug[:30]}_{hashlib.sha256(dbname.encode()).hexdigest()[:8]}"
        return f"isp_radius_{slug}"

    @api.model
    def _db_role_exists(self):
        self.env.cr.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [self._db_role_name()])
        return bool(self.env.cr.fetchone())

    @api.model
    def _db_role_grant(self):
        """CONNECT, the three views FreeRADIUS reads and the two tables it writes: nothing
        else. The views run with their owner's rights: the role reads no Odoo table."""
        role = SQL.identifier(self._db_role_name())
        cr = self.env.cr
        cr.execute(SQL("GRANT CONNECT ON DATABASE %s TO %s", SQL.identifier(cr.dbname), role))
        cr.execute(SQL("GRANT USAGE ON SCHEMA public TO %s", role))
        cr.execute(
            SQL(
                "GRANT SELECT ON isp_radius_nas_v, isp_radius_radcheck, isp_radius_radreply TO %s",
                role,
            )
        )
        cr.execute(
            SQL(
                "GRANT EXECUTE ON FUNCTION isp_radius_check(text, text, text), "
                "isp_radius_reply(text, text, text), "
                "isp_radius_open_sessions(text, text, text) TO %s",
                role,
            )
        )
        cr.execute(SQL("GRANT SELECT, INSERT, UPDATE ON radacct, radpostauth TO %s", role))
        cr.execute(
            SQL("GRANT USAGE ON SEQUENCE radacct_radacctid_seq, radpostauth_id_seq TO %s", role)
        )

    @api.model
    def _db_role_can_create(self):
        self.env.cr.execute(
            "SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user"
        )
        row = self.env.cr.fetchone()
        return bool(row and row[0])

    @api.model
    def _db_role_ensure(self):
        """The role's (name, clear password), created (or its password set) when needed.

        The password is random and kept encrypted (isp.secret.mixin) in a system parameter;
        one that cannot be decrypted (the key changed) is replaced. Needs CREATEROLE for the
        Odoo database user (scripts/setup.sh gives it) when the role is made or its password
        set: otherwise a UserError says what to run."""
        name = self._db_role_name()
        params = self.env["ir.config_parameter"].sudo()
        mixin = self.env["isp.secret.mixin"]
        exists = self._db_role_exists()
        password = self._db_role_password(raise_if_missing=False) if exists else None
        if password:
            self._db_role_grant()
            return name, password
        if not self._db_role_can_create():
            self.env.cr.execute("SELECT current_user")
            user = self.env.cr.fetchone()[0]
            raise UserError(
                self.env._(
                    "The database user Odoo connects as (%(user)s) may not create the "
                    "read-only role FreeRADIUS connects as. As a PostgreSQL superuser, run:\n"
                    "ALTER ROLE %(user)s CREATEROLE;\n"
                    "then try again (scripts/setup.sh does it when it can).",
                    user=user,
                )
            )
        password = secrets.token_urlsafe(24)
        verifier = scram_verifier(password)
        if exists:
            self.env.cr.execute(
                SQL("ALTER ROLE %s WITH LOGIN PASSWORD %s", SQL.identifier(name), verifier)
            )
        else:
            self.env.cr.execute(
                SQL(
                    "CREATE ROLE %s WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT "
                    "PASSWORD %s",
                    SQL.identifier(name),
                    verifier,
                )
            )
        params.set_param(ROLE_PASSWORD_PARAM, mixin._isp_encrypt(password))
        self._db_role_grant()
        _logger.info("FreeRADIUS database role %s %s", name, "reset" if exists else "created")
        return name, password

    @api.model
    def _db_role_password(self, raise_if_missing=True):
        """The role's clear password, as stored (encrypted); None or a UserError when there
        is none that the configured key can read."""
        token = self.env["ir.config_parameter"].sudo().get_param(ROLE_PASSWORD_PARAM)
        password = None
        if token:
            try:
                password = self.env["isp.secret.mixin"]._isp_decrypt(token)
            except UserError:
                password = None
        if not password and raise_if_missing:
            raise UserError(
                self.env._(
                    "The FreeRADIUS database password is not known to Odoo (never set, or the "
                    'credential key changed). Use "Set up database access" on a NAS to set a '
                    "new one, then download the FreeRADIUS configuration again."
                )
            )
        return password

    @api.model
    def _db_role_drop(self):
        """Drop the role (its rights on this database first). For benchmarks and tests."""
        if not self._db_role_exists():
            return
        role = SQL.identifier(self._db_role_name())
        cr = self.env.cr
        cr.execute(SQL("REVOKE ALL ON DATABASE %s FROM %s", SQL.identifier(cr.dbname), role))
        cr.execute(SQL("REVOKE ALL ON SCHEMA public FROM %s", role))
        cr.execute(
            SQL(
                "REVOKE ALL ON isp_radius_nas_v, isp_radius_radcheck, isp_radius_radreply, "
                "radacct, radpostauth, radacct_radacctid_seq, radpostauth_id_seq FROM %s",
                role,
            )
        )
        cr.execute(
            SQL(
                "REVOKE ALL ON FUNCTION isp_radius_check(text, text, text), "
                "isp_radius_reply(text, text, text), "
                "isp_radius_open_sessions(text, text, text) FROM %s",
                role,
            )
        )
        cr.execute(SQL("DROP ROLE %s", role))
        self.env["ir.config_parameter"].sudo().set_param(ROLE_PASSWORD_PARAM, False)
