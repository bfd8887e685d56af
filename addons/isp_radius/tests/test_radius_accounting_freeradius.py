"""Accounting end to end: a NAS (pyrad) sends Accounting-Request Start / Interim-Update / Stop
to a real FreeRADIUS running the module's generated configuration; FreeRADIUS writes radacct
with its own queries; Odoo's ingestion turns it into sessions and data use."""

import threading

from odoo.tests import tagged

from .common import RadiusCase

MIB = 1024 * 1024


@tagged("post_install", "-at_install")
class TestAccountingThroughFreeRadius(RadiusCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.addClassCleanup(cls._cleanup_sessions)

    @classmethod
    def _cleanup_sessions(cls):
        with cls.committed() as env:
            env["isp.radius.session"].search([("nas_address", "in", cls._nas_addresses)]).unlink()
            env["isp.access.log"].search(
                [("partner_id", "in", cls._created["res.partner"])]
            ).unlink()

    def _ingest(self):
        with self.committed() as env:
            env["isp.radius.accounting"]._ingest_accounting()
            env["isp.radius.postauth"]._ingest_postauth(settle=0)

    def _state(self, sub_id, session_id):
        with self.committed() as env:
            sub = env["isp.subscription"].browse(sub_id)
            session = env["isp.radius.session"].search(
                [("acctsessionid", "=", session_id), ("nas_id", "=", self.nas_a["id"])]
            )
            return sub.data_used_mb, session.state, session.mac, session.ip, len(session)

    def _account(self, status, sub, session_id, octets_in=0, octets_out=0, seconds=0, **attrs):
        attrs.update(
            {
                "Calling-Station-Id": "AA-BB-CC-00-7E-01",
                "Framed-IP-Address": "10.5.50.77",
                "Acct-Input-Octets": octets_in,
                "Acct-Output-Octets": octets_out,
                "Acct-Session-Time": seconds,
            }
        )
        reply = self.nas_a_client.accounting(status, sub["login"], session_id, **attrs)
        self.assertEqual(reply.code, "accounting-response", self.server.tail(60))

    def test_start_interim_stop_reach_the_usage(self):
        sub = self.make_subscription(self.bundle_day)
        self._account("Start", sub, "e2e-1")
        self._ingest()
        used, state, mac, ip, count = self._state(sub["id"], "e2e-1")
        self.assertEqual(
            (used, state, mac, ip, count), (0.0, "open", "AA:BB:CC:00:7E:01", "10.5.50.77", 1)
        )

        self._account("Interim-Update", sub, "e2e-1", 3 * MIB, MIB, 300)
        self._ingest()
        self.assertAlmostEqual(self._state(sub["id"], "e2e-1")[0], 4.0)
        # the NAS repeats the Interim-Update (no answer came back): nothing more
        self._account("Interim-Update", sub, "e2e-1", 3 * MIB, MIB, 300)
        self._ingest()
        self._ingest()
        self.assertAlmostEqual(self._state(sub["id"], "e2e-1")[0], 4.0)

        self._account(
            "Stop", sub, "e2e-1", 5 * MIB, MIB, 600, **{"Acct-Terminate-Cause": "User-Request"}
        )
        self._ingest()
        used, state, *_rest = self._state(sub["id"], "e2e-1")
        self.assertAlmostEqual(used, 6.0)
        self.assertEqual(state, "closed")

    def test_concurrent_ingestions_count_once(self):
        """Two ingestions at once (a cron and a manual run, two cron workers): the bytes of
        an Interim-Update are added once."""
        sub = self.make_subscription(self.bundle_day)
        self._account("Start", sub, "e2e-2")
        self._ingest()
        self._account("Interim-Update", sub, "e2e-2", 7 * MIB, MIB, 300)
        barrier = threading.Barrier(2)
        results = []

        def worker():
            with self.committed() as env:
                env.cr.execute("SELECT 1")  # the transaction's snapshot, before the barrier
                barrier.wait(timeout=30)
                results.append(env["isp.radius.accounting"]._ingest_accounting())

        threads = [threading.Thread(target=worker) for _i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        self.assertEqual(len(results), 2, "both ingestions ended without an error")
        self.assertAlmostEqual(self._state(sub["id"], "e2e-2")[0], 8.0)
        self._ingest()
        self.assertAlmostEqual(self._state(sub["id"], "e2e-2")[0], 8.0)

        # one ingestion's transaction began before the other committed: it reads nothing
        # (its snapshot does not see the other's sessions: it would count them again)
        self._account("Interim-Update", sub, "e2e-2", 9 * MIB, MIB, 600)
        with self.committed() as late:
            late.cr.execute("SELECT 1")
            self._ingest()
            self.assertEqual(late["isp.radius.accounting"]._ingest_accounting(), 0)
        self.assertAlmostEqual(self._state(sub["id"], "e2e-2")[0], 10.0)

    def test_wrong_password_logged_with_its_reason(self):
        sub = self.make_subscription(self.bundle_day)
        reply = self.nas_a_client.pap(sub["login"], "not-the-password")
        self.assertReject(reply)
        self._ingest()
        with self.committed() as env:
            logs = env["isp.access.log"].search([("partner_id", "=", sub["partner_id"])])
            self.assertEqual(logs.mapped("reason"), ["other"])
            self.assertEqual(logs.message, "Wrong password")
            self.assertEqual(logs.company_id.id, self.company_a)

    def test_stop_after_stale_close_brings_the_last_bytes(self):
        """A NAS silent for a while (link down): Odoo closes its session as stale so
        Simultaneous-Use stops counting it; when its real Stop arrives, FreeRADIUS's last
        resort query still records the final counters, and they are counted once."""
        sub = self.make_subscription(self.bundle_day)
        self._account("Start", sub, "e2e-3")
        self._account("Interim-Update", sub, "e2e-3", 2 * MIB, 0, 300)
        self._ingest()
        with self.committed() as env:
            env.cr.execute(
                "UPDATE radacct SET acctupdatetime = now() - interval '1 hour',"
                " acctstarttime = now() - interval '2 hours' WHERE acctsessionid = 'e2e-3'"
            )
            self.assertEqual(env["isp.radius.accounting"]._close_stale_sessions(), 1)
        self._ingest()
        used, state, *_rest = self._state(sub["id"], "e2e-3")
        self.assertAlmostEqual(used, 2.0)
        self.assertEqual(state, "stale")

        self._account(
            "Stop", sub, "e2e-3", 5 * MIB, MIB, 7200, **{"Acct-Terminate-Cause": "Lost-Carrier"}
        )
        with self.committed() as env:
            env.cr.execute(
                "SELECT acctterminatecause, acctinputoctets FROM radacct"
                " WHERE acctsessionid = 'e2e-3'"
            )
            self.assertEqual(env.cr.fetchall(), [("Lost-Carrier", 5 * MIB)])
        self._ingest()
        self._ingest()
        used, state, *_rest = self._state(sub["id"], "e2e-3")
        self.assertAlmostEqual(used, 6.0)
        self.assertEqual(state, "closed")
