"""An operator's administrator sets its own company's ISP settings (issue #18): the current
company only, the whitelisted fields only, through res.company's own checks."""

from unittest.mock import patch

from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.isp_billing.tests.browser import ChromiumMixin
from odoo.addons.isp_platform.models.isp_platform_company_settings import (
    OPERATOR_COMPANY_FIELDS,
)

SETTINGS = "isp.platform.company.settings"


@tagged("post_install", "-at_install")
class TestPlatformCompanySettings(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Company = cls.env["res.company"]
        cls.company_a = Company.create({"name": "Alpha Wi-Fi", "isp_wifi_ssid": "ALPHA"})
        cls.company_b = Company.create({"name": "Bravo Net", "isp_wifi_ssid": "BRAVO"})
        cls.admin_a = cls._user(
            "set_admin_a", cls.company_a, "isp_platform.group_isp_operator_admin"
        )
        cls.admin_b = cls._user(
            "set_admin_b", cls.company_b, "isp_platform.group_isp_operator_admin"
        )
        cls.staff_a = cls._user("set_staff_a", cls.company_a, "isp_billing.group_isp_manager")
        cls.b_before = cls.company_b.read(list(OPERATOR_COMPANY_FIELDS))[0]

    @classmethod
    def _user(cls, login, company, groups):
        return new_test_user(
            cls.env,
            login=login,
            groups=f"base.group_user,{groups}",
            company_id=company.id,
            company_ids=[Command.set(company.ids)],
        )

    def _env(self, user, companies=None):
        companies = companies or user.company_ids
        return self.env(user=user, context={"allowed_company_ids": companies.ids})

    def _open(self, user, companies=None, **values):
        """What the web client does: defaults, then a record created with the form's values."""
        Settings = self._env(user, companies)[SETTINGS]
        vals = Settings.default_get(list(Settings._fields))
        vals.update(values)
        return Settings.create(vals)

    def _assert_b_unchanged(self):
        self.company_b.invalidate_recordset()
        self.assertEqual(self.company_b.read(list(OPERATOR_COMPANY_FIELDS))[0], self.b_before)

    def test_admin_sees_and_saves_own_company(self):
        Settings = self._env(self.admin_a)[SETTINGS]
        defaults = Settings.default_get(["company_id", "isp_wifi_ssid", "isp_dunning_days"])
        self.assertEqual(defaults["company_id"], self.company_a.id)
        self.assertEqual(defaults["isp_wifi_ssid"], "ALPHA")
        self.assertEqual(defaults["isp_dunning_days"], "0,3,7")

        settings = self._open(
            self.admin_a,
            isp_wifi_ssid="ALPHA-NEW",
            isp_login_address="http://alpha.wifi",
            isp_default_device_limit=5,
            isp_dunning_enabled=True,
            isp_dunning_days="7, 0,3,3",
            isp_dunning_push=False,
            isp_access_log_retention_days=30,
            isp_paybill_number="400200",
            isp_mikrotik_inactive_action="remove",
            isp_hotspot_ip_voucher_limit=0,
            isp_reminder_pppoe_days="3,1",
        )
        self.assertTrue(settings.action_save())

        a = self.company_a
        a.invalidate_recordset()
        self.assertEqual(a.isp_wifi_ssid, "ALPHA-NEW")
        self.assertEqual(a.isp_login_address, "http://alpha.wifi")
        self.assertEqual(a.isp_default_device_limit, 5)
        self.assertTrue(a.isp_dunning_enabled)
        # written through res.company.write: its normalisation ran
        self.assertEqual(a.isp_dunning_days, "0,3,7")
        self.assertEqual(settings.isp_dunning_days, "0,3,7")
        self.assertFalse(a.isp_dunning_push)
        self.assertEqual(a.isp_access_log_retention_days, 30)
        self.assertEqual(a.isp_paybill_number, "400200")
        self.assertEqual(a.isp_mikrotik_inactive_action, "remove")
        self.assertEqual(a.isp_hotspot_ip_voucher_limit, 0)
        self.assertEqual(a.isp_reminder_pppoe_days, "3,1")
        self._assert_b_unchanged()
        # the operator could not write its company itself: the form is the way
        with self.assertRaises(AccessError):
            self.company_a.with_user(self.admin_a).write({"isp_wifi_ssid": "DIRECT"})

    def test_only_changed_fields_are_written(self):
        Company = type(self.env["res.company"])
        write = Company.write
        with patch.object(Company, "write", autospec=True, side_effect=write) as spy:
            self._open(self.admin_a).action_save()
            spy.assert_not_called()
            self._open(self.admin_a, isp_default_device_limit=4).action_save()
            spy.assert_called_once()
            self.assertEqual(spy.call_args.args[1], {"isp_default_device_limit": 4})
        self.assertEqual(self.company_a.isp_default_device_limit, 4)

    def test_other_company_refused(self):
        # a company of which the user is not a member, as the client would send it
        with self.assertRaises(AccessError):
            self._env(self.admin_a, self.company_b)[SETTINGS].default_get(["isp_wifi_ssid"])
        with self.assertRaises(AccessError):
            self._env(self.admin_a, self.company_b)[SETTINGS].create({"isp_wifi_ssid": "X"})
        # a company id given by the client is ignored: the record is the current company's
        settings = self._open(self.admin_a, company_id=self.company_b.id, isp_wifi_ssid="MINE")
        self.assertEqual(settings.company_id, self.company_a)
        settings.write({"company_id": self.company_b.id})
        self.assertEqual(settings.company_id, self.company_a)
        settings.action_save()
        self.assertEqual(self.company_a.isp_wifi_ssid, "MINE")
        self._assert_b_unchanged()
        # B's administrator cannot see nor save A's record (creator rule)
        as_b = settings.with_env(self._env(self.admin_b))
        self.assertFalse(as_b.search([("id", "=", settings.id)]))
        with self.assertRaises(AccessError):
            as_b.action_save()
        # in sudo, env.company is unchecked: refused rather than trusted
        with self.assertRaises(AccessError):
            self._env(self.admin_a, self.company_b)[SETTINGS].sudo().create({})

    def test_record_of_another_company_not_saved(self):
        """A user of both companies who opened the form in A and switched to B does not
        write A's form into B."""
        both = self.company_a | self.company_b
        admin = self._user("set_admin_ab", self.company_a, "isp_platform.group_isp_operator_admin")
        admin.company_ids = [Command.set(both.ids)]
        settings = self._open(admin, self.company_a, isp_wifi_ssid="FROM-A")
        in_b = settings.with_env(
            self.env(
                user=admin, context={"allowed_company_ids": [self.company_b.id, self.company_a.id]}
            )
        )
        with self.assertRaises(UserError):
            in_b.action_save()
        self._assert_b_unchanged()

    def test_fields_outside_whitelist_refused(self):
        Settings = self._env(self.admin_a)[SETTINGS]
        for name in ("isp_platform_state", "isp_hotspot_login_hosts", "name"):
            with self.subTest(field=name):
                self.assertNotIn(name, Settings._fields)
                with self.assertRaises(ValueError):
                    Settings.create({name: "active"})
        settings = self._open(self.admin_a)
        with self.assertRaises(ValueError):
            settings.write({"isp_hotspot_login_hosts": "evil.example.net"})
        self.assertFalse(self.company_a.isp_hotspot_login_hosts)
        self.assertFalse(self.company_a.isp_platform_state)

    def test_company_checks_apply(self):
        """Written through res.company: its Python constraints and its SQL checks refuse
        what Settings refuses, and nothing is changed."""
        for values, error in (
            ({"isp_wifi_ssid": "S" * 33}, ValidationError),
            ({"isp_dunning_enabled": True, "isp_dunning_days": "0,99"}, ValidationError),
            ({"isp_paybill_number": "12 34"}, ValidationError),
            ({"isp_reminder_pppoe_days": "x"}, ValidationError),
            ({"isp_default_device_limit": 0}, IntegrityError),
            ({"isp_usage_alert_percent": 100}, IntegrityError),
        ):
            with self.subTest(values=values):
                settings = self._open(self.admin_a, **values)
                with (
                    mute_logger("odoo.sql_db"),
                    self.assertRaises(error),
                    self.cr.savepoint(),
                ):
                    settings.action_save()
        self.company_a.invalidate_recordset()
        self.assertEqual(self.company_a.isp_wifi_ssid, "ALPHA")
        self.assertEqual(self.company_a.isp_default_device_limit, 3)

    def test_isp_staff_refused(self):
        Settings = self._env(self.staff_a)[SETTINGS]
        self.assertFalse(Settings.has_access("create"))
        with self.assertRaises(AccessError):
            Settings.default_get(["isp_wifi_ssid"])
        with self.assertRaises(AccessError):
            Settings.create({"isp_wifi_ssid": "STAFF"})
        # not in sudo either: the method checks the user, not only the access rights
        with self.assertRaises(AccessError):
            Settings.browse()._isp_settings_company()
        menu = self.env.ref("isp_platform.menu_isp_platform_company_settings")
        visible = self.env["ir.ui.menu"].with_user(self.staff_a)._visible_menu_ids()
        self.assertNotIn(menu.id, visible)
        visible = self.env["ir.ui.menu"].with_user(self.admin_a)._visible_menu_ids()
        self.assertIn(menu.id, visible)
        self.assertEqual(self.company_a.isp_wifi_ssid, "ALPHA")

    def test_form_loads_for_operator_admin(self):
        Settings = self._env(self.admin_a)[SETTINGS]
        views = Settings.get_views([(False, "form")])
        arch = views["views"]["form"]["arch"]
        self.assertIn('name="action_save"', arch)
        fields = views["models"][SETTINGS]["fields"]
        self.assertTrue(set(OPERATOR_COMPANY_FIELDS) <= set(fields))
        # the company fields' own labels and help
        self.assertEqual(
            Settings.fields_get(["isp_wifi_ssid"])["isp_wifi_ssid"]["string"],
            "Wi-Fi Network Name",
        )
        self.assertIn("SSID", Settings.fields_get(["isp_wifi_ssid"])["isp_wifi_ssid"]["help"])
        # the menu's action is readable by the operator's administrator
        action = self.env.ref("isp_platform.isp_platform_company_settings_action")
        self.assertEqual(
            self.env["ir.actions.actions"]
            .with_user(self.admin_a)
            ._for_xml_id("isp_platform.isp_platform_company_settings_action")["res_model"],
            action.res_model,
        )

    def test_system_admin_still_uses_settings(self):
        admin = self._user(
            "set_sysadmin", self.company_a, "base.group_system,isp_billing.group_isp_manager"
        )
        config = self._env(admin)["res.config.settings"].create({"isp_wifi_ssid": "SYS"})
        config.execute()
        self.assertEqual(self.company_a.isp_wifi_ssid, "SYS")
        settings = self._open(admin, isp_default_device_limit=7)
        settings.action_save()
        self.assertEqual(self.company_a.isp_default_device_limit, 7)
        self._assert_b_unchanged()


@tagged("post_install", "-at_install")
class TestPlatformCompanySettingsUi(ChromiumMixin, HttpCase):
    def test_operator_admin_saves_in_the_web_client(self):
        company = self.env["res.company"].create({"name": "Alpha UI", "isp_wifi_ssid": "ALPHA"})
        other = self.env["res.company"].create({"name": "Bravo UI", "isp_wifi_ssid": "BRAVO"})
        new_test_user(
            self.env,
            login="set_ui_admin",
            groups="base.group_user,isp_platform.group_isp_operator_admin",
            company_id=company.id,
            company_ids=[Command.set(company.ids)],
        )
        code = """
            const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
            const find = async (selector) => {
                for (let i = 0; i < 150; i++) {
                    const element = document.querySelector(selector);
                    if (element) { return element; }
                    await sleep(100);
                }
                throw new Error(`not found: ${selector}`);
            };
            (async () => {
                const input = await find('.o_field_widget[name="isp_wifi_ssid"] input');
                if (input.value !== 'ALPHA') { throw new Error(`shown: ${input.value}`); }
                input.value = 'ALPHA-UI';
                input.dispatchEvent(new Event('input', { bubbles: true }));
                input.dispatchEvent(new Event('change', { bubbles: true }));
                const save = await find('.o_form_view button[name="action_save"]');
                save.click();
                await sleep(500);
                for (let i = 0; i < 150; i++) {
                    const button = document.querySelector('button[name="action_save"]');
                    if (/\\/\\d+$/.test(location.pathname) && button && !button.disabled) {
                        console.log('test successful');
                        return;
                    }
                    await sleep(100);
                }
                throw new Error('not saved');
            })().catch((error) => console.error(error.message));
        """
        with self._chromium("isp_platform_company_settings.png"):
            self.browser_js(
                "/odoo/action-isp_platform.isp_platform_company_settings_action",
                code,
                login="set_ui_admin",
                timeout=120,
            )
        self.assertEqual(company.isp_wifi_ssid, "ALPHA-UI")
        self.assertEqual(other.isp_wifi_ssid, "BRAVO")


@tagged("post_install", "-at_install")
class TestOperatorSmsGateway(TransactionCase):
    """An operator sends its SMS through a gateway of its own (its credits, its sender
    name), chosen on ISP Settings; never through another operator's."""

    def test_own_gateway_chosen_other_refused(self):
        Company = self.env["res.company"]
        company_a = Company.create({"name": "Alpha SMS Wi-Fi"})
        company_b = Company.create({"name": "Bravo SMS Net"})
        admin_a = new_test_user(
            self.env,
            login="sms_admin_a",
            groups="base.group_user,isp_platform.group_isp_operator_admin",
            company_id=company_a.id,
            company_ids=[Command.set(company_a.ids)],
        )
        Gateway = self.env["isp.sms.gateway"]
        values = {"provider": "nextsms", "sender_id": "WIFI"}
        own = Gateway.create({**values, "name": "Alpha NextSMS", "company_id": company_a.id})
        other = Gateway.create({**values, "name": "Bravo NextSMS", "company_id": company_b.id})
        env = self.env(user=admin_a, context={"allowed_company_ids": company_a.ids})
        settings = env[SETTINGS].create({"isp_sms_gateway_id": own.id})
        settings.action_save()
        self.assertEqual(company_a.isp_sms_gateway_id, own)
        # the form offers A's gateways only
        self.assertEqual(env["isp.sms.gateway"].search([]), own)
        # B's gateway, forged by id: refused, A's choice unchanged
        settings = env[SETTINGS].create({"isp_sms_gateway_id": other.id})
        with self.assertRaises(ValidationError), self.cr.savepoint():
            settings.action_save()
        self.assertEqual(company_a.isp_sms_gateway_id, own)
        self.assertFalse(company_b.isp_sms_gateway_id)
        # the same check holds for everyone (Settings, RPC, imports)
        with self.assertRaises(ValidationError), self.cr.savepoint():
            company_b.isp_sms_gateway_id = own
