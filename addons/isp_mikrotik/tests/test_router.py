import re

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import get_db_name
from odoo.tools import config

from .common import MikrotikCase


@tagged("post_install", "-at_install")
class TestRouter(MikrotikCase):
    def test_test_connection_reports_the_router(self):
        result = self.router.action_test_connection()
        self.assertEqual(result["params"]["type"], "success")
        self.assertIn("RouterOS 7.16 (stable)", result["params"]["message"])
        self.assertEqual(self.router.state, "online")
        self.assertEqual(self.router.board_name, "hAP ax^2")
        self.assertEqual(self.router.identity, "SimRouter")
        self.assertGreater(self.router.memory_total_mb, 0)
        self.sim.set_refuse(True)
        result = self.router.action_test_connection()
        self.assertEqual(result["params"]["type"], "danger")
        self.assertIn("Connection refused", result["params"]["message"])
        self.assertEqual(self.router.state, "offline")

    def test_password_encrypted_and_for_admins_only(self):
        self.assertNotIn(self.sim.password, self.router.sudo().password_encrypted)
        self.assertEqual(self.router._isp_secret("password"), self.sim.password)
        manager = new_test_user(
            self.env,
            "isp-mgr",
            groups="isp_billing.group_isp_manager",
            company_id=self.company.id,
        )
        router = self.router.with_user(manager)
        self.assertTrue(router.name)
        with self.assertRaises(AccessError):
            router.read(["password"])
        with self.assertRaises(AccessError):
            router.read(["password_encrypted"])
        # managers still test and sync (the password is read by the system, not shown)
        self.assertEqual(router.action_test_connection()["params"]["type"], "success")

    def test_multi_company(self):
        other = self.env["res.company"].create({"name": "Other ISP"})
        foreign = self.env["isp.router"].create(
            {"name": "Theirs", "host": "10.9.9.9", "company_id": other.id}
        )
        user = new_test_user(
            self.env, "isp-usr", groups="isp_billing.group_isp_user", company_id=self.company.id
        )
        visible = self.env["isp.router"].with_user(user).search([])
        self.assertIn(self.router, visible)
        self.assertNotIn(foreign, visible)

    def test_offline_router_alerts_managers_once(self):
        self.sim.set_refuse(True)
        self.router._check_health()
        self.assertFalse(self.router.activity_ids)
        self.router.offline_since = self.router.offline_since.replace(year=2000)
        self.router._check_health()
        activities = self.router.activity_ids
        self.assertTrue(activities)
        self.assertIn("unreachable", activities[0].summary)
        self.router._check_health()
        self.assertEqual(self.router.activity_ids, activities)
        self.sim.set_refuse(False)
        self.router._check_health()
        self.assertEqual(self.router.state, "online")
        self.assertFalse(self.router.activity_ids)

    def test_done_jobs_vacuumed_after_a_week(self):
        now = self.router.create_date
        jobs = self.Job.create(
            [{"router_id": self.router.id, "kind": "full", "state": "done"} for _i in range(3)]
        )
        jobs[0].date_done = now.replace(year=2000)
        jobs[1].date_done = now.replace(year=2001)
        jobs[2].date_done = now
        self.assertEqual(self.Job._gc_done_jobs(limit=1), (1, True), "a full batch: call again")
        self.assertEqual(self.Job._gc_done_jobs(limit=5), (1, False))
        self.assertEqual(jobs.exists(), jobs[2])

    def test_setup_script_and_login_page(self):
        provider = self.env["payment.provider"].search([("code", "=", "stripe")], limit=1)
        if provider:
            provider.state = "test"
        script = self.router._setup_script(with_password=True)
        self.assertIn(
            f'/user add name="isp-billing" group="isp-billing" password="{self.sim.password}"',
            script,
        )
        self.assertIn(f"port={self.sim.port}", script)
        self.assertIn("hotspot/login.html", script)
        # the script embeds a fresh set-up token; only its hash is stored
        token = re.search(r"login\.html\\\?token=([\w-]+)\"", script).group(1)
        self.assertTrue(self.router._check_setup_token(token))
        self.assertNotIn(token, str(self.router.sudo().read()))
        base_host = self.router.get_base_url().split("//")[1].split(":")[0].split("/")[0]
        self.assertIn(f'walled-garden add dst-host="{base_host}"', script)
        self.assertIn(f'walled-garden ip add dst-host="{base_host}"', script)
        # walled-garden/ip has no comment (routeros.md): entries are found by host, added
        # only when absent, never removed
        self.assertIn(f'walled-garden ip find dst-host="{base_host}"]] = 0', script)
        self.assertNotIn("walled-garden ip remove", script)
        for line in script.splitlines():
            if "walled-garden ip add" in line:
                self.assertNotIn("comment=", line)
        if provider:
            self.assertIn('dst-host="js.stripe.com"', script)
        self.assertNotIn(self.sim.password, self.router._setup_script())
        self.assertIn("CHANGE-ME", self.router._setup_script())
        page = self.router._login_html()
        for variable in (
            "mac",
            "ip",
            "link-login-only",
            "link-orig",
            "chap-id",
            "chap-challenge",
            "error",
        ):
            self.assertIn(f'name="{variable}" value="$({variable})"', page)
        self.assertIn(self.router._captive_url(), page)

    def test_settings_set_cron_intervals(self):
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.isp_mikrotik_reconcile_minutes, 5)
        settings.isp_mikrotik_poll_minutes = 7
        settings.execute()
        cron = self.env.ref("isp_mikrotik.ir_cron_isp_router_poll_sessions")
        self.assertEqual((cron.interval_number, cron.interval_type), (7, "minutes"))

    def test_setup_script_says_what_it_changes_and_warns_on_localhost(self):
        """The script changes only the profiles the hotspot servers use (not every profile),
        says so, and warns when Odoo's base URL names this machine only."""
        Param = self.env["ir.config_parameter"].sudo()
        Param.set_param("web.base.url", "http://localhost:8069")
        self.router.invalidate_recordset(["setup_warning"])
        self.assertIn("names this machine only", self.router.setup_warning)
        script = self.router._setup_script()
        self.assertTrue(script.startswith("# WARNING: Odoo's base URL (http://localhost:8069)"))
        self.assertIn(":log warning \"WARNING: Odoo's base URL (http://localhost:8069)", script)
        self.router.hotspot_server = False
        self.assertIn(
            ":foreach s in=[/ip hotspot find] do={ /ip hotspot profile set [find name=["
            "/ip hotspot get $s profile]] login-by=http-chap,http-pap,cookie "
            "html-directory=hotspot }",
            script,
        )
        self.assertNotIn("/ip hotspot profile set [find] ", script)
        self.assertIn("# What it changes, and nothing else:", script)
        self.assertIn("# - the profile of every hotspot server (the profiles they use)", script)
        for base in ("https://isp.example.com", "http://127.0.0.1:8069", "http://[::1]:8069"):
            with self.subTest(base=base):
                Param.set_param("web.base.url", base)
                self.router.invalidate_recordset(["setup_warning"])
                local = base != "https://isp.example.com"
                self.assertEqual(bool(self.router.setup_warning), local)
                self.assertEqual("WARNING" in self.router._setup_script(), local)
        self.router.hotspot_server = "hs-lobby"
        script = self.router._setup_script()
        self.assertIn(
            '/ip hotspot profile set [find name=[/ip hotspot get [find name="hs-lobby"] '
            "profile]] login-by=http-chap,http-pap,cookie html-directory=hotspot",
            script,
        )
        self.assertNotIn(":foreach", script)
        self.assertIn('# - the profile of the hotspot server "hs-lobby"', script)


@tagged("post_install", "-at_install")
class TestRouterDownloads(HttpCase):
    def test_downloads(self):
        router = self.env["isp.router"].create({"name": "R", "host": "10.1.1.1"})
        new_test_user(
            self.env, "isp-dl", groups="isp_billing.group_isp_manager", password="isp-dl-pass1"
        )
        new_test_user(
            self.env, "isp-dl-user", groups="isp_billing.group_isp_user", password="isp-dl-pass2"
        )
        url = f"/isp_mikrotik/router/{router.id}"
        # the router itself: no session, the database named as a single-database server would
        # (the development odoo.conf's dbfilter names another database)
        self.patch(config, "options", {**config.options, "dbfilter": ""})
        public = {"X-Odoo-Database": get_db_name()}
        self.assertEqual(self.url_open(f"{url}/login.html", headers=public).status_code, 404)
        self.assertEqual(
            self.url_open(f"{url}/login.html?token=wrong", headers=public).status_code, 404
        )
        token = router._issue_setup_token()
        response = self.url_open(f"{url}/login.html?token={token}", headers=public)
        self.assertEqual(response.status_code, 200)
        self.assertIn("link-login-only", response.text)
        self.authenticate("isp-dl-user", "isp-dl-pass2")
        self.assertEqual(self.url_open(f"{url}/setup.rsc").status_code, 404)
        self.authenticate("isp-dl", "isp-dl-pass1")
        response = self.url_open(f"{url}/setup.rsc")
        self.assertEqual(response.status_code, 200)
        self.assertIn("CHANGE-ME", response.text)
        self.assertIn("attachment", response.headers["Content-Disposition"])
        # the downloaded script's token is the valid one; the earlier one no longer works
        new_token = re.search(r"\?token=([\w-]+)", response.text).group(1)
        self.assertNotEqual(new_token, token)
        self.authenticate(None, None)
        self.assertEqual(
            self.url_open(f"{url}/login.html?token={token}", headers=public).status_code, 404
        )
        self.assertEqual(
            self.url_open(f"{url}/login.html?token={new_token}", headers=public).status_code,
            200,
        )
        self.authenticate("isp-dl", "isp-dl-pass1")
        self.assertEqual(self.url_open(f"{url}/login.html").status_code, 200)

    def test_setup_script_needs_write_access(self):
        """Downloading the set-up script rotates the set-up token: refused (404) to whoever
        may only read the router, and the token is kept."""
        router = self.env["isp.router"].create({"name": "R", "host": "10.1.1.1"})
        token = router._issue_setup_token()
        digest = router.setup_token_hash
        new_test_user(
            self.env, "isp-ro-user", groups="isp_billing.group_isp_user", password="isp-ro-pass1"
        )
        manager = new_test_user(
            self.env,
            "isp-ro-mgr",
            groups="isp_billing.group_isp_manager",
            password="isp-ro-pass2",
        )
        # a manager who may read this router but not write it (a write-only record rule)
        self.env["ir.rule"].create(
            {
                "name": "no write on R",
                "model_id": self.env.ref("isp_mikrotik.model_isp_router").id,
                "groups": [(4, self.env.ref("isp_billing.group_isp_manager").id)],
                "domain_force": f"[('id', '!=', {router.id})]",
                "perm_read": False,
                "perm_create": False,
                "perm_unlink": False,
                "perm_write": True,
            }
        )
        self.assertTrue(router.with_user(manager).has_access("read"))
        self.assertFalse(router.with_user(manager).has_access("write"))
        url = f"/isp_mikrotik/router/{router.id}/setup.rsc"
        for login, password in (("isp-ro-user", "isp-ro-pass1"), ("isp-ro-mgr", "isp-ro-pass2")):
            with self.subTest(login=login):
                self.authenticate(login, password)
                response = self.url_open(url)
                self.assertIn(response.status_code, (403, 404))
                self.assertNotIn("/tool fetch", response.text)
                router.invalidate_recordset(["setup_token_hash"])
                self.assertEqual(router.setup_token_hash, digest)
                self.assertTrue(router._check_setup_token(token))
