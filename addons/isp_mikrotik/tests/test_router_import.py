"""Import from Router: a router that Mikhmon (or an operator by hand) filled, read into a
preview, imported as bundles, customers and subscriptions, and left untouched by the next
synchronisations until the suite takes its users over."""

import logging
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import BaseCase, new_test_user, tagged

from odoo.addons.isp_billing.tests.common import captured_logs

from .. import router_import
from .common import HOTSPOT_PROFILES, HOTSPOT_USERS, PPP_PROFILES, PPP_SECRETS, MikrotikCase

# Mikhmon v3's on-login of a "remove at expiry" profile (its script after the metadata cut)
MIKHMON_DAY = (
    ':put (",rem,4000,1d,5000,,Enable,"); {:local date [/system clock get date ];'
    ":local time [/system clock get time ];:local uptime (1d);}"
)
MIKHMON_WEEK = ':put (",ntf,20000,7d,25000,,Disable,");'
TZ_OFFSET = timedelta(hours=3)  # Africa/Dar_es_Salaam, the router's clock in these tests


class RouterImportCase(MikrotikCase):
    """A router with Mikhmon profiles, a profile without metadata, PPP profiles, and users of
    every kind the import has to tell apart."""

    def setUp(self):
        super().setUp()
        sim = self.sim
        sim.add_row(
            HOTSPOT_PROFILES,
            name="1day",
            rate_limit="512k/2M",
            shared_users="2",
            on_login=MIKHMON_DAY,
        )
        sim.add_row(
            HOTSPOT_PROFILES,
            name="7days",
            rate_limit="1M/4M 2M/8M 768k/3M 16/16",
            shared_users="3",
            on_login=MIKHMON_WEEK,
        )
        sim.add_row(HOTSPOT_PROFILES, name="staff", rate_limit="10M", on_login="")
        sim.add_row(HOTSPOT_PROFILES, name="gone")
        self.now = fields.Datetime.now()
        self.expiry = self.now + timedelta(days=2)
        local = (self.expiry + TZ_OFFSET).strftime("%Y-%m-%d %H:%M:%S")
        users = [
            # Mikhmon's expiry (RouterOS 7) after the first login: active until then
            {"name": "0712345001", "password": "pw-001", "profile": "1day", "comment": local},
            # Mikhmon's expiry (RouterOS 6), past: expired
            {
                "name": "+255712345002",
                "password": "pw-002",
                "profile": "7days",
                "comment": "jan/05/2020 10:00:00",
            },
            {"name": "0712345003", "password": "pw-003", "profile": "1day", "disabled": "yes"},
            # no comment: the time left on the router
            {"name": "0712345004", "password": "pw-004", "profile": "1day", "limit_uptime": "1d"},
            {"name": "john", "password": "pw-john", "profile": "staff", "comment": "office"},
            # the same name on two hotspot servers: which one is the customer's is unknown
            {"name": "dup", "password": "pw-dup1", "profile": "staff"},
            {"name": "dup", "password": "pw-dup2", "profile": "staff", "server": "hotspot1"},
            {"name": "071234", "password": "pw-short", "profile": "1day"},
            {
                "name": "ab12cd",
                "password": "ab12cd",
                "profile": "1day",
                "comment": "vc-123-05.12.24-",
            },
            {"name": "admin", "password": "admin-pw"},
            {"name": "ghost", "password": "pw-ghost", "profile": "gone"},
        ]
        for user in users:
            sim.add_row(HOTSPOT_USERS, **user)
        with sim.lock:
            for row in sim.menus[HOTSPOT_USERS].rows.values():
                if row["name"] == "0712345004":
                    row["uptime"] = "6h"
            # a user whose profile was deleted meanwhile
            profiles = sim.menus[HOTSPOT_PROFILES].rows
            gone = next(key for key, row in profiles.items() if row["name"] == "gone")
            del profiles[gone]
        sim.add_row(PPP_PROFILES, name="home-10M", rate_limit="5M/10M", only_one="yes")
        sim.add_row(
            PPP_SECRETS,
            name="alice-home",
            password="alice-pw",
            service="pppoe",
            profile="home-10M",
            comment="Alice Mwangi",
        )
        sim.add_row(
            PPP_SECRETS,
            name="255712345006",
            password="pw-006",
            service="pppoe",
            profile="home-10M",
            disabled="yes",
        )
        sim.add_row(PPP_SECRETS, name="old", password="old-pw", service="pppoe")
        self.sim.reset_counters()

    def _wizard(self, router=None, env=None):
        return (env or self.env)["isp.router.import"].create(
            {"router_id": (router or self.router).id, "router_tz": "Africa/Dar_es_Salaam"}
        )

    def _read(self, wizard=None):
        wizard = wizard or self._wizard()
        wizard.action_read()
        return wizard

    @staticmethod
    def _line(wizard, login):
        return wizard.line_ids.filtered(lambda line: line.login == login)

    @staticmethod
    def _bundle_line(wizard, profile):
        return wizard.bundle_line_ids.filtered(lambda line: line.profile_name == profile)

    def _ready(self, wizard):
        """The operator's part of the preview: the 'staff' profile has no validity."""
        self._bundle_line(wizard, "staff").write({"duration_value": 30, "price": 0})
        self._bundle_line(wizard, "home-10M").write(
            {"duration_value": 1, "duration_unit": "months", "price": 50000}
        )
        return wizard

    def _imported(self):
        return self.env["isp.subscription"].search([("isp_import_router_id", "=", self.router.id)])

    def _counts(self):
        return (
            self.env["product.template"].search_count([("is_isp_bundle", "=", True)]),
            self.env["res.partner"].search_count([("is_isp_customer", "=", True)]),
            self.env["isp.subscription"].search_count([]),
            self.env["isp.purchase"].search_count([]),
            self.env["account.move"].search_count([]),
        )


@tagged("post_install", "-at_install")
class TestRouterImport(RouterImportCase):
    def test_preview_reads_profiles_users_and_secrets(self):
        wizard = self._read()
        self.assertEqual(wizard.state, "preview")
        self.assertEqual(self.sim.writes, 0, "reading writes nothing to the router")

        day = self._bundle_line(wizard, "1day")
        self.assertEqual(
            (day.include, day.upload_kbps, day.download_kbps, day.device_limit),
            (True, 512, 2048, 2),
        )
        # Mikhmon: validity 1d, selling price 5000 (the price 4000 is the reseller's)
        self.assertEqual((day.duration_value, day.duration_unit, day.price), (1, "days", 5000))
        self.assertTrue(day.mikhmon)
        self.assertIn("removed at expiry", day.note)
        self.assertIn("first device", day.note)
        week = self._bundle_line(wizard, "7days")
        self.assertEqual(
            (week.upload_kbps, week.download_kbps, week.duration_value, week.price),
            (1024, 4096, 7, 25000),
        )
        staff = self._bundle_line(wizard, "staff")
        # no Mikhmon metadata: validity and price left for the operator
        self.assertEqual((staff.upload_kbps, staff.download_kbps), (10240, 10240))
        self.assertEqual((staff.duration_value, staff.price, staff.mikhmon), (0, 0, False))
        home = self._bundle_line(wizard, "home-10M")
        self.assertEqual(
            (home.service_type, home.upload_kbps, home.download_kbps, home.device_limit),
            ("pppoe", 5120, 10240, 1),
        )
        defaults = wizard.bundle_line_ids.filtered(lambda line: line.profile_name == "default")
        self.assertEqual(len(defaults), 2, "the hotspot's and the PPP default profiles")
        self.assertFalse(any(defaults.mapped("include")))
        self.assertIn("default profile", defaults[0].skip_reason)

        active = self._line(wizard, "0712345001")
        self.assertEqual(
            (active.include, active.phone, active.state, active.bundle_line_id),
            (True, "+255712345001", "active", day),
        )
        self.assertEqual(active.date_expiry, self.expiry, "Mikhmon's date, in the router's clock")
        self.assertEqual(active.expiry_note, "Mikhmon's expiry date")
        past = self._line(wizard, "+255712345002")
        self.assertEqual(past.state, "expired")
        self.assertIn("the next sync disables it", past.expiry_note)
        self.assertEqual(past.date_expiry, fields.Datetime.to_datetime("2020-01-05 07:00:00"))
        disabled = self._line(wizard, "0712345003")
        self.assertEqual((disabled.include, disabled.state), (True, "expired"))
        uptime = self._line(wizard, "0712345004")
        self.assertEqual(uptime.state, "active")
        self.assertAlmostEqual(
            (uptime.date_expiry - self.now).total_seconds(), 18 * 3600, delta=120
        )
        john = self._line(wizard, "john")
        self.assertEqual((john.include, john.phone, john.partner_name), (True, False, "john"))
        duplicates = self._line(wizard, "dup")
        self.assertEqual(len(duplicates), 2)
        self.assertEqual(set(duplicates.mapped("blocked")), {True})
        self.assertIn("several users of this name", duplicates[0].skip_reason)
        alice = self._line(wizard, "alice-home")
        self.assertEqual((alice.service_type, alice.partner_name), ("pppoe", "Alice Mwangi"))
        self.assertEqual(self._line(wizard, "255712345006").state, "expired")

        skipped = {
            "071234": "not a valid mobile number",
            "ab12cd": "Mikhmon voucher",
            "admin": "own or trial account",
            "ghost": "not found on the router",
            "old": "no bundle for profile default",
        }
        for login, reason in skipped.items():
            line = self._line(wizard, login)
            with self.subTest(login=login):
                self.assertFalse(line.include)
                self.assertIn(reason, line.skip_reason)
        self.assertEqual(wizard.subscription_count, 7)
        self.assertEqual(wizard.skipped_count, 7)
        self.assertEqual(wizard.bundle_new_count, 4)
        self.assertNotIn("password", self.env["isp.router.import.line"]._fields)

    def test_import_creates_bundles_customers_and_subscriptions(self):
        known = self._customer("+255712345004", name="Known Customer")
        before = self._counts()
        wizard = self._ready(self._read())
        self.assertEqual(self._line(wizard, "0712345004").partner_id, known)
        self.assertEqual(wizard.customer_new_count, 6)
        wizard.action_import()
        self.assertEqual(wizard.state, "done")
        self.assertIn("7 subscription(s)", wizard.result_message)
        self.assertEqual(self.sim.writes, 0, "the import writes nothing to the router")

        Template = self.env["product.template"]
        day = Template.search([("isp_mikrotik_source_profile", "=", "1day")])
        self.assertEqual(
            (
                day.name,
                day.isp_service_type,
                day.list_price,
                day.isp_duration_value,
                day.isp_duration_unit,
                day.isp_upload_kbps,
                day.isp_download_kbps,
                day.isp_device_limit,
                day.company_id,
            ),
            ("1day", "hotspot", 5000, 1, "days", 512, 2048, 2, self.company),
        )
        self.assertEqual(day._isp_mikrotik_rate_limit(), "512k/2M", "the router's rate again")
        home = Template.search([("isp_mikrotik_source_profile", "=", "home-10M")])
        self.assertEqual(
            (home.isp_service_type, home.list_price, home.isp_duration_unit, home.isp_device_limit),
            ("pppoe", 50000, "months", 1),
        )
        self.assertFalse(Template.search([("isp_mikrotik_source_profile", "=", "default")]))

        imported = self._imported()
        self.assertEqual(len(imported), 7)
        by_login = {sub.login: sub for sub in imported}
        first = by_login["0712345001"]
        self.assertEqual(first.partner_id.phone, "+255712345001")
        self.assertTrue(first.partner_id.is_isp_customer)
        self.assertEqual(first.password, "pw-001")
        self.assertEqual((first.state, first.date_expiry), ("active", self.expiry))
        self.assertEqual(first.bundle_id.product_tmpl_id, day)
        self.assertEqual(first.isp_import_profile, "1day")
        self.assertEqual(by_login["+255712345002"].state, "expired")
        self.assertEqual(by_login["0712345003"].state, "expired")
        self.assertEqual(by_login["0712345004"].partner_id, known, "matched by phone")
        self.assertEqual(self._counts()[1], before[1] + 6)
        self.assertEqual(by_login["alice-home"].partner_id.name, "Alice Mwangi")
        self.assertFalse(by_login["alice-home"].partner_id.phone)
        self.assertEqual(by_login["alice-home"].password, "alice-pw")
        john = by_login["john"]
        # no validity on the router: a full period of the bundle (30 days, set in the preview)
        self.assertAlmostEqual(
            (john.date_expiry - john.date_start).total_seconds(), 30 * 86400, delta=1
        )
        self.assertFalse(
            self.env["isp.subscription"].search(
                [("login", "in", ["admin", "ghost", "071234", "dup"])]
            )
        )
        # not a sale: no purchase, no invoice
        after = self._counts()
        self.assertEqual(after[3:], before[3:])
        self.assertEqual(after[2] - before[2], 7)
        self.assertFalse(imported.purchase_ids)
        if "sms.sms" in self.env:
            sms = self.env["sms.sms"].sudo().search([("partner_id", "in", imported.partner_id.ids)])
            self.assertFalse(sms, "an import sends no SMS")
        self.assertIn("Imported from router Tower A", first.message_ids[0].body)

    def test_password_is_not_logged(self):
        wizard = self._ready(self._read())
        with captured_logs({"": logging.DEBUG, "odoo.sql_db": logging.INFO}) as lines:
            wizard.action_import()
            self._run_queue()
        self.assertTrue(lines)
        self.assertFalse([line for line in lines if "pw-001" in line or "alice-pw" in line])

    def test_importing_again_creates_nothing(self):
        self._ready(self._read()).action_import()
        counts = self._counts()
        passwords = {sub.login: sub.password for sub in self._imported()}
        wizard = self._read()
        self.assertEqual(wizard.subscription_count, 0)
        self.assertEqual(wizard.bundle_new_count, 0)
        line = self._line(wizard, "0712345001")
        self.assertTrue(line.blocked)
        self.assertIn("already imported", line.skip_reason)
        self.assertEqual(
            self._bundle_line(wizard, "1day").bundle_id.isp_mikrotik_source_profile, "1day"
        )
        # even a blocked line forced back in is not imported twice
        line.include = True
        wizard.action_import()
        self.assertEqual(self._counts(), counts)
        self.assertEqual({sub.login: sub.password for sub in self._imported()}, passwords)

    def test_first_sync_after_import_leaves_imported_users_alone(self):
        self._ready(self._read()).action_import()
        users_before = {row["name"]: row for row in self.sim.rows(HOTSPOT_USERS)}
        secrets_before = {row["name"]: row for row in self.sim.rows(PPP_SECRETS)}
        self.sim.reset_counters()
        self.sim.record_commands = True
        self._run_queue()  # the jobs the import queued
        self._full_sync()
        user_menus = {HOTSPOT_USERS, PPP_SECRETS, "/ip/hotspot/active", "/ppp/active"}
        user_commands = [c for c in self.sim.commands if c[0].rsplit("/", 1)[0] in user_menus]
        self.assertTrue(user_commands, "the users were read")
        # the only change: the user whose Mikhmon expiry has passed, as the preview said
        expired = users_before.pop("+255712345002")
        self.assertEqual(
            [c for c in user_commands if not c[0].endswith("/print")],
            [("/ip/hotspot/user/set", f"=.id={expired['.id']}", "=disabled=yes")],
        )
        users_after = {row["name"]: row for row in self.sim.rows(HOTSPOT_USERS)}
        self.assertEqual(users_after.pop("+255712345002"), dict(expired, disabled="true"))
        self.assertEqual(users_after, users_before)
        self.assertEqual({row["name"]: row for row in self.sim.rows(PPP_SECRETS)}, secrets_before)
        self.assertEqual(self.router.sync_state, "ok", self.router.sync_message)
        # the imported bundles got the suite's own profiles; Mikhmon's are left as they were
        profiles = {row["name"]: row for row in self.sim.rows(HOTSPOT_PROFILES)}
        self.assertEqual(profiles["1day"]["on-login"], MIKHMON_DAY)
        day = self.env["product.template"].search([("isp_mikrotik_source_profile", "=", "1day")])
        self.assertIn(day.isp_mikrotik_profile, profiles)

    def test_imported_users_follow_their_subscription(self):
        self._ready(self._read()).action_import()
        self._run_queue()
        by_login = {sub.login: sub for sub in self._imported()}
        # a password changed in Odoo reaches the router; the rest stays as imported
        by_login["0712345001"].password = "new-pw"
        self._full_sync()
        user = self._users()["0712345001"]
        self.assertEqual(
            (user["password"], user["profile"], user["comment"]),
            ("new-pw", "1day", user["comment"]),
        )
        self.assertFalse(user["comment"].startswith("isp-billing"))
        # expired: disabled on the router (the company's policy)
        by_login["0712345004"].write({"state": "expired"})
        self._run_queue()
        self.assertEqual(self._users()["0712345004"]["disabled"], "true")
        # bought again: the suite takes the user over (its tag, its bundle's profile)
        alice = by_login["alice-home"]
        home = alice.bundle_id
        self._fulfil(alice.partner_id, home, "IMPORT-RENEW-1", source="manual")
        self._run_queue()
        secret = self._users(path=PPP_SECRETS)["alice-home"]
        self.assertEqual(secret["comment"], f"isp-billing:s{alice.id}")
        self.assertEqual(secret["profile"], home.product_tmpl_id.isp_mikrotik_profile)
        self.assertEqual(secret["password"], "alice-pw")
        # a user of the router the suite did not import stays foreign
        self.assertEqual(self._users()["admin"]["password"], "admin-pw")

    def test_only_isp_managers_import(self):
        for groups in ("base.group_user", "isp_billing.group_isp_user"):
            user = new_test_user(self.env, login=f"import-{groups}", groups=groups)
            with self.subTest(groups=groups), self.assertRaises(AccessError):
                self._wizard(env=self.env(user=user))
        wizard = self._wizard()
        user = new_test_user(self.env, login="import-isp-user", groups="isp_billing.group_isp_user")
        with self.assertRaises(AccessError):
            wizard.with_user(user).action_read()
        manager = new_test_user(
            self.env,
            login="import-manager",
            groups="isp_billing.group_isp_manager",
            company_id=self.company.id,
            company_ids=[(6, 0, self.company.ids)],
        )
        wizard = self._ready(self._read(self._wizard(env=self.env(user=manager))))
        # new bundles need the right to create products: said before anything is created
        with self.assertRaises(UserError) as caught:
            wizard.action_import()
        self.assertIn("right to create products", str(caught.exception))
        self.assertFalse(self._imported())
        manager.group_ids |= self.env.ref("product.group_product_manager")
        wizard.action_import()
        self.assertEqual(len(self._imported()), 7)

    def test_other_company_router_is_out_of_reach(self):
        other = self.env["res.company"].create({"name": "Other ISP"})
        manager = new_test_user(
            self.env,
            login="import-other-manager",
            groups="isp_billing.group_isp_manager",
            company_id=other.id,
            company_ids=[(6, 0, other.ids)],
        )
        with self.assertRaises(AccessError):
            self._wizard(env=self.env(user=manager)).action_read()

    def test_router_down_gives_a_readable_error_and_creates_nothing(self):
        before = self._counts()
        self.sim.set_refuse(True)
        wizard = self._wizard()
        with self.assertRaises(UserError) as caught:
            wizard.action_read()
        self.assertIn("could not be read", str(caught.exception))
        self.assertIn("Connection refused", str(caught.exception))
        # read, then the router goes down before the import: nothing is created
        self.sim.set_refuse(False)
        wizard = self._ready(self._read())
        self.sim.set_refuse(True)
        with self.assertRaises(UserError):
            wizard.action_import()
        self.assertEqual(self._counts(), before)
        self.assertEqual(wizard.state, "preview")

    def test_bundle_without_validity_is_refused(self):
        wizard = self._read()
        with self.assertRaises(UserError) as caught:
            wizard.action_import()
        self.assertIn("Profile staff: give its bundle a validity", str(caught.exception))
        self.assertFalse(self._imported())


class TestMikhmonParsing(BaseCase):
    """The metadata formats, strictly: what is not understood gives None."""

    def test_on_login(self):
        parsed = router_import.parse_mikhmon(MIKHMON_DAY)
        self.assertEqual(
            (parsed["mode"], parsed["price"], parsed["validity"], parsed["selling_price"]),
            ("rem", 4000, (1, "days"), 5000),
        )
        self.assertTrue(parsed["lock_mac"])
        no_expiry = router_import.parse_mikhmon(':put (",,3000,,,noexp,Disable,")')
        self.assertEqual(
            (no_expiry["no_expiry"], no_expiry["price"], no_expiry["validity"]), (True, 3000, None)
        )
        hours = router_import.parse_mikhmon(':put (",remc,500,12h,,,Disable,");')
        self.assertEqual(hours["validity"], (12, "hours"))
        for script in (
            "",
            ":log info login",
            ':put (",bogus,4000,1d,5000,,Enable,");',
            ':put (",rem,four,1d,5000,,Enable,");',
            ':put (",rem,4000,1d,5000,,Maybe,");',
        ):
            with self.subTest(script=script):
                self.assertIsNone(router_import.parse_mikhmon(script))

    def test_rates_intervals_and_dates(self):
        self.assertEqual(router_import.parse_rate_limit("512k/2M"), (512, 2048))
        self.assertEqual(router_import.parse_rate_limit("2M"), (2048, 2048))
        self.assertEqual(router_import.parse_rate_limit(""), (0, 0))
        self.assertEqual(router_import.parse_rate_limit("1.5M/64000"), (1536, 64))
        self.assertIsNone(router_import.parse_rate_limit("fast"))
        self.assertEqual(router_import.parse_interval("1w"), (7, "days"))
        self.assertEqual(router_import.parse_interval("36h"), (36, "hours"))
        self.assertIsNone(router_import.parse_interval("90m"))
        self.assertIsNone(router_import.parse_interval("soon"))
        self.assertEqual(
            router_import.parse_mikhmon_expiry("feb/03/2025 08:09:10"),
            fields.Datetime.to_datetime("2025-02-03 08:09:10"),
        )
        self.assertIsNone(router_import.parse_mikhmon_expiry("2025-02-30 08:09:10"))
        self.assertIsNone(router_import.parse_mikhmon_expiry("vc-123-05.12.24-"))
