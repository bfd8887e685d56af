from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import MikrotikCase

# where the router's API password goes
DESTINATION_FIELDS = ("host", "port", "use_tls", "tls_verify")


@tagged("post_install", "-at_install")
class TestRouterDestination(MikrotikCase):
    """An ISP manager tests and syncs routers but cannot say where their password goes:
    otherwise pointing a router at their own address (or at internal ports, one after the
    other) and pressing Test Connection would hand them the password (or a port scan)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            "isp-router-mgr",
            groups="isp_billing.group_isp_manager",
            company_id=cls.company.id,
        )

    def test_destination_fields_are_the_passwords_group(self):
        password_groups = self.env["isp.router"]._fields["password"].groups
        self.assertEqual(password_groups, "base.group_system")
        router = self.router.with_user(self.manager)
        for name in DESTINATION_FIELDS:
            with self.subTest(field=name):
                self.assertEqual(router._fields[name].groups, password_groups)
                self.assertFalse(router._has_field_access(router._fields[name], "write"))

    def test_manager_cannot_redirect_the_password(self):
        attacker = self._simulator()
        router = self.router.with_user(self.manager)
        for vals in (
            {"host": "attacker.example"},
            {"port": attacker.port},
            {"use_tls": True},
            {"tls_verify": False},
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                router.write(vals)
        # nor through a new router or a copy (whose host would be theirs)
        with self.assertRaises(AccessError):
            self.env["isp.router"].with_user(self.manager).create(
                {"name": "Mine", "host": "127.0.0.1", "port": attacker.port}
            )
        with self.assertRaises(AccessError):
            router.copy({"name": "Copy"})
        # nor through the context of the Test Connection button: the stored address only
        result = router.with_context(
            host="127.0.0.1", port=attacker.port, default_port=attacker.port
        ).action_test_connection()
        self.assertEqual(result["params"]["type"], "success")
        self.assertEqual(attacker.connections, 0)
        self.assertGreater(self.sim.connections, 0)
        self.assertEqual(self.router.port, self.sim.port)
        # the manager still uses the router: name, services, sync, test
        router.write({"name": "Tower A (north)", "service_pppoe": False})
        self.assertEqual(self.router.name, "Tower A (north)")

    def test_views_open_for_managers_and_admins_change_the_address(self):
        Router = self.env["isp.router"].with_user(self.manager)
        views = Router.get_views([(False, "list"), (False, "form"), (False, "search")])
        for view in views["views"].values():
            self.assertNotIn('name="host"', view["arch"])
        self.assertIn('name="name"', views["views"]["form"]["arch"])
        self.assertEqual(Router.browse(self.router.id).read(["name"])[0]["name"], "Tower A")
        # a system administrator moves the router
        admin = new_test_user(
            self.env,
            "isp-router-admin",
            groups="base.group_system,isp_billing.group_isp_manager",
            company_id=self.company.id,
        )
        other = self._simulator()
        self.router.with_user(admin).write({"host": "127.0.0.1", "port": other.port})
        result = self.router.with_user(admin).action_test_connection()
        self.assertEqual(result["params"]["type"], "success")
        self.assertEqual(other.connections, 1)
