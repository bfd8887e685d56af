from unittest.mock import patch

from odoo.tests import tagged

from .accounting_common import MIB, RadiusAccountingCase


@tagged("post_install", "-at_install")
class TestRadiusAccounting(RadiusAccountingCase):
    """radacct rows written as FreeRADIUS writes them → sessions and data use, counted once."""

    def test_start_interim_stop_counts_each_byte_once(self):
        sub = self._subscription("alice")
        uid = self._start("alice", mac="aa-bb-cc-00-00-01", ip="10.5.50.10")
        self._ingest()
        session = self._session(uid)
        self.assertEqual(session.state, "open")
        self.assertEqual(session.subscription_id, sub)
        self.assertEqual(session.partner_id, sub.partner_id)
        self.assertEqual(session.company_id, self.company)
        self.assertEqual(session.nas_id, self.nas)
        self.assertEqual(session.service, "hotspot")
        self.assertEqual(session.mac, "AA:BB:CC:00:00:01")
        self.assertEqual(session.ip, "10.5.50.10")
        self.assertEqual(sub.data_used_mb, 0.0)

        self.assertEqual(self._interim(uid, 3 * MIB, MIB), 1)
        self._ingest()
        self.assertAlmostEqual(sub.data_used_mb, 4.0)
        # the same ingestion again, and FreeRADIUS writing the same Interim twice: nothing
        self._ingest()
        self._interim(uid, 3 * MIB, MIB)
        self._ingest()
        self.assertAlmostEqual(sub.data_used_mb, 4.0)

        self._stop(uid, 5 * MIB, MIB, cause="User-Request")
        self._ingest()
        self._ingest()
        self.assertAlmostEqual(sub.data_used_mb, 6.0)
        self.assertEqual(session.state, "closed")
        self.assertEqual(session.terminate_cause, "User-Request")
        self.assertTrue(session.stop)
        self.assertEqual(session.usage_octets, 6 * MIB)
        self.assertAlmostEqual(session.data_mb, 6.0)
        # a Stop repeated by the NAS (no answer came back): still counted once
        self._stop(uid, 5 * MIB, MIB, cause="User-Request")
        self._ingest()
        self.assertAlmostEqual(sub.data_used_mb, 6.0)

    def test_ppp_session_is_the_pppoe_subscriptions(self):
        hotspot = self._subscription("bob")
        pppoe = self._subscription("bob", bundle=self.pppoe, partner=hotspot.partner_id)
        uid = self._start("bob", ppp=True, ip="10.10.0.5")
        self._interim(uid, 2 * MIB, 0)
        self._ingest()
        self.assertEqual(self._session(uid).service, "pppoe")
        self.assertEqual(self._session(uid).subscription_id, pppoe)
        self.assertAlmostEqual(pppoe.data_used_mb, 2.0)
        self.assertEqual(hotspot.data_used_mb, 0.0)

    def test_late_older_interim_and_counter_reset(self):
        sub = self._subscription("carol")
        uid = self._start("carol")
        self._interim(uid, 10 * MIB, 0, session_time=600)
        self._ingest()
        self.assertAlmostEqual(sub.data_used_mb, 10.0)
        # an older Interim-Update arriving late overwrites the row with smaller counters
        self._interim(uid, 5 * MIB, 0, session_time=300)
        self._ingest()
        self.assertAlmostEqual(sub.data_used_mb, 10.0)
        # the next one counts from where counting stopped, not from the late one
        self._interim(uid, 12 * MIB, 0, session_time=900)
        self._ingest()
        self.assertAlmostEqual(sub.data_used_mb, 12.0)
        # counters reset by the NAS while the session goes on: counted again from zero
        self._interim(uid, MIB, 0, session_time=1200)
        self._ingest()
        self.assertAlmostEqual(sub.data_used_mb, 13.0)
        self._interim(uid, 3 * MIB, 0, session_time=1500)
        self._ingest()
        self.assertAlmostEqual(sub.data_used_mb, 15.0)

    def test_small_deltas_add_up(self):
        """Data use is kept in hundredths of a MB: 3 KB per interim (an idle phone) must not
        round to nothing each time."""
        sub = self._subscription("tiny")
        uid = self._start("tiny")
        for step in range(1, 11):
            self._interim(uid, step * 3 * 1024, 0, session_time=300 * step)
            self._ingest()
        # 30 KB = 0.0293 MB: two whole hundredths added, the rest carried by the session
        self.assertAlmostEqual(sub.data_used_mb, 0.02)
        session = self._session(uid)
        # (2 hundredths of a MB, rounded up to a whole byte)
        self.assertEqual(session.usage_octets, 20972)
        self.assertEqual(session.counted_octets, 20972)
        self._stop(uid, 40 * 1024, 0)
        self._ingest()
        # the Stop adds the rest (40 KB = 0.039 MB in all, rounded once)
        self.assertAlmostEqual(sub.data_used_mb, 0.04)
        self.assertEqual(session.usage_octets, 40 * 1024)

    def test_gigawords_beyond_32_bits(self):
        sub = self._subscription("dave", bundle=self.monthly)
        uid = self._start("dave")
        total = 5 * 1024 * MIB + 7 * MIB  # 5 GiB + 7 MiB: Acct-Input-Gigawords = 1
        self._interim(uid, total, 0)
        self._ingest()
        self.assertEqual(self._session(uid).input_octets, total)
        self.assertAlmostEqual(sub.data_used_mb, 5 * 1024 + 7)

    def test_two_companies_with_the_same_login(self):
        other = self.env["res.company"].create({"name": "Other ISP (radius)"})
        nas_b = self.env["isp.radius.nas"].create(
            {
                "name": "Tower B",
                "address": "10.255.0.2",
                "secret": "s3cret-b",
                "company_id": other.id,
            }
        )
        bundle_b = self.env["product.template"].create(
            {
                "name": "Daily B",
                "is_isp_bundle": True,
                "list_price": 1000,
                "isp_duration_value": 1,
                "isp_duration_unit": "days",
                "company_id": other.id,
            }
        )
        sub_a = self._subscription("eve")
        sub_b = self._subscription("eve", bundle=bundle_b.product_variant_id, company=other)
        uid_a = self._start("eve")
        uid_b = self._start("eve", nas=nas_b)
        self._interim(uid_a, MIB, 0)
        self._interim(uid_b, 7 * MIB, 0)
        self._ingest()
        self.assertAlmostEqual(sub_a.data_used_mb, 1.0)
        self.assertAlmostEqual(sub_b.data_used_mb, 7.0)
        self.assertEqual(self._session(uid_b).company_id, other)
        self.assertEqual(self._session(uid_b).subscription_id, sub_b)
        # the multi-company rule: a user of the first company does not see the other's
        Session = self.Session.with_context(allowed_company_ids=self.company.ids)
        user = self.env["res.users"].create(
            {
                "name": "ISP staff A",
                "login": "radius-staff-a",
                "company_id": self.company.id,
                "company_ids": [(6, 0, self.company.ids)],
                "group_ids": [(6, 0, [self.env.ref("isp_billing.group_isp_user").id])],
            }
        )
        seen = Session.with_user(user).search([("login", "=", "eve")])
        self.assertEqual(seen.mapped("acctuniqueid"), [uid_a])

    def test_unknown_login_and_unknown_nas(self):
        uid = self._start("nobody")
        self._interim(uid, MIB, 0)
        self.env.cr.execute(
            "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress) "
            "VALUES ('x', 'from-nowhere', 'alice', '192.0.2.77')"
        )
        self._ingest()
        session = self._session(uid)
        self.assertEqual(session.state, "open")
        self.assertFalse(session.subscription_id)
        self.assertEqual(session.usage_octets, 0)
        self.assertFalse(self._session("from-nowhere"))

    def test_batches_commit_and_watermark(self):
        subs = [self._subscription(f"batch{i}") for i in range(5)]
        for i, sub in enumerate(subs):
            uid = self._start(sub.login)
            self._interim(uid, (i + 1) * MIB, 0)
        done, reports = self._run_cron(self.Accounting._ingest_accounting, batch_size=2)
        self.assertGreaterEqual(done, 5)
        self.assertEqual(reports[:3], [2, 2, reports[2]])
        for i, sub in enumerate(subs):
            self.assertAlmostEqual(sub.data_used_mb, i + 1)
        self.assertEqual(self._ingest(), 0)

    def test_query_count_does_not_grow_with_the_batch(self):
        """Interim updates of known sessions: a fixed number of queries per batch."""
        counts = []
        for size in (2, 20):
            uids = []
            for i in range(size):
                sub = self._subscription(f"q{size}-{i}")
                uids.append(self._start(sub.login))
            self._ingest()
            for uid in uids:
                self._interim(uid, MIB, MIB)
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            self._ingest()
            counts.append(self.env.cr.sql_log_count - before)
        self.assertEqual(counts[0], counts[1], counts)

    def test_concurrent_ingestion_counts_nothing_twice(self):
        """While an ingestion holds the watermark, another one reads nothing."""
        sub = self._subscription("frank")
        uid = self._start("frank")
        self._interim(uid, 2 * MIB, 0)
        with self.registry.cursor() as other_cr:
            other_cr.execute(
                "SELECT value FROM isp_radius_watermark WHERE name = 'radacct' FOR UPDATE"
            )
            self.assertEqual(self._ingest(), 0)
            self.assertEqual(sub.data_used_mb, 0.0)
            other_cr.rollback()
        self._ingest()
        self.assertAlmostEqual(sub.data_used_mb, 2.0)

    def test_stop_committed_late_below_the_watermark_is_caught_up(self):
        sub = self._subscription("grace")
        uid = self._start("grace")
        self._ingest()
        self._stop(uid, 3 * MIB, 0)
        # a concurrent FreeRADIUS connection committed a later stamp first: the watermark
        # went past this Stop's stamp before it was visible
        self.env.cr.execute(
            "UPDATE isp_radius_watermark SET value = (SELECT max(odoo_seq) FROM radacct) "
            "WHERE name = 'radacct'"
        )
        self._ingest()
        self.assertEqual(self._session(uid).state, "closed")
        self.assertAlmostEqual(sub.data_used_mb, 3.0)

    def test_devices_seen_in_sessions(self):
        self.daily.product_tmpl_id.isp_device_limit = 2
        sub = self._subscription("henry")
        partner = sub.partner_id
        known = self.env["isp.device"].create(
            {"partner_id": partner.id, "mac": "AA:BB:CC:00:01:01", "name": "Phone"}
        )
        self._start("henry", mac="aa:bb:cc:00:01:01", ip="10.5.50.21")
        self._start("henry", mac="aa:bb:cc:00:01:02", ip="10.5.50.22")
        self._start("henry", mac="aa:bb:cc:00:01:03", ip="10.5.50.23")
        self._ingest()
        devices = self.env["isp.device"].search([("partner_id", "=", partner.id)])
        # the known one seen, one new registered, none beyond the limit of 2
        self.assertEqual(len(devices), 2)
        self.assertEqual(known.ip, "10.5.50.21")
        self.assertTrue(known.last_seen)
        self.assertIn("AA:BB:CC:00:01:02", devices.mapped("mac"))


@tagged("post_install", "-at_install")
class TestRadiusStaleSessions(RadiusAccountingCase):
    def test_stale_sessions_closed_in_radacct_and_odoo(self):
        sub = self._subscription("ivan")
        stale = self._start("ivan", when=self._ago(minutes=40))
        self._interim(stale, 2 * MIB, 0, when=self._ago(minutes=20))
        fresh = self._start("ivan", mac="aa-bb-cc-00-00-02", when=self._ago(minutes=40))
        self._interim(fresh, MIB, 0, when=self._ago(minutes=2))
        self._ingest()
        _result, _reports = self._run_cron(self.Accounting._cron_ingest)
        stop, cause, updated = self._radacct(stale)
        self.assertEqual(cause, "Stale-Session")
        self.assertEqual(stop, updated)
        self.assertEqual(self._session(stale).state, "stale")
        self.assertEqual(self._radacct(fresh)[0], None)
        self.assertEqual(self._session(fresh).state, "open")
        # FreeRADIUS's Simultaneous-Use counts the open rows: one left
        self.env.cr.execute(
            "SELECT count(*) FROM radacct WHERE username = 'ivan' AND acctstoptime IS NULL"
        )
        self.assertEqual(self.env.cr.fetchone()[0], 1)
        # the Stop arriving at last closes the session and counts its last bytes
        self._stop(stale, 4 * MIB, 0, cause="Lost-Carrier")
        self._ingest()
        self.assertEqual(self._session(stale).state, "closed")
        self.assertAlmostEqual(sub.data_used_mb, 5.0)

    def test_stale_delay_is_a_setting(self):
        self._subscription("judy")
        uid = self._start("judy", when=self._ago(minutes=6))
        self.assertEqual(self.Accounting._close_stale_sessions(), 0)
        self.env["ir.config_parameter"].set_param("isp_radius.stale_session_seconds", "300")
        self.Accounting._close_stale_sessions()
        self.assertEqual(self._radacct(uid)[1], "Stale-Session")


@tagged("post_install", "-at_install")
class TestRadiusDataCaps(RadiusAccountingCase):
    def _requests(self, sub, kind):
        return self.env["isp.radius.request"].search(
            [("subscription_id", "=", sub.id), ("kind", "=", kind)]
        )

    def test_cap_crossing_queues_a_disconnect(self):
        sub = self._subscription("kate", bundle=self.capped)
        uid = self._start("kate")
        self._interim(uid, 6 * MIB, 0)
        self._ingest()
        self.assertFalse(self._requests(sub, "disconnect"))
        self._interim(uid, 11 * MIB, 0, session_time=600)
        self._ingest()
        requests = self._requests(sub, "disconnect")
        self.assertEqual(len(requests), 1)
        self.assertEqual(requests.acct_session_id, self._session(uid).acctsessionid)
        self.assertEqual(requests.nas_id, self.nas)
        logs = self.env["isp.access.log"].search(
            [("partner_id", "=", sub.partner_id.id), ("reason", "=", "data_cap")]
        )
        self.assertEqual(len(logs), 1)
        # still online (the NAS did not act yet): no second note, the request stays one
        self._interim(uid, 12 * MIB, 0, session_time=900)
        self._ingest()
        self.assertEqual(len(self._requests(sub, "disconnect")), 1)
        self.assertEqual(
            self.env["isp.access.log"].search_count(
                [("partner_id", "=", sub.partner_id.id), ("reason", "=", "data_cap")]
            ),
            1,
        )
        self.assertEqual(sub.state, "active")

    def test_fair_use_crossing_queues_a_coa(self):
        sub = self._subscription("liam", bundle=self.fair)
        uid = self._start("liam")
        self._interim(uid, 11 * MIB, 0)
        self._ingest()
        self.assertTrue(sub.fair_use_active)
        # a CoA with the fair-use rate (or, for a NAS that cannot take it, a Disconnect so
        # the customer reconnects at it); no data-cap denial
        requests = self.env["isp.radius.request"].search([("subscription_id", "=", sub.id)])
        self.assertEqual(len(requests), 1)
        self.assertEqual(requests.kind, "coa")
        self.assertFalse(
            self.env["isp.access.log"].search(
                [("partner_id", "=", sub.partner_id.id), ("reason", "=", "data_cap")]
            )
        )
        self.assertEqual(sub.state, "active")

    def test_cap_enforcement_goes_through_the_request_queue(self):
        sub = self._subscription("mia", bundle=self.capped)
        uid = self._start("mia")
        self._interim(uid, 20 * MIB, 0)
        Request = type(self.env["isp.radius.request"])
        calls = []
        original = Request._queue_disconnect

        def spy(model, subscriptions, reason):
            calls.append((subscriptions, reason))
            return original(model, subscriptions, reason)

        with patch.object(Request, "_queue_disconnect", spy):
            self._ingest()
        self.assertEqual([c[0] for c in calls], [sub])
