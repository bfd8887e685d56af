from urllib.parse import urlsplit

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import IspSmsCase
from .simulators import NextSmsSimulator

# where a gateway's password or API key goes
DESTINATION_FIELDS = (
    "nextsms_base_url",
    "nextsms_test_mode",
    "nextsms_test_path",
    "at_sandbox",
    "at_base_url",
    "at_sandbox_base_url",
)


@tagged("post_install", "-at_install")
class TestGatewayDestination(IspSmsCase):
    """An ISP manager sends test SMS but cannot say where the gateway's credentials go:
    otherwise a base URL of their own and Send test SMS would hand them the password."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            "isp-sms-mgr",
            groups="isp_billing.group_isp_manager",
            company_id=cls.company.id,
        )
        cls.attacker = NextSmsSimulator(username="kitonga", password="x").start()
        cls.addClassCleanup(cls.attacker.stop)

    def test_destination_fields_are_the_credentials_group(self):
        Gateway = self.env["isp.sms.gateway"]
        secret_groups = Gateway._fields["nextsms_password"].groups
        self.assertEqual(secret_groups, "base.group_system")
        self.assertEqual(Gateway._fields["at_api_key"].groups, secret_groups)
        gateway = self.gateway.with_user(self.manager)
        for name in DESTINATION_FIELDS:
            with self.subTest(field=name):
                self.assertEqual(Gateway._fields[name].groups, secret_groups)
                self.assertFalse(gateway._has_field_access(gateway._fields[name], "write"))

    def test_manager_cannot_send_the_credentials_elsewhere(self):
        gateway = self.gateway.with_user(self.manager)
        netloc = urlsplit(self.attacker.url).netloc
        for vals in (
            {"nextsms_base_url": self.attacker.url},
            # appended to the base URL: "https://host@attacker/..." goes to the attacker
            {"nextsms_test_mode": True, "nextsms_test_path": f"@{netloc}/x"},
            {"nextsms_test_path": f"@{netloc}/x"},
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                gateway.write(vals)
        at_gateway = self.at_gateway.with_user(self.manager)
        for vals in (
            {"at_base_url": self.attacker.url},
            {"at_sandbox": True},
            {"at_sandbox_base_url": self.attacker.url},
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                at_gateway.write(vals)
        # the Send test SMS button goes to the stored address, whatever the context says
        gateway.write({"test_number": "+255712000009"})
        accepted = len(self.nextsms.accepted)
        action = gateway.with_context(
            nextsms_base_url=self.attacker.url, default_nextsms_base_url=self.attacker.url
        ).action_send_test_sms()
        self.assertEqual(action["params"]["type"], "success", action["params"]["message"])
        self.assertEqual(len(self.nextsms.accepted), accepted + 1)
        self.assertFalse(self.attacker.requests)

    def test_form_opens_for_managers_and_admins_set_the_url(self):
        views = (
            self.env["isp.sms.gateway"]
            .with_user(self.manager)
            .get_views([(False, "list"), (False, "form")])
        )
        form = views["views"]["form"]["arch"]
        self.assertIn('name="test_number"', form)
        self.assertNotIn("nextsms_base_url", form)
        admin = new_test_user(
            self.env,
            "isp-sms-admin",
            groups="base.group_system,isp_billing.group_isp_manager",
            company_id=self.company.id,
        )
        self.gateway.with_user(admin).write({"nextsms_base_url": self.nextsms.url + "/"})
        self.assertEqual(self.gateway.nextsms_base_url, self.nextsms.url + "/")
