"""Accounting tests' helpers: radacct and radpostauth written exactly as FreeRADIUS 3.2's stock
PostgreSQL queries write them (raddb/mods-config/sql/main/postgresql/queries.conf), and the
ingestion run as the cron runs it."""

from datetime import timedelta
from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo import fields
from odoo.tools import SQL, config

from odoo.addons.isp_billing.tests.common import IspBillingCase

MIB = 1024 * 1024

# queries.conf, accounting { type { start { query } } }: the first of the start queries,
# ON CONFLICT for a Start received twice
START = """
INSERT INTO radacct (AcctSessionId, AcctUniqueId, UserName, Realm, NASIPAddress, NASPortId,
    NASPortType, AcctStartTime, AcctUpdateTime, AcctStopTime, AcctSessionTime, AcctAuthentic,
    ConnectInfo_start, ConnectInfo_Stop, AcctInputOctets, AcctOutputOctets, CalledStationId,
    CallingStationId, AcctTerminateCause, ServiceType, FramedProtocol, FramedIpAddress,
    FramedIpv6Address, FramedIpv6Prefix, FramedInterfaceId, DelegatedIpv6Prefix)
VALUES (%(session_id)s, %(unique_id)s, %(login)s, NULLIF('', ''), %(nas)s, NULLIF('', ''),
    'Wireless-802.11', TO_TIMESTAMP(%(epoch)s), TO_TIMESTAMP(%(epoch)s), NULL, 0, 'RADIUS', '',
    NULL, 0, 0, 'hotspot1', %(mac)s, NULL, '', %(protocol)s, NULLIF(%(ip)s, '')::inet,
    NULLIF('', '')::inet, NULLIF('', '')::inet, NULLIF('', ''), NULLIF('', '')::inet)
ON CONFLICT (AcctUniqueId) DO UPDATE
SET AcctStartTime = TO_TIMESTAMP(%(epoch)s), AcctUpdateTime = TO_TIMESTAMP(%(epoch)s),
    ConnectInfo_start = ''
WHERE radacct.AcctUniqueId = %(unique_id)s AND radacct.AcctStopTime IS NULL
"""
# interim-update { query }: the first one, an UPDATE in place of the open row
INTERIM = """
UPDATE radacct
SET FramedIPAddress = NULLIF(%(ip)s, '')::inet, FramedIPv6Address = NULLIF('', '')::inet,
    FramedIPv6Prefix = NULLIF('', '')::inet, FramedInterfaceId = NULLIF('', ''),
    DelegatedIPv6Prefix = NULLIF('', '')::inet, AcctSessionTime = %(session_time)s,
    AcctInterval = (%(epoch)s - EXTRACT(EPOCH FROM (COALESCE(AcctUpdateTime, AcctStartTime)))),
    AcctUpdateTime = TO_TIMESTAMP(%(epoch)s),
    AcctInputOctets = ((%(in_giga)s::bigint << 32) + %(in_octets)s::bigint),
    AcctOutputOctets = ((%(out_giga)s::bigint << 32) + %(out_octets)s::bigint)
WHERE AcctUniqueId = %(unique_id)s AND AcctStopTime IS NULL
"""
# stop { query }: the first one, without "AcctStopTime IS NULL" (a Stop closes the row
# whatever happened to it)
STOP = """
UPDATE radacct
SET AcctStopTime = TO_TIMESTAMP(%(epoch)s), AcctUpdateTime = TO_TIMESTAMP(%(epoch)s),
    AcctSessionTime = COALESCE(%(session_time)s, (%(epoch)s - EXTRACT(EPOCH FROM(AcctStartTime)))),
    AcctInputOctets = ((%(in_giga)s::bigint << 32) + %(in_octets)s::bigint),
    AcctOutputOctets = ((%(out_giga)s::bigint << 32) + %(out_octets)s::bigint),
    AcctTerminateCause = %(cause)s, FramedIPAddress = NULLIF(%(ip)s, '')::inet,
    FramedIPv6Address = NULLIF('', '')::inet, FramedIPv6Prefix = NULLIF('', '')::inet,
    FramedInterfaceId = NULLIF('', ''), DelegatedIPv6Prefix = NULLIF('', '')::inet,
    ConnectInfo_stop = ''
WHERE AcctUniqueId = %(unique_id)s
"""
# post-auth { query } with the suite's extra columns (MAC and the NAS's address)
POSTAUTH = """
INSERT INTO radpostauth (username, pass, reply, callingstationid, authdate, nasipaddress)
VALUES (%(login)s, '', %(reply)s, %(mac)s, TO_TIMESTAMP(%(epoch)s), %(nas)s)
"""


class RadiusAccountingCase(IspBillingCase):
    """isp_billing's operator, a NAS, and a FreeRADIUS that writes radacct / radpostauth."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(
            patch.dict(config.options, {"isp_credential_key": Fernet.generate_key().decode()})
        )
        cls.nas = cls.env["isp.radius.nas"].create(
            {"name": "Tower A", "address": "10.255.0.1", "secret": "s3cret-a"}
        )
        cls.capped = cls._bundle("Daily 10 MB", 500, 1, "days", isp_data_cap_mb=10)
        cls.fair = cls._bundle(
            "Daily 10 MB fair",
            600,
            1,
            "days",
            isp_data_cap_mb=10,
            isp_download_kbps=4096,
            isp_upload_kbps=2048,
            isp_fair_use_download_kbps=256,
            isp_fair_use_upload_kbps=128,
        )
        cls.Session = cls.env["isp.radius.session"]
        cls.Accounting = cls.env["isp.radius.accounting"]
        cls.counter = 0

    # ------------------------------------------------------------------ data

    def _subscription(self, login, bundle=None, company=None, state="active", partner=None):
        company = company or self.company
        type(self).counter += 1
        partner = partner or self._customer(f"+25574{self.counter:07d}", company)
        subscription = (
            self.env["isp.subscription"]
            .with_company(company)
            .create(
                {
                    "partner_id": partner.id,
                    "bundle_id": (bundle or self.daily).id,
                    "company_id": company.id,
                }
            )
        )
        subscription.action_activate()
        subscription.login = login
        if state == "suspended":
            subscription.action_suspend()
        elif state == "expired":
            subscription.write({"state": "expired"})
        return subscription

    # ------------------------------------------------------------------ FreeRADIUS

    def _epoch(self, when=None):
        return int((when or fields.Datetime.now()).timestamp())

    def _start(self, login, mac="aa-bb-cc-00-00-01", ip="10.5.50.10", nas=None, ppp=False,
               when=None):  # fmt: skip
        """An Accounting-Request Start: returns its Acct-Unique-Session-Id."""
        type(self).counter += 1
        unique_id = f"u{self.counter:06d}-{login}"
        self.env.cr.execute(
            START,
            {
                "session_id": f"8100{self.counter:04d}",
                "unique_id": unique_id,
                "login": login,
                "nas": (nas or self.nas).address,
                "epoch": self._epoch(when),
                "mac": mac,
                "protocol": "PPP" if ppp else "",
                "ip": ip,
            },
        )
        return unique_id

    def _octets(self, value):
        return {"giga": value >> 32, "octets": value & 0xFFFFFFFF}

    def _counters(self, input_bytes, output_bytes):
        inp, out = self._octets(input_bytes), self._octets(output_bytes)
        return {
            "in_giga": inp["giga"],
            "in_octets": inp["octets"],
            "out_giga": out["giga"],
            "out_octets": out["octets"],
        }

    def _interim(self, unique_id, input_bytes, output_bytes, session_time=300, ip="10.5.50.10",
                 when=None):  # fmt: skip
        self.env.cr.execute(
            INTERIM,
            {
                "unique_id": unique_id,
                "epoch": self._epoch(when),
                "session_time": session_time,
                "ip": ip,
                **self._counters(input_bytes, output_bytes),
            },
        )
        return self.env.cr.rowcount

    def _stop(self, unique_id, input_bytes, output_bytes, session_time=600,
              cause="User-Request", ip="10.5.50.10", when=None):  # fmt: skip
        self.env.cr.execute(
            STOP,
            {
                "unique_id": unique_id,
                "epoch": self._epoch(when),
                "session_time": session_time,
                "cause": cause,
                "ip": ip,
                **self._counters(input_bytes, output_bytes),
            },
        )
        return self.env.cr.rowcount

    def _postauth(self, login, reply="Access-Reject", mac="AA:BB:CC:00:00:09", nas=None,
                  when=None):  # fmt: skip
        self.env.cr.execute(
            POSTAUTH,
            {
                "login": login,
                "reply": reply,
                "mac": mac,
                "epoch": self._epoch(when),
                "nas": (nas or self.nas).address,
            },
        )

    def _radacct(self, unique_id):
        self.env.cr.execute(
            SQL(
                """SELECT acctstoptime AT TIME ZONE 'UTC', acctterminatecause,
                          acctupdatetime AT TIME ZONE 'UTC'
                     FROM radacct WHERE acctuniqueid = %s""",
                unique_id,
            )
        )
        return self.env.cr.fetchone()

    # ------------------------------------------------------------------ Odoo

    def _run_cron(self, method, *args, seconds_left=60.0, **kwargs):
        """Run a cron method as the cron would, its commits recorded instead of done (a test
        cannot commit). Returns (the method's result, the progress reports)."""
        reports = []

        def commit_progress(cron, processed=0, *, remaining=None, deactivate=False):
            reports.append(processed)
            return seconds_left

        with patch.object(type(self.env["ir.cron"]), "_commit_progress", commit_progress):
            result = method(*args, **kwargs)
        return result, reports

    def _ingest(self, **kwargs):
        return self._run_cron(self.Accounting._ingest_accounting, **kwargs)[0]

    def _session(self, unique_id):
        return self.Session.search([("acctuniqueid", "=", unique_id)])

    def _ago(self, **delta):
        return fields.Datetime.now() - timedelta(**delta)
