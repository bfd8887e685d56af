"""The simulator against the reference, driven by unmodified librouteros (and raw sockets
where librouteros cannot go: tags, replies it does not produce)."""

import socket

import librouteros
from librouteros.exceptions import ConnectionClosed, FatalError, TrapError
from librouteros.login import token
from librouteros.query import Key

from odoo.tests import BaseCase, tagged

from .routeros_sim import RouterOSSimulator, encode_length, encode_sentence, read_sentence


@tagged("post_install", "-at_install")
class TestSimulator(BaseCase):
    def setUp(self):
        super().setUp()
        self.sim = RouterOSSimulator(password="test").start()
        self.addCleanup(self.sim.stop)

    def _api(self, **kwargs):
        api = librouteros.connect(
            "127.0.0.1", "isp-billing", "test", port=self.sim.port, timeout=2, **kwargs
        )
        self.addCleanup(api.close)
        return api

    def test_length_vectors(self):
        for length, expected in [
            (0, "00"),
            (127, "7f"),
            (130, "8082"),
            (256, "8100"),
            (2097140, "dffff4"),
            (268435440, "effffff0"),
        ]:
            self.assertEqual(encode_length(length).hex(), expected)

    def test_long_words_round_trip(self):
        api = self._api()
        users = api.path("ip", "hotspot", "user")
        for size in (100, 200, 20000):  # 1, 2 and 3 length bytes
            users.add(name=f"u{size}", password="p", comment="c" * size)
        rows = {row["name"]: row for row in users}
        self.assertEqual(len(rows["u20000"]["comment"]), 20000)

    def test_both_login_flows_and_wrong_password(self):
        self.assertTrue(tuple(self._api().path("system", "identity")))
        self.assertTrue(tuple(self._api(login_method=token).path("system", "identity")))
        with self.assertRaises(TrapError) as caught:
            librouteros.connect("127.0.0.1", "isp-billing", "bad", port=self.sim.port, timeout=2)
        self.assertIn("invalid user name or password", str(caught.exception))

    def test_add_print_set_remove_query_proplist(self):
        api = self._api()
        users = api.path("ip", "hotspot", "user")
        first = users.add(name="0712345678", password="a", profile="default", disabled=False)
        self.assertRegex(first, r"^\*[0-9A-F]+$")
        users.add(name="b", password="b", **{"limit-uptime": "90m"})
        with self.assertRaises(TrapError) as caught:
            users.add(name="b", password="c")
        self.assertEqual(
            str(caught.exception), "failure: already have user with this name for this server"
        )
        rows = list(users.select(Key("name"), Key("limit-uptime")).where(Key("name") == "b"))
        self.assertEqual(rows, [{"name": "b", "limit-uptime": "1h30m"}])
        # phone-number names stay text (librouteros >= 4.1.1)
        self.assertEqual(
            [r["name"] for r in users.select(Key("name")).where(Key("name") == "0712345678")],
            ["0712345678"],
        )
        both = users.select(Key("name")).where(Key("name").In("b", "0712345678"))
        self.assertEqual(len(list(both)), 2)
        self.assertEqual(len(list(users.select(Key("name")).where(Key("name") != "b"))), 1)
        users.update(**{".id": first, "disabled": True})
        self.assertIs(
            next(iter(users.select(Key("disabled")).where(Key(".id") == first)))["disabled"], True
        )
        users.remove(first)
        with self.assertRaises(TrapError) as caught:
            users.remove(first)
        self.assertEqual(str(caught.exception), "no such item")
        self.assertEqual(self.sim.writes, 4)

    def test_system_resource_and_empty_reply(self):
        self.sim.empty_reply = True
        api = self._api()
        resource = tuple(api.path("system", "resource"))[0]
        self.assertEqual(resource["version"], "7.16 (stable)")
        self.assertEqual(tuple(api.path("ip", "hotspot", "walled-garden")), ())

    def _raw(self):
        sock = socket.create_connection(("127.0.0.1", self.sim.port), timeout=2)
        self.addCleanup(sock.close)
        sock.sendall(encode_sentence(["/login", "=name=isp-billing", "=password=test"]))
        self.assertEqual(read_sentence(sock), ["!done"])
        return sock

    def test_tags_traps_and_fatal_on_the_wire(self):
        sock = self._raw()
        sock.sendall(encode_sentence(["/ip/hotspot/user/remove", "=.id=*99", ".tag=7"]))
        self.assertEqual(
            read_sentence(sock), ["!trap", "=message=no such item", "=category=0", ".tag=7"]
        )
        self.assertEqual(read_sentence(sock), ["!done", ".tag=7"])
        sock.sendall(encode_sentence(["/ip/hotspot/user/print", "?name", "?-comment", "?#&"]))
        self.assertEqual(read_sentence(sock), ["!done"])  # no tag unless sent
        sock.sendall(encode_sentence(["/quit"]))
        self.assertEqual(read_sentence(sock), ["!fatal", "session terminated on request"])

    def test_fault_injection(self):
        api = self._api()
        self.sim.fatal_after = 2
        with self.assertRaises(FatalError):
            tuple(api.path("system", "identity"))
        self.sim.fatal_after = None
        self.sim.drop_after = 2
        api = self._api()
        with self.assertRaises(ConnectionClosed):
            tuple(api.path("ip", "hotspot", "user"))
        self.sim.drop_after = None
        self.sim.delay = 0.5
        api = librouteros.connect("127.0.0.1", "isp-billing", "test", port=self.sim.port, timeout=2)
        api.protocol.transport.sock.settimeout(0.2)
        with self.assertRaises(TimeoutError):
            tuple(api.path("system", "identity"))
        api.close()
        self.sim.delay = 0
        self.sim.trap_on_add = {"x"}
        with self.assertRaises(TrapError):
            self._api().path("ip", "hotspot", "user").add(name="x")
        self.sim.set_refuse(True)
        with self.assertRaises(ConnectionRefusedError):
            librouteros.connect("127.0.0.1", "u", "p", port=self.sim.port, timeout=1)
        self.sim.set_refuse(False)
        self.assertTrue(tuple(self._api().path("system", "identity")))

    def test_hotspot_active_login_and_remove(self):
        api = self._api()
        api.path("ip", "hotspot", "user").add(name="c", password="pw")
        active = api.path("ip", "hotspot", "active")
        with self.assertRaises(TrapError):
            tuple(active("login", user="c", password="bad", ip="10.5.50.2"))
        tuple(
            active(
                "login",
                user="c",
                password="pw",
                ip="10.5.50.2",
                **{"mac-address": "AA:BB:CC:DD:EE:01"},
            )
        )
        rows = list(active)
        self.assertEqual((rows[0]["user"], rows[0]["address"]), ("c", "10.5.50.2"))
        active.remove(rows[0][".id"])
        self.assertFalse(list(active))

    def test_menus_accept_only_their_properties(self):
        """Each menu takes the properties routeros.md lists for it, nothing else: a client
        writing a property the router does not have fails here as on the router."""
        api = self._api()
        profiles = api.path("ip", "hotspot", "user", "profile")
        ppp_profiles = api.path("ppp", "profile")
        for menu in (profiles, ppp_profiles):
            with self.assertRaises(TrapError) as caught:
                menu.add(name="isp-billing-b1", comment="isp-billing:b1")
            self.assertEqual(str(caught.exception), "unknown parameter comment")
            self.assertEqual(caught.exception.category, 1)
        self.assertEqual(
            [row["name"] for row in self.sim.rows("/ip/hotspot/user/profile")], ["default"]
        )
        self.assertEqual([row["name"] for row in self.sim.rows("/ppp/profile")], ["default"])
        # the properties the reference lists are taken
        profile_id = profiles.add(
            name="isp-billing-b1",
            **{"rate-limit": "512k/2M", "shared-users": 2, "session-timeout": "1d"},
        )
        ppp_profiles.add(name="isp-billing-b2", **{"only-one": True, "rate-limit": "1M/4M"})
        with self.assertRaises(TrapError) as caught:
            profiles.update(**{".id": profile_id, "comment": "x"})
        self.assertEqual(str(caught.exception), "unknown parameter comment")
        # a user or secret naming a profile the router does not have
        users = api.path("ip", "hotspot", "user")
        with self.assertRaises(TrapError) as caught:
            users.add(name="u1", password="p", profile="isp-billing-b9")
        self.assertEqual(str(caught.exception), "input does not match any value of profile")
        with self.assertRaises(TrapError) as caught:
            api.path("ppp", "secret").add(name="s1", password="p", profile="nope")
        self.assertEqual(str(caught.exception), "input does not match any value of profile")
        with self.assertRaises(TrapError) as caught:
            users.add(name="u1", password="p", server="hotspot9")
        self.assertEqual(str(caught.exception), "input does not match any value of server")
        self.assertFalse(self.sim.rows("/ip/hotspot/user"))
        users.add(name="u1", password="p", profile="isp-billing-b1", comment="isp-billing:s1")
        # read-only and unknown properties, bad values
        for menu, props, message in (
            (users, {"name": "u2", "uptime": "1h"}, "unknown parameter uptime"),
            (users, {"name": "u2", "limit-bytes-total": "lots"}, "must be a number"),
            (users, {"name": "u2", "disabled": "maybe"}, "must be yes or no"),
            (
                api.path("ip", "hotspot", "walled-garden", "ip"),
                {"dst-host": "pay.example", "comment": "isp-billing"},
                "unknown parameter comment",
            ),
            (
                api.path("ip", "hotspot", "walled-garden"),
                {"dst-host": "pay.example", "action": "accept"},
                "input does not match any value of action",
            ),
            (
                api.path("ip", "hotspot", "ip-binding"),
                {"mac-address": "AA:BB:CC:DD:EE:01", "type": "free"},
                "input does not match any value of type",
            ),
            (api.path("ip", "hotspot"), {"name": "hs2"}, "no such command"),
        ):
            with self.subTest(message=message), self.assertRaises(TrapError) as caught:
                menu.add(**props)
            self.assertIn(message, str(caught.exception))
        self.assertEqual(len(self.sim.rows("/ip/hotspot/user")), 1)
        self.assertFalse(self.sim.rows("/ip/hotspot/walled-garden/ip"))
        # booleans are asked for as yes/no and printed as true/false
        rows = list(users.select(Key("name")).where(Key("disabled") == False))  # noqa: E712
        self.assertEqual(rows, [{"name": "u1"}])

    def test_refusal_on_the_wire_is_a_trap_then_done(self):
        sock = self._raw()
        sock.sendall(
            encode_sentence(["/ip/hotspot/user/profile/add", "=name=p", "=comment=c", ".tag=3"])
        )
        self.assertEqual(
            read_sentence(sock),
            ["!trap", "=message=unknown parameter comment", "=category=1", ".tag=3"],
        )
        self.assertEqual(read_sentence(sock), ["!done", ".tag=3"])
        sock.sendall(encode_sentence(["/ip/hotspot/user/add", "=name=u", "=profile=missing"]))
        self.assertEqual(
            read_sentence(sock),
            ["!trap", "=message=input does not match any value of profile", "=category=1"],
        )
        self.assertEqual(read_sentence(sock), ["!done"])
        self.assertEqual(self.sim.writes, 0)

    def test_hotspot_login_holds_shared_users_and_takes_only_its_properties(self):
        api = self._api()
        api.path("ip", "hotspot", "user", "profile").add(name="two", **{"shared-users": 2})
        api.path("ip", "hotspot", "user").add(name="c", password="pw", profile="two")
        active = api.path("ip", "hotspot", "active")
        with self.assertRaises(TrapError) as caught:
            tuple(active("login", user="c", password="pw", ip="10.5.50.9", comment="x"))
        self.assertEqual(str(caught.exception), "unknown parameter comment")
        for ip in ("10.5.50.2", "10.5.50.3"):
            tuple(active("login", user="c", password="pw", ip=ip))
        with self.assertRaises(TrapError) as caught:
            tuple(active("login", user="c", password="pw", ip="10.5.50.4"))
        self.assertEqual(str(caught.exception), "no more sessions are allowed for user")
        self.assertEqual(len(self.sim.rows("/ip/hotspot/active")), 2)
