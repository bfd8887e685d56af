"""Authorization by a real FreeRADIUS, from the generated configuration, reading the views over
the committed subscriptions: what the NAS is told (accept with which attributes, or reject)."""

from odoo.tests import tagged

from . import freeradius
from .common import RadiusCase

MIB = 1024 * 1024


@tagged("post_install", "-at_install")
class TestRadiusAuth(RadiusCase):
    def test_pap_accept_with_the_subscription_attributes(self):
        sub = self.make_subscription(self.bundle_day, hours=5)
        reply = self.nas_a_client.pap(sub["login"], sub["password"])
        self.assertAccept(reply)
        attrs = reply.attributes
        self.assertAlmostEqual(
            attrs["Session-Timeout"][0], self.seconds_left(sub["date_expiry"]), delta=2
        )
        self.assertEqual(attrs["Mikrotik-Rate-Limit"], ["512k/2M"], "rx/tx: upload/download")
        self.assertEqual(attrs["Acct-Interim-Interval"], [300])
        for absent in (
            "Mikrotik-Total-Limit",
            "Mikrotik-Total-Limit-Gigawords",
            "Framed-IP-Address",
            "Framed-Pool",
            "Mikrotik-Address-List",
            "WISPr-Bandwidth-Max-Up",
        ):
            self.assertNotIn(absent, attrs, "no cap, hotspot, paid")

    def test_chap_accept_and_wrong_chap_reject(self):
        sub = self.make_subscription(self.bundle_day)
        reply = self.nas_a_client.chap(sub["login"], sub["password"])
        self.assertAccept(reply)
        self.assertEqual(reply.attributes["Mikrotik-Rate-Limit"], ["512k/2M"])
        self.assertReject(self.nas_a_client.chap(sub["login"], sub["password"] + "x"))

    def test_reject_expired_suspended_cancelled_wrong_password_unknown(self):
        expired = self.make_subscription(self.bundle_day, state="expired", hours=1)
        suspended = self.make_subscription(self.bundle_day, state="suspended")
        cancelled = self.make_subscription(self.bundle_day, state="cancelled")
        active = self.make_subscription(self.bundle_day)
        for sub in (expired, suspended, cancelled):
            self.assertReject(self.nas_a_client.pap(sub["login"], sub["password"]), sub)
        self.assertReject(self.nas_a_client.pap(active["login"], "not-the-password"))
        self.assertReject(self.nas_a_client.pap(self.new_login(), "whatever"))
        self.assertAccept(self.nas_a_client.pap(active["login"], active["password"]))

    def test_active_past_expiry_is_rejected_before_any_sweep(self):
        """The view compares date_expiry with now(): no cron has to run first."""
        sub = self.make_subscription(self.bundle_day)
        self.assertAccept(self.nas_a_client.pap(sub["login"], sub["password"]))
        with self.committed() as env:
            env.cr.execute(
                "UPDATE isp_subscription SET date_start = date_start - interval '1 day', "
                "date_expiry = (now() AT TIME ZONE 'UTC') - interval '1 second' WHERE id = %s",
                [sub["id"]],
            )
        self.assertReject(self.nas_a_client.pap(sub["login"], sub["password"]))

    def test_logins_are_per_company_chosen_by_the_asking_nas(self):
        login = self.new_login()
        sub_a = self.make_subscription(self.bundle_day, login=login, password="pw-a")
        sub_b = self.make_subscription(self.bundle_day_b, login=login, password="pw-b")
        # company B's customer at company A's NAS: rejected, whatever the password
        self.assertReject(self.nas_a_client.pap(login, sub_b["password"]))
        reply = self.nas_b_client.pap(login, sub_b["password"])
        self.assertAccept(reply)
        self.assertEqual(reply.attributes["Mikrotik-Rate-Limit"], ["256k/1M"], "B's bundle")
        self.assertReject(self.nas_b_client.pap(login, sub_a["password"]))
        reply = self.nas_a_client.pap(login, sub_a["password"])
        self.assertEqual(reply.attributes["Mikrotik-Rate-Limit"], ["512k/2M"], "A's bundle")

    def test_nas_ip_address_attribute_does_not_choose_the_company(self):
        """B's NAS claiming A's address in NAS-IP-Address is still B's NAS."""
        sub_a = self.make_subscription(self.bundle_day)
        reply = self.nas_b_client.pap(
            sub_a["login"], sub_a["password"], **{"NAS-IP-Address": self.nas_a["address"]}
        )
        self.assertReject(reply)

    def test_hotspot_and_pppoe_with_the_same_login(self):
        login = self.new_login()
        hotspot = self.make_subscription(self.bundle_day, login=login, password="pw-hotspot")
        pppoe = self.make_subscription(self.bundle_pppoe, login=login, password="pw-pppoe")
        reply = self.nas_a_client.pap(login, hotspot["password"])
        self.assertAccept(reply)
        self.assertEqual(reply.attributes["Mikrotik-Rate-Limit"], ["512k/2M"])
        self.assertNotIn("Framed-Pool", reply.attributes)
        self.assertReject(self.nas_a_client.pap(login, pppoe["password"]), "hotspot login")
        reply = self.nas_a_client.pap(login, pppoe["password"], pppoe=True)
        self.assertAccept(reply)
        self.assertEqual(reply.attributes["Mikrotik-Rate-Limit"], ["1M/4M"])
        self.assertEqual(reply.attributes["Framed-Pool"], ["pppoe-main"], "the NAS's pool")
        self.assertReject(self.nas_a_client.pap(login, hotspot["password"], pppoe=True))
        # company B's NAS serves hotspot only
        self.assertReject(self.nas_b_client.pap(login, pppoe["password"], pppoe=True))

    def test_device_limit_counts_open_sessions_of_the_company_and_service(self):
        login = self.new_login()
        sub = self.make_subscription(self.bundle_day, login=login)  # 2 devices
        client = self.nas_a_client
        for session in ("s1", "s2"):
            self.assertAccept(client.pap(login, sub["password"]))
            reply = client.accounting("Start", login, f"{self.tag}-{session}")
            self.assertEqual(reply.code, "accounting-response")
        self.assertReject(client.pap(login, sub["password"]), "a third device")
        # the same login's sessions elsewhere do not count: company B, or PPPoE
        client.accounting("Stop", login, f"{self.tag}-s2")
        self.nas_b_client.accounting("Start", login, f"{self.tag}-b1")
        client.accounting("Start", login, f"{self.tag}-p1", pppoe=True)
        self.assertAccept(client.pap(login, sub["password"]))
        client.accounting("Start", login, f"{self.tag}-s3")
        self.assertReject(client.pap(login, sub["password"]))

    def test_data_cap_left_reached_and_fair_use(self):
        capped = self.make_subscription(self.bundle_capped, data_cap_mb=100, data_used_mb=40)
        reply = self.nas_a_client.pap(capped["login"], capped["password"])
        self.assertAccept(reply)
        self.assertEqual(reply.attributes["Mikrotik-Total-Limit"], [60 * MIB])
        self.assertEqual(reply.attributes["Mikrotik-Total-Limit-Gigawords"], [0])
        big = self.make_subscription(self.bundle_capped, data_cap_mb=10000)
        reply = self.nas_a_client.pap(big["login"], big["password"])
        total = 10000 * MIB
        self.assertEqual(reply.attributes["Mikrotik-Total-Limit-Gigawords"], [total >> 32])
        self.assertEqual(reply.attributes["Mikrotik-Total-Limit"], [total & 0xFFFFFFFF])

        over = self.make_subscription(self.bundle_capped, data_cap_mb=100, data_used_mb=100)
        self.assertReject(self.nas_a_client.pap(over["login"], over["password"]), "no fair use")

        fair_under = self.make_subscription(self.bundle_fair, data_cap_mb=100, data_used_mb=50)
        reply = self.nas_a_client.pap(fair_under["login"], fair_under["password"])
        self.assertEqual(reply.attributes["Mikrotik-Rate-Limit"], ["1M/4M"])
        self.assertEqual(reply.attributes["Mikrotik-Total-Limit"], [50 * MIB])
        fair_over = self.make_subscription(self.bundle_fair, data_cap_mb=100, data_used_mb=120)
        reply = self.nas_a_client.pap(fair_over["login"], fair_over["password"])
        self.assertAccept(reply, "over the cap with fair use: slowed down, not cut")
        self.assertEqual(reply.attributes["Mikrotik-Rate-Limit"], ["256k/128k"])
        self.assertNotIn("Mikrotik-Total-Limit", reply.attributes)

    def test_pppoe_static_address_own_pool_and_nas_pool(self):
        static = self.make_subscription(self.bundle_pppoe, radius_framed_ip="10.9.0.5")
        reply = self.nas_a_client.pap(static["login"], static["password"], pppoe=True)
        self.assertAccept(reply)
        self.assertEqual(reply.attributes["Framed-IP-Address"], ["10.9.0.5"])
        self.assertNotIn("Framed-Pool", reply.attributes)
        pooled = self.make_subscription(self.bundle_pppoe, radius_framed_pool="vip")
        reply = self.nas_a_client.pap(pooled["login"], pooled["password"], pppoe=True)
        self.assertEqual(reply.attributes["Framed-Pool"], ["vip"])
        self.assertNotIn("Framed-IP-Address", reply.attributes)
        plain = self.make_subscription(self.bundle_pppoe)
        reply = self.nas_a_client.pap(plain["login"], plain["password"], pppoe=True)
        self.assertEqual(reply.attributes["Framed-Pool"], ["pppoe-main"])

    def test_standard_nas_gets_wispr_bandwidth(self):
        sub = self.make_subscription(self.bundle_day)
        reply = self.nas_other_client.pap(sub["login"], sub["password"])
        self.assertAccept(reply)
        self.assertEqual(reply.attributes["WISPr-Bandwidth-Max-Up"], [512000])
        self.assertEqual(reply.attributes["WISPr-Bandwidth-Max-Down"], [2048000])
        self.assertFalse([name for name in reply.attributes if name.startswith("Mikrotik")])

    def test_pay_now_nas_accepts_expired_customers_into_the_unpaid_list(self):
        expired = self.make_subscription(self.bundle_day, state="expired")
        reply = self.nas_unpaid_client.pap(expired["login"], expired["password"])
        self.assertAccept(reply)
        self.assertEqual(reply.attributes["Session-Timeout"], [900])
        self.assertEqual(reply.attributes["Mikrotik-Address-List"], ["isp-unpaid"])
        self.assertEqual(reply.attributes["Framed-Pool"], ["unpaid-pool"])
        self.assertNotIn("Mikrotik-Rate-Limit", reply.attributes)
        self.assertReject(self.nas_unpaid_client.pap(expired["login"], "wrong"))
        self.assertReject(self.nas_a_client.pap(expired["login"], expired["password"]))
        suspended = self.make_subscription(self.bundle_day, state="suspended")
        self.assertReject(self.nas_unpaid_client.pap(suspended["login"], suspended["password"]))
        # a paying customer at the same NAS is a normal customer
        paid = self.make_subscription(self.bundle_day)
        reply = self.nas_unpaid_client.pap(paid["login"], paid["password"])
        self.assertEqual(reply.attributes["Mikrotik-Rate-Limit"], ["512k/2M"])
        self.assertNotIn("Mikrotik-Address-List", reply.attributes)

    def test_post_auth_records_the_nas_and_never_the_password(self):
        sub = self.make_subscription(self.bundle_day)
        self.assertReject(self.nas_a_client.pap(sub["login"], "secret-typo"))
        self.assertAccept(self.nas_a_client.pap(sub["login"], sub["password"]))
        with self.committed() as env:
            env.cr.execute(
                "SELECT reply, pass, host(nasipaddress) FROM radpostauth "
                "WHERE username = %s ORDER BY id",
                [sub["login"]],
            )
            rows = env.cr.fetchall()
        self.assertEqual(
            rows,
            [
                ("Access-Reject", "", self.nas_a["address"]),
                ("Access-Accept", "", self.nas_a["address"]),
            ],
        )

    def test_accounting_records_the_packet_source_not_the_claimed_nas(self):
        login = self.new_login()
        self.nas_b_client.accounting(
            "Start", login, f"{self.tag}-spoof", **{"NAS-IP-Address": self.nas_a["address"]}
        )
        with self.committed() as env:
            env.cr.execute(
                "SELECT host(nasipaddress), acctstoptime FROM radacct WHERE username = %s",
                [login],
            )
            self.assertEqual(env.cr.fetchall(), [(self.nas_b["address"], None)])

    def test_unknown_nas_and_wrong_secret_get_no_answer(self):
        sub = self.make_subscription(self.bundle_day)
        with self.committed() as env:
            stranger = freeradius.free_loopback_address(env, self._nas_addresses)
        client = self.server.client(stranger, self.SECRET, timeout=0.5, retries=1)
        with self.assertRaises(freeradius.Timeout):
            client.pap(sub["login"], sub["password"])
        client = self.server.client(self.nas_a["address"], "not-the-secret", timeout=0.5)
        with self.assertRaises(freeradius.Timeout):
            client.pap(sub["login"], sub["password"])
