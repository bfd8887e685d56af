"""Disconnect / CoA tests' helpers: a NAS (isp.radius.nas) whose dynamic authorization server
is a real UDP listener (nas_listener.NasListener) on a loopback address of its own, sessions
started in radacct as FreeRADIUS's stock Start query writes them, and the sender cron run as
the cron runs it."""

import itertools
import random
import time
from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo import fields
from odoo.tools import SQL, config

from odoo.addons.isp_billing.tests.common import IspBillingCase

from .nas_listener import NasListener

SECRET = "k3ep-it-s3cret"
# FreeRADIUS 3.2 queries.conf, accounting { start { query } } (stock PostgreSQL)
START = """
INSERT INTO radacct (AcctSessionId, AcctUniqueId, UserName, Realm, NASIPAddress, NASPortId,
    NASPortType, AcctStartTime, AcctUpdateTime, AcctStopTime, AcctSessionTime, AcctAuthentic,
    ConnectInfo_start, ConnectInfo_Stop, AcctInputOctets, AcctOutputOctets, CalledStationId,
    CallingStationId, AcctTerminateCause, ServiceType, FramedProtocol, FramedIpAddress,
    FramedIpv6Address, FramedIpv6Prefix, FramedInterfaceId, DelegatedIpv6Prefix)
VALUES (%(session_id)s, %(unique_id)s, %(login)s, NULLIF('', ''), %(nas)s, NULLIF('', ''),
    %(port_type)s, TO_TIMESTAMP(%(epoch)s), TO_TIMESTAMP(%(epoch)s), NULL, 0, 'RADIUS', '',
    NULL, 0, 0, 'hotspot1', %(mac)s, NULL, %(service)s, %(protocol)s,
    NULLIF(%(ip)s, '')::inet, NULLIF('', '')::inet, NULLIF('', '')::inet, NULLIF('', ''),
    NULLIF('', '')::inet)
RETURNING radacctid
"""
_session_numbers = itertools.count(0x81000001)


def loopback_address():
    """A loopback address of its own for a test's NAS (NAS addresses are unique in the
    database; Linux answers on all of 127.0.0.0/8)."""
    return f"127.{random.randint(1, 254)}.{random.randint(0, 254)}.{random.randint(2, 254)}"


class CoaCase(IspBillingCase):
    """isp_billing's operator; a MikroTik NAS (``self.nas``) whose CoA port is a strict
    listener (``self.listener``); hotspot bundles with rates."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(
            patch.dict(config.options, {"isp_credential_key": Fernet.generate_key().decode()})
        )
        cls.daily.product_tmpl_id.write({"isp_upload_kbps": 512, "isp_download_kbps": 2048})
        cls.weekly.product_tmpl_id.write({"isp_upload_kbps": 1024, "isp_download_kbps": 4096})
        cls.fair = cls._bundle(
            "Daily 100 MB fair use",
            800,
            1,
            "days",
            isp_data_cap_mb=100,
            isp_upload_kbps=2048,
            isp_download_kbps=8192,
            isp_fair_use_upload_kbps=256,
            isp_fair_use_download_kbps=512,
        )
        cls.Request = cls.env["isp.radius.request"]
        cls.cron = cls.env.ref("isp_radius.ir_cron_isp_radius_request_send")

    def setUp(self):
        super().setUp()
        self.listener = self._listener()
        self.nas = self._nas(self.listener)

    def _listener(self, secret=SECRET, address=None):
        listener = NasListener(secret, host=address or loopback_address()).start()
        self.addCleanup(listener.stop)
        return listener

    def _nas(self, listener, name="Tower A", **vals):
        return self.env["isp.radius.nas"].create(
            {
                "name": name,
                "address": listener.host,
                "coa_port": listener.port,
                "secret": SECRET,
                "nas_type": "mikrotik",
                "service_hotspot": True,
                "service_pppoe": True,
                **vals,
            }
        )

    def _subscription(self, phone, bundle=None, activate=True, partner=None):
        partner = partner or self._customer(phone)
        subscription = self.env["isp.subscription"].create(
            {"partner_id": partner.id, "bundle_id": (bundle or self.daily).id}
        )
        if activate:
            subscription.action_activate()
        return subscription

    def _start(self, subscription, nas=None, mac="AA:BB:CC:DD:EE:01", ip="10.5.0.10", known=True):
        """A session Start of the subscription's login written by FreeRADIUS; the listener
        of ``nas`` has the session (``known``). Returns (radacctid, Acct-Session-Id)."""
        nas = nas or self.nas
        session_id = f"{next(_session_numbers):08x}"
        ppp = subscription.service_type == "pppoe"
        self.env.cr.execute(
            SQL(
                START,
                session_id=session_id,
                unique_id=f"{nas.address}-{session_id}",
                login=subscription.login,
                nas=nas.address,
                port_type="Virtual" if ppp else "Wireless-802.11",
                epoch=int(time.time()) - 60,
                mac=mac,
                service="Framed-User" if ppp else "Login-User",
                protocol="PPP" if ppp else "",
                ip=ip,
            )
        )
        radacct_id = self.env.cr.fetchone()[0]
        if known and nas == self.nas:
            self.listener.add_session(subscription.login, session_id)
        return radacct_id, session_id

    def _stop(self, radacct_id):
        self.env.cr.execute(
            SQL(
                "UPDATE radacct SET acctstoptime = now(), acctterminatecause = 'User-Request' "
                "WHERE radacctid = %s",
                radacct_id,
            )
        )

    def _send(self, timeout=0.3, seconds_left=60.0):
        """Run the sender as the cron does, its commits recorded instead of done. Returns
        the (processed, remaining) progress reports."""
        reports = []

        def commit_progress(cron, processed=0, *, remaining=None, deactivate=False):
            reports.append((processed, remaining))
            return seconds_left

        with patch.object(type(self.env["ir.cron"]), "_commit_progress", commit_progress):
            self.Request._cron_send(timeout=timeout)
        self.env.invalidate_all()
        return reports

    def _requests(self, subscription=None, **domain):
        terms = [(name, "=", value) for name, value in domain.items()]
        if subscription:
            terms.append(("subscription_id", "=", subscription.id))
        return self.Request.search(terms, order="id")

    def _make_due(self, requests):
        """As if their backoff had passed."""
        requests.flush_recordset()
        self.env.cr.execute(
            SQL(
                "UPDATE isp_radius_request SET next_attempt = %s WHERE id = ANY(%s)",
                fields.Datetime.now(),
                requests.ids,
            )
        )
        requests.invalidate_recordset()

    def _triggers(self):
        return self.env["ir.cron.trigger"].search([("cron_id", "=", self.cron.id)])

    @staticmethod
    def _attrs(received):
        """A received request's attributes, one value each."""
        return {name: values[0] for name, values in received["attributes"].items()}
