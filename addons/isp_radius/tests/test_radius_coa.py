"""Disconnect and CoA (RFC 5176) from billing events to the NAS: what is queued for which
session, and what a real UDP NAS receives and answers."""

import time
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from .coa_common import CoaCase


@tagged("post_install", "-at_install")
class TestRadiusDisconnect(CoaCase):
    def test_expiry_disconnects_the_open_session_and_is_acked(self):
        sub = self._subscription("+255712300001")
        radacct_id, session_id = self._start(sub, ip="10.5.0.21")
        closed, _closed_id = self._start(sub, ip="10.5.0.22")
        self._stop(closed)
        sub.write({"date_start": self._now() - timedelta(days=2)})
        sub.write({"date_expiry": self._now() - timedelta(minutes=1)})
        self._run_expiry_cron()
        self.assertEqual(sub.state, "expired")
        request = self._requests(sub)
        self.assertEqual(len(request), 1, "one request for the one open session")
        self.assertEqual(
            (request.kind, request.state, request.username, request.acct_session_id),
            ("disconnect", "pending", sub.login, session_id),
        )
        self.assertEqual((request.radacct_id, request.framed_ip), (radacct_id, "10.5.0.21"))
        self.assertEqual(request.nas_id, self.nas)
        self.assertEqual(request.partner_id, sub.partner_id)
        self.assertFalse(self.listener.requests(), "nothing is sent inside the billing change")
        self.assertTrue(self._triggers(), "the sender is woken up")

        self._send()
        [received] = self.listener.requests()
        self.assertEqual(received["code"], 40)
        attrs = self._attrs(received)
        self.assertEqual(attrs["User-Name"], sub.login)
        self.assertEqual(attrs["Acct-Session-Id"], session_id)
        self.assertEqual(attrs["Framed-IP-Address"], "10.5.0.21")
        self.assertAlmostEqual(attrs["Event-Timestamp"], time.time(), delta=30)
        self.assertEqual(received["answer"], (41, None))
        self.assertEqual((request.state, request.attempts), ("acked", 1))
        self.assertTrue(request.date_done)
        self.assertNotIn((sub.login, session_id), self.listener.sessions)
        # sent once: the sender has nothing left
        self._send()
        self.assertEqual(len(self.listener.requests()), 1)

    def test_suspension_disconnects_and_resuming_cancels_an_unsent_one(self):
        sub = self._subscription("+255712300002")
        _radacct_id, session_id = self._start(sub)
        sub.action_suspend()
        request = self._requests(sub)
        self.assertEqual((request.kind, request.state), ("disconnect", "pending"))
        self.assertIn("suspended", request.reason)
        sub.action_resume()
        self.assertEqual(sub.state, "active")
        self.assertEqual(request.state, "cancelled", "the customer is back: not kicked out")
        self._send()
        self.assertFalse(self.listener.requests())
        # suspended again: a new Disconnect, sent and acked
        sub.action_suspend()
        self._send()
        [received] = self.listener.requests(40)
        self.assertEqual(self._attrs(received)["Acct-Session-Id"], session_id)
        self.assertEqual(self._requests(sub, state="acked").kind, "disconnect")

    def test_cancellation_disconnects_every_session_on_every_nas_of_the_company(self):
        other_listener = self._listener()
        other_nas = self._nas(other_listener, name="Tower B")
        sub = self._subscription("+255712300003")
        first = self._start(sub)
        second = self._start(sub, nas=other_nas)
        other_listener.add_session(sub.login, second[1])
        sub.action_cancel()
        reports = self._send()
        # each send committed on its own (after its claim, committed before the datagram)
        self.assertEqual(reports, [(0, 2), (0, None), (1, None), (0, None), (1, None), (0, None)])
        self.assertEqual(
            [self._attrs(r)["Acct-Session-Id"] for r in self.listener.requests()], [first[1]]
        )
        self.assertEqual(
            [self._attrs(r)["Acct-Session-Id"] for r in other_listener.requests()], [second[1]]
        )
        self.assertEqual(set(self._requests(sub).mapped("state")), {"acked"})

    def test_only_the_subscription_s_own_sessions(self):
        """Same login on another service (PPPoE vs hotspot), another company's NAS, an
        archived NAS, a session already stopped: none is targeted."""
        sub = self._subscription("+255712300004")
        pppoe = self._subscription(None, bundle=self.pppoe, partner=sub.partner_id)
        self.assertEqual(pppoe.login, sub.login, "same phone: same login on both services")
        ppp_session = self._start(pppoe)
        other_company = self.env["res.company"].create({"name": "Other ISP"})
        foreign_listener = self._listener()
        foreign_nas = self._nas(foreign_listener, name="Foreign", company_id=other_company.id)
        self._start(sub, nas=foreign_nas)
        archived_listener = self._listener()
        archived_nas = self._nas(archived_listener, name="Old tower")
        self._start(sub, nas=archived_nas)
        archived_nas.active = False
        sub.action_suspend()
        self.assertFalse(self._requests(sub), "no open session of this hotspot login: nothing")
        pppoe.action_suspend()
        request = self._requests(pppoe)
        self.assertEqual((request.kind, request.radacct_id), ("disconnect", ppp_session[0]))

    def test_nothing_queued_without_an_open_session(self):
        sub = self._subscription("+255712300005")
        triggers = self._triggers()
        sub.action_suspend()
        self.assertFalse(self._requests(sub))
        self.assertEqual(self._triggers(), triggers, "no wake-up for nothing")

    def test_queued_twice_sent_once(self):
        sub = self._subscription("+255712300006")
        self._start(sub)
        sub.action_suspend()
        self.Request._queue_disconnect(sub, "again")
        self.Request._queue_disconnect(sub | sub, "and again")
        self.assertEqual(len(self._requests(sub)), 1)
        self._send()
        self.assertEqual(len(self.listener.requests()), 1)
        # once sent, a new request for the same session may be queued (and is answered 503)
        self.Request._queue_disconnect(sub, "after")
        self._send()
        self.assertEqual(self._requests(sub).mapped("state"), ["acked", "gone"])

    def test_billing_is_neither_slowed_nor_failed_by_a_dead_nas(self):
        self.listener.mode = "silent"
        subs = self.env["isp.subscription"]
        for index in range(30):
            sub = self._subscription(f"+2557123101{index:02d}")
            self._start(sub)
            subs |= sub
        subs.write({"date_start": self._now() - timedelta(days=2)})
        subs.write({"date_expiry": self._now() - timedelta(minutes=1)})
        began = time.monotonic()
        self._run_expiry_cron()
        elapsed = time.monotonic() - began
        self.assertEqual(set(subs.mapped("state")), {"expired"})
        self.assertLess(elapsed, 3.0, "the expiry only inserts rows")
        self.assertEqual(len(self._requests(state="pending", kind="disconnect")), 30)
        self.assertFalse(self.listener.requests(), "no datagram inside the billing change")

    def test_a_queueing_error_never_fails_the_billing_change(self):
        sub = self._subscription("+255712300007")
        self._start(sub)
        Request = type(self.Request)
        with (
            patch.object(Request, "_subscription_sessions", side_effect=RuntimeError("boom")),
            self.assertLogs("odoo.addons.isp_radius.models.isp_radius_request", "ERROR"),
        ):
            sub.action_suspend()
        self.assertEqual(sub.state, "suspended")
        self.assertFalse(self._requests(sub))


@tagged("post_install", "-at_install")
class TestRadiusDeviceDisconnect(CoaCase):
    def test_archived_device_disconnects_its_mac_in_any_format(self):
        sub = self._subscription("+255712300101")
        partner = sub.partner_id
        Device = self.env["isp.device"]
        phone = Device.create({"partner_id": partner.id, "mac": "AA:BB:CC:00:00:01"})
        laptop = Device.create({"partner_id": partner.id, "mac": "AA:BB:CC:00:00:02"})
        phone_session = self._start(sub, mac="aa-bb-cc-00-00-01")  # a non-MikroTik NAS's format
        laptop_session = self._start(sub, mac="AA:BB:CC:00:00:02")
        other = self._subscription("+255712300102")
        self._start(other, mac="AA:BB:CC:00:00:01")  # same MAC, another customer's login
        phone.active = False
        request = self._requests(kind="disconnect")
        self.assertEqual(len(request), 1)
        self.assertEqual(
            (request.radacct_id, request.subscription_id, request.mac),
            (phone_session[0], sub, "aa-bb-cc-00-00-01"),
        )
        self.assertEqual(request.reason, "Device removed")
        self._send()
        [received] = self.listener.requests()
        self.assertEqual(self._attrs(received)["Acct-Session-Id"], phone_session[1])
        self.assertEqual(request.state, "acked")
        # deleted: its sessions too
        laptop.unlink()
        self._send()
        self.assertEqual(
            [self._attrs(r)["Acct-Session-Id"] for r in self.listener.requests()],
            [phone_session[1], laptop_session[1]],
        )

    def test_mac_login_session_of_a_removed_device(self):
        """A hotspot MAC login (user name = the MAC) is the device's too."""
        partner = self._customer("+255712300103")
        device = self.env["isp.device"].create(
            {"partner_id": partner.id, "mac": "0A:1B:2C:3D:4E:5F"}
        )
        sub = self._subscription("+255712300104")
        sub.login = "0A:1B:2C:3D:4E:5F"
        radacct_id, _session = self._start(sub, mac="0a1b2c3d4e5f")
        device.unlink()
        self.assertEqual(self._requests(kind="disconnect").radacct_id, radacct_id)


@tagged("post_install", "-at_install")
class TestRadiusCoa(CoaCase):
    def test_plan_change_sends_the_new_mikrotik_rate(self):
        sub = self._subscription("+255712300201")
        _radacct_id, session_id = self._start(sub)
        sub.bundle_id = self.weekly
        request = self._requests(sub)
        self.assertEqual((request.kind, request.state), ("coa", "pending"))
        self.assertEqual(request.attributes, {"Mikrotik-Rate-Limit": "1M/4M"})
        self.assertEqual(request.attributes_text, "Mikrotik-Rate-Limit = 1M/4M")
        self._send()
        [received] = self.listener.requests()
        self.assertEqual(received["code"], 43)
        attrs = self._attrs(received)
        self.assertEqual(
            (attrs["User-Name"], attrs["Acct-Session-Id"], attrs["Mikrotik-Rate-Limit"]),
            (sub.login, session_id, "1M/4M"),
        )
        self.assertEqual(received["answer"], (44, None))
        self.assertEqual(
            self.listener.rates[(sub.login, session_id)], {"Mikrotik-Rate-Limit": "1M/4M"}
        )
        self.assertEqual(request.state, "acked")
        self.assertIn((sub.login, session_id), self.listener.sessions, "a CoA keeps the session")

    def test_standard_nas_gets_wispr_rates_in_bit_per_second(self):
        self.nas.nas_type = "other"
        sub = self._subscription("+255712300202")
        self._start(sub)
        sub.bundle_id = self.weekly
        self._send()
        attrs = self._attrs(self.listener.requests(43)[0])
        self.assertEqual(attrs["WISPr-Bandwidth-Max-Up"], 1024 * 1000)
        self.assertEqual(attrs["WISPr-Bandwidth-Max-Down"], 4096 * 1000)
        self.assertNotIn("Mikrotik-Rate-Limit", attrs)

    def test_unlimited_rate_on_a_standard_nas_reconnects_the_session(self):
        """WISPr has no "no limit": the session is disconnected, FreeRADIUS's next answer
        carries the new (unlimited) rate."""
        self.nas.nas_type = "other"
        sub = self._subscription("+255712300203")
        self._start(sub)
        sub.bundle_id = self.monthly  # no rate limit
        request = self._requests(sub)
        self.assertEqual(len(request), 1)
        self.assertEqual(request.kind, "disconnect")
        self.assertIn("new rate applied at reconnection", request.reason)
        # on MikroTik "0/0" says it
        self.nas.nas_type = "mikrotik"
        self.Request._queue_coa(sub, "test")
        self.assertFalse(self._requests(sub, kind="coa"), "being disconnected: no CoA")

    def test_fair_use_slows_down_and_a_top_up_restores_the_rate(self):
        sub = self._subscription("+255712300204", bundle=self.fair)
        _radacct_id, session_id = self._start(sub)
        sub.data_used_mb = 50
        self.assertFalse(self._requests(sub), "under the cap: same rate, nothing sent")
        sub.data_used_mb = 100.5
        self.assertTrue(sub.fair_use_active)
        # the accounting ingestion queues the same CoA: still one
        self.Request._queue_coa(sub, "Data cap reached: fair-use speed")
        slowed = self._requests(sub)
        self.assertEqual(len(slowed), 1)
        self.assertEqual(slowed.attributes, {"Mikrotik-Rate-Limit": "256k/512k"})
        self._send()
        self.assertEqual(
            self.listener.rates[(sub.login, session_id)], {"Mikrotik-Rate-Limit": "256k/512k"}
        )
        # a top-up (more data in the same period) ends fair use
        self._fulfil(sub.partner_id, self.fair, "TOPUP-1")
        self.assertFalse(sub.fair_use_active)
        restored = self._requests(sub, state="pending")
        self.assertEqual(restored.attributes, {"Mikrotik-Rate-Limit": "2M/8M"})
        self._send()
        self.assertEqual(
            self.listener.rates[(sub.login, session_id)], {"Mikrotik-Rate-Limit": "2M/8M"}
        )

    def test_a_pending_coa_takes_the_newest_rate(self):
        self.listener.mode = "silent"
        sub = self._subscription("+255712300205")
        self._start(sub)
        sub.bundle_id = self.weekly
        sub.bundle_id = self.fair
        request = self._requests(sub)
        self.assertEqual(len(request), 1)
        self.assertEqual(request.attributes, {"Mikrotik-Rate-Limit": "2M/8M"})

    def test_a_disconnect_supersedes_a_pending_coa(self):
        sub = self._subscription("+255712300206")
        self._start(sub)
        sub.bundle_id = self.weekly
        coa = self._requests(sub)
        sub.action_suspend()
        self.assertEqual(coa.state, "cancelled")
        self._send()
        self.assertEqual([r["code"] for r in self.listener.requests()], [40])

    def test_no_coa_for_a_change_that_keeps_the_rate_or_an_inactive_subscription(self):
        sub = self._subscription("+255712300207")
        self._start(sub)
        sub.data_cap_mb = 0
        sub.write({"data_used_mb": 5})
        self.assertFalse(self._requests(sub))
        draft = self._subscription("+255712300208", activate=False)
        draft.bundle_id = self.weekly
        self.assertFalse(self._requests(draft))


@tagged("post_install", "-at_install")
class TestRadiusReconnect(CoaCase):
    def test_a_new_static_address_reconnects_the_pppoe_session(self):
        sub = self._subscription("+255712300301", bundle=self.pppoe)
        sub.radius_framed_ip = "10.9.0.50"
        _radacct_id, session_id = self._start(sub, ip="10.9.0.50")
        sub.write({"radius_framed_ip": " 10.9.0.50 "})  # the address it has: nothing to do
        self.assertFalse(self._requests(sub))
        sub.radius_framed_ip = "10.9.0.77"
        request = self._requests(sub)
        self.assertEqual((request.kind, request.acct_session_id), ("disconnect", session_id))
        self.assertIn("Address changed", request.reason)

    def test_a_new_login_disconnects_the_sessions_of_the_old_one(self):
        sub = self._subscription("+255712300302")
        old_login = sub.login
        _radacct_id, session_id = self._start(sub)
        sub.login = "renamed-302"
        request = self._requests(sub)
        self.assertEqual(
            (request.kind, request.username, request.acct_session_id),
            ("disconnect", old_login, session_id),
        )
        self._send()
        self.assertEqual(request.state, "acked")

    def test_period_extended_while_online_gets_the_new_session_timeout(self):
        """A customer buys more time while online: the session's Session-Timeout (given at
        login for the old expiry) is moved to the new one by a CoA, with the rate as it is;
        they are not logged out at the old expiry."""
        sub = self._subscription("+255712300231")
        _radacct_id, session_id = self._start(sub)  # started 60 s ago
        old_expiry = sub.date_expiry
        self._fulfil(sub.partner_id, self.daily, "EXTEND-1")
        self.assertGreater(sub.date_expiry, old_expiry)
        request = self._requests(sub)
        self.assertEqual((request.kind, request.state), ("coa", "pending"))
        self.assertEqual(request.reason, "Period extended")
        self.assertEqual(request.attributes, {"Mikrotik-Rate-Limit": "512k/2M"})
        self._send()
        [received] = self.listener.requests()
        attrs = self._attrs(received)
        self.assertEqual((attrs["User-Name"], attrs["Acct-Session-Id"]), (sub.login, session_id))
        # counted from the session's start, as at login: never shorter than what was paid
        paid = (sub.date_expiry - fields.Datetime.now()).total_seconds()
        self.assertAlmostEqual(attrs["Session-Timeout"], paid + 60, delta=5)
        self.assertEqual(received["answer"], (44, None))
        self.assertEqual(request.state, "acked")
        self.assertIn((sub.login, session_id), self.listener.sessions, "still online")

    def test_extension_on_a_standard_nas_without_rate_is_a_coa_not_a_disconnect(self):
        self.nas.nas_type = "other"
        sub = self._subscription("+255712300232", bundle=self.monthly)  # no rate limit
        self._start(sub)
        self._fulfil(sub.partner_id, self.monthly, "EXTEND-2")
        request = self._requests(sub)
        self.assertEqual((request.kind, request.attributes), ("coa", {}))
        self._send()
        attrs = self._attrs(self.listener.requests(43)[0])
        self.assertIn("Session-Timeout", attrs)
        self.assertNotIn("WISPr-Bandwidth-Max-Down", attrs)

    def test_no_coa_without_a_later_expiry_or_an_open_session(self):
        offline = self._subscription("+255712300233")
        self._fulfil(offline.partner_id, self.daily, "EXTEND-3")
        self.assertFalse(self._requests(offline), "no open session: nothing to tell")
        online = self._subscription("+255712300234")
        self._start(online)
        online.date_expiry = online.date_expiry  # same expiry
        online.date_expiry = online.date_expiry - timedelta(hours=1)  # shortened by staff
        self.assertFalse(self._requests(online))
