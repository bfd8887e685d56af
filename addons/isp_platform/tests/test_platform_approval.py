"""Approving an operator application: what the operator gets, exactly once, and what its
administrator may and may not do."""

from unittest.mock import patch

import psycopg2
from cryptography.fernet import Fernet

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, TransactionCase, tagged
from odoo.tools import config, mute_logger

from .test_platform_approval_common import PlatformApprovalMixin

OPERATOR_EXPECTED_GROUPS = (
    "base.group_user",
    "isp_platform.group_isp_operator_admin",
    "isp_billing.group_isp_manager",
    "isp_billing.group_isp_user",
    "account.group_account_manager",
    "account.group_account_invoice",
    "product.group_product_manager",
)
OPERATOR_FORBIDDEN_GROUPS = (
    "base.group_system",
    "base.group_erp_manager",
    "isp_platform.group_isp_platform_manager",
)


@tagged("post_install", "-at_install")
class TestPlatformApproval(PlatformApprovalMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(
            patch.dict(config.options, {"isp_credential_key": Fernet.generate_key().decode()})
        )
        cls._platform_setup()
        cls.mails_before = cls.env["mail.mail"].search([]).ids
        cls.ke_app = cls._application(
            "Kisumu Air", "admin@kisumu-air.example", domain="wifi.kisumu-air.example"
        )
        cls.ke = cls._approve(cls.ke_app)
        cls.tz_app = cls._application("Arusha Links", "admin@arusha.example", country="base.tz")
        cls.tz = cls._approve(cls.tz_app)

    def _new_mails(self, email):
        return (
            self.env["mail.mail"]
            .search([("id", "not in", self.mails_before)])
            .filtered(
                lambda m: email in (m.email_to or "") or email in m.recipient_ids.mapped("email")
            )
        )

    def test_company_chart_and_currency(self):
        app = self.ke_app
        self.assertEqual(app.state, "approved")
        company = self.ke
        self.assertEqual(company.name, "Kisumu Air")
        self.assertEqual(company.country_id, self.env.ref("base.ke"))
        self.assertEqual(company.currency_id, self.env.ref("base.KES"), "chart loading keeps it")
        self.assertTrue(self.env.ref("base.KES").active)
        self.assertEqual(company.phone, "+254712345678")
        self.assertEqual(company.chart_template, app.chart_template)
        accounts = self.env["account.account"].search_count([("company_ids", "in", company.ids)])
        self.assertGreater(accounts, 20)
        ke_module = self.env["ir.module.module"].search([("name", "=", "l10n_ke")])
        if ke_module.state != "installed":
            # never installed from the approval: the generic chart and a note to the owner
            self.assertEqual(app.chart_template, "generic_coa")
            notes = "".join(app.message_ids.mapped(lambda m: str(m.body or "")))
            self.assertIn("generic chart", notes)
            self.assertIn("localisation", notes)
            self.assertEqual(ke_module.state, "uninstalled")
        tz_module = self.env["ir.module.module"].search([("name", "=", "l10n_tz_account")])
        if tz_module.state == "installed":
            self.assertEqual(self.tz_app.chart_template, "tz")
        self.assertEqual(self.tz.currency_id, self.env.ref("base.TZS"))

    def test_admin_user(self):
        user = self.ke_app.user_id
        self.assertEqual(user.login, "admin@kisumu-air.example")
        self.assertEqual(user.company_id, self.ke)
        self.assertEqual(user.company_ids, self.ke, "its own company only")
        self.assertTrue(user._is_internal())
        for xmlid in OPERATOR_EXPECTED_GROUPS:
            self.assertTrue(user.has_group(xmlid), xmlid)
        for xmlid in OPERATOR_FORBIDDEN_GROUPS:
            self.assertFalse(user.has_group(xmlid), xmlid)
        # invited to choose a password (auth_signup), never given one
        self.assertEqual(user.partner_id.signup_type, "signup")
        self.assertFalse(user.sudo().password)

    def test_platform_partner_and_owner(self):
        partner = self.ke_app.partner_id
        self.assertEqual(partner.company_id, self.platform, "a customer of the platform")
        self.assertTrue(partner.is_company)
        self.assertEqual(partner.email, "admin@kisumu-air.example")
        self.assertIn(self.ke, self.owner.company_ids, "the platform owner may switch to it")
        self.assertFalse(self.ke_app.activity_ids, "the review activity is done")
        subscription = self.env["isp.platform.subscription"].search(
            [("operator_company_id", "=", self.ke.id)]
        )
        self.assertEqual(len(subscription), 1, "one platform subscription")
        self.assertEqual(subscription.partner_id, partner)
        self.assertEqual(subscription.plan_id, self.plan)
        self.assertEqual(subscription.company_id, self.platform)

    def test_bundles_in_its_currency(self):
        bundles = self.env["product.template"].search([("company_id", "=", self.ke.id)])
        self.assertEqual(
            sorted(bundles.mapped(lambda b: (b.name, b.list_price))),
            [("1 Day", 50.0), ("1 Hour", 20.0), ("1 Month", 800.0), ("1 Week", 250.0)],
        )
        self.assertEqual(bundles.currency_id, self.env.ref("base.KES"))
        self.assertTrue(all(b.is_isp_bundle and b.isp_service_type == "hotspot" for b in bundles))
        for variant in bundles.product_variant_ids:
            self.assertFalse(variant._isp_sale_error(self.ke), "sellable by the operator")
        tz_prices = self.env["product.template"].search([("company_id", "=", self.tz.id)])
        self.assertEqual(sorted(tz_prices.mapped("list_price")), [500.0, 1000.0, 5000.0, 20000.0])

    def test_flagged_platform_bundles_converted(self):
        """The platform's bundles flagged as operator defaults are copied, priced in the
        operator's currency at today's rate (two significant digits)."""
        Rate = self.env["res.currency.rate"]
        Rate.search([("currency_id", "in", [self.env.ref("base.KES").id])]).unlink()
        Rate.create(
            [
                {"currency_id": self.env.ref("base.KES").id, "rate": 0.0498, "company_id": False},
                {"currency_id": self.env.ref("base.TZS").id, "rate": 1.0, "company_id": False},
            ]
        )
        self.env["product.template"].create(
            {
                "name": "Platform Daily",
                "is_isp_bundle": True,
                "list_price": 1000,
                "isp_duration_value": 1,
                "isp_duration_unit": "days",
                "company_id": self.platform.id,
                "isp_platform_default": True,
            }
        )
        app = self._application("Nakuru Net", "admin@nakuru.example")
        company = self._approve(app)
        bundles = self.env["product.template"].search([("company_id", "=", company.id)])
        self.assertEqual(bundles.mapped("name"), ["Platform Daily"])
        self.assertEqual(bundles.list_price, 50.0)
        self.assertEqual(bundles.currency_id.name, "KES")
        self.assertFalse(bundles.taxes_id)
        self.assertFalse(bundles.isp_platform_default)

    def test_providers_disabled_without_credentials(self):
        providers = (
            self.env["payment.provider"]
            .with_context(active_test=False)
            .search([("company_id", "=", self.ke.id), ("code", "in", ("daraja", "clickpesa"))])
        )
        self.assertEqual(sorted(providers.mapped("code")), ["clickpesa", "daraja"], "one each")
        codes = dict(self.env["payment.provider"]._fields["code"]._description_selection(self.env))
        if "pesapal" in codes:
            pesapal = (
                self.env["payment.provider"]
                .with_context(active_test=False)
                .search([("company_id", "=", self.ke.id), ("code", "=", "pesapal")])
            )
            self.assertEqual(len(pesapal), 1)
            self.assertEqual(pesapal.state, "disabled")
            self.assertFalse(pesapal.pesapal_consumer_key_encrypted)
        for provider in providers:
            self.assertEqual(provider.state, "disabled")
            self.assertFalse(provider.daraja_consumer_key_encrypted)
            self.assertFalse(provider.clickpesa_api_key_encrypted)
            self.assertEqual(provider.website_id, self.ke_app.website_id)

    def test_website(self):
        website = self.ke_app.website_id
        self.assertEqual(website.company_id, self.ke)
        self.assertEqual(website.domain, "https://wifi.kisumu-air.example")
        self.assertTrue(self.tz_app.website_id)
        self.assertFalse(self.tz_app.website_id.domain)

    def test_emails(self):
        mails = self._new_mails("admin@kisumu-air.example")
        subjects = mails.mapped("subject")
        self.assertTrue(any("account is ready" in (s or "") for s in subjects), subjects)
        body = "".join(mails.mapped("body_html"))
        self.assertIn("/web/login", body)
        # the link to choose a password (a sign-up token of the administrator's partner)
        invitations = mails.filtered(lambda m: "/web/signup" in (m.body_html or ""))
        self.assertEqual(len(invitations), 1, "one link: no separate invitation sent at once")
        self.assertIn("token=", invitations.body_html)

    def test_approve_exactly_once(self):
        with self.assertRaises(UserError):
            self.ke_app.with_user(self.owner).action_approve()
        self.assertEqual(self.env["res.company"].search_count([("name", "=", "Kisumu Air")]), 1)
        self.assertEqual(
            self.env["res.users"].search_count([("login", "=", "admin@kisumu-air.example")]), 1
        )

    def test_only_platform_owner_approves(self):
        app = self._application("Eldoret Fibre", "admin@eldoret.example")
        manager = self.env["res.users"].create(
            {
                "name": "ISP manager",
                "login": "isp-manager-p2",
                "company_id": self.platform.id,
                "company_ids": [(6, 0, self.platform.ids)],
                "group_ids": [(6, 0, [self.env.ref("isp_billing.group_isp_manager").id])],
            }
        )
        for user in (manager, self.ke_app.user_id):
            with self.assertRaises(AccessError):
                app.with_user(user).action_approve()
            with self.assertRaises(AccessError):
                app.with_user(user).read(["email"])
        self.assertEqual(app.state, "pending")
        self.assertFalse(app.company_id)

    def test_reject(self):
        app = self._application("Mombasa Wave", "admin@mombasa.example")
        wizard = (
            self.env["isp.platform.application.reject"]
            .with_user(self.owner)
            .create({"application_id": app.id, "reason": "Coverage area not served yet."})
        )
        wizard.action_reject()
        self.assertEqual(app.state, "rejected")
        mail = self._new_mails("admin@mombasa.example").filtered(
            lambda m: "Coverage area not served yet." in (m.body_html or "")
        )
        self.assertTrue(mail, "the applicant is told the reason")
        with self.assertRaises(UserError):
            app.with_user(self.owner).action_approve()
        self.assertFalse(app.company_id)
        self.assertFalse(self.env["res.company"].search([("name", "=", "Mombasa Wave")]))
        with self.assertRaises(UserError):
            app.with_user(self.owner)._reject("again")

    # --- the operator administrator on its own company ------------------------------
    def test_operator_configures_own_provider_only(self):
        user = self.ke_app.user_id
        Provider = self.env["payment.provider"].with_user(user).with_context(active_test=False)
        own = Provider.search([("code", "=", "daraja")])
        self.assertEqual(own.company_id, self.ke, "sees its own provider only")
        own.write(
            {
                "isp_op_daraja_consumer_key": "ke-key",
                "isp_op_daraja_consumer_secret": "ke-secret",
                "isp_op_daraja_passkey": "ke-pass",
                "daraja_shortcode": "174379",
            }
        )
        self.assertEqual(own.isp_op_daraja_consumer_key, "ke-key")
        self.assertEqual(own.sudo()._isp_secret("daraja_consumer_secret"), "ke-secret")
        self.assertNotEqual(own.sudo().daraja_consumer_key_encrypted, "ke-key", "encrypted")
        # the system fields themselves stay the system administrators'
        with self.assertRaises(AccessError):
            own.write({"daraja_consumer_key": "direct"})
        # where the secret goes stays with the platform's administrators
        with self.assertRaises(AccessError):
            own.write({"daraja_base_url": "http://127.0.0.1:5432"})
        with self.assertRaises(AccessError):
            own.write({"company_id": self.tz.id})
        other = self.env["payment.provider"].search(
            [("company_id", "=", self.tz.id), ("code", "=", "daraja")]
        )
        with self.assertRaises(AccessError):
            other.with_user(user).write({"isp_op_daraja_consumer_key": "stolen"})
        with self.assertRaises(AccessError):
            other.with_user(user).read(["daraja_shortcode"])
        with self.assertRaises(AccessError):
            other.with_user(user).read(["isp_op_daraja_consumer_key"])
        # an ISP manager of the operator is not its administrator
        manager = self.env["res.users"].create(
            {
                "name": "Kisumu staff",
                "login": "kisumu-staff-p2",
                "company_id": self.ke.id,
                "company_ids": [(6, 0, self.ke.ids)],
                "group_ids": [(6, 0, [self.env.ref("isp_billing.group_isp_manager").id])],
            }
        )
        with self.assertRaises(AccessError):
            own.with_user(manager).write({"isp_op_daraja_consumer_key": "staff"})
        self.assertFalse(other.daraja_consumer_key_encrypted)

    def test_operator_sms_gateway_and_router(self):
        user = self.ke_app.user_id
        env = self.env(user=user, context={"allowed_company_ids": self.ke.ids})
        gateway = env["isp.sms.gateway"].create(
            {
                "name": "AT",
                "provider": "africastalking",
                "isp_op_at_username": "kisumu",
                "isp_op_at_api_key": "k",
            }
        )
        self.assertEqual(gateway.company_id, self.ke)
        self.assertEqual(gateway.isp_op_at_api_key, "k")
        self.assertEqual(gateway.sudo()._isp_secret("at_api_key"), "k")
        with self.assertRaises(AccessError):
            gateway.write({"at_base_url": "http://169.254.169.254"})
        with self.assertRaises(AccessError):
            env["isp.sms.gateway"].create(
                {"name": "x", "company_id": self.tz.id, "isp_op_at_username": "x"}
            )
        router = env["isp.router"].create(
            {"name": "Kisumu core", "isp_op_host": "10.20.0.1", "isp_op_password": "r-pass"}
        )
        self.assertEqual(router.company_id, self.ke)
        self.assertEqual(router.sudo().host, "10.20.0.1")
        for host in (
            "127.0.0.1",
            "127.1",
            "2130706433",
            "localhost",
            "169.254.169.254",
            "::ffff:127.0.0.1",
            "0.0.0.0",
        ):
            with self.assertRaises(ValidationError, msg=host):
                router.write({"isp_op_host": host})
        with self.assertRaises(ValidationError):
            env["isp.router"].create({"name": "Loop", "isp_op_host": "127.0.0.1"})
        with self.assertRaises(AccessError):
            router.write({"host": "10.20.0.2"})
        # the operator's ISP managers use routers but do not set where the password goes
        staff = self.env["res.users"].create(
            {
                "name": "Kisumu router staff",
                "login": "kisumu-router-staff-p2",
                "company_id": self.ke.id,
                "company_ids": [(6, 0, self.ke.ids)],
                "group_ids": [(6, 0, [self.env.ref("isp_billing.group_isp_manager").id])],
            }
        )
        with self.assertRaises(AccessError):
            router.with_user(staff).write({"isp_op_host": "203.0.113.9"})
        with self.assertRaises(AccessError):
            router.with_user(staff).read(["isp_op_password"])
        self.assertEqual(router.sudo().host, "10.20.0.1")
        tz_router = self.env["isp.router"].create(
            {"name": "Arusha", "host": "10.30.0.1", "company_id": self.tz.id}
        )
        self.assertFalse(env["isp.router"].search([("id", "=", tz_router.id)]))
        with self.assertRaises(AccessError):
            tz_router.with_env(env).write({"name": "mine"})

    def test_operator_forms(self):
        """The operator administrator opens and saves its provider, gateway and router the
        way the web client does (views rendered for its groups)."""
        user = self.ke_app.user_id
        env = self.env(user=user, context={"allowed_company_ids": self.ke.ids})
        provider = env["payment.provider"].search([("code", "=", "daraja")])
        with Form(provider) as form:
            form.isp_op_daraja_consumer_key = "form-key"
            form.isp_op_daraja_consumer_secret = "form-secret"
            form.isp_op_daraja_passkey = "form-pass"
            form.daraja_shortcode = "600111"
        self.assertEqual(provider.sudo()._isp_secret("daraja_consumer_key"), "form-key")
        with Form(env["isp.sms.gateway"]) as form:
            form.name = "NextSMS"
            form.provider = "nextsms"
            form.isp_op_nextsms_username = "kisumu"
            form.isp_op_nextsms_password = "pw"
        gateway = env["isp.sms.gateway"].search([("name", "=", "NextSMS")])
        self.assertEqual(gateway.company_id, self.ke)
        with Form(env["isp.router"]) as form:
            form.name = "Edge"
            form.isp_op_host = "192.168.88.1"
            form.isp_op_password = "router-pw"
        router = env["isp.router"].search([("name", "=", "Edge")])
        self.assertEqual(router.sudo()._isp_secret("password"), "router-pw")

    def test_one_pending_application_per_email(self):
        """Also for two requests at the same moment: the database refuses the second."""
        self._application("Voi Net", "Admin@Voi.example")
        with (
            self.assertRaises(psycopg2.errors.UniqueViolation),
            mute_logger("odoo.sql_db"),
            self.cr.savepoint(),
        ):
            self._application("Voi Net 2", "admin@voi.example")
        app = self.env["isp.platform.application"].search([("email", "=", "admin@voi.example")])
        self.assertEqual(len(app), 1, "stored in lower case")

    def test_owner_screens(self):
        """The platform owner's list / form / search of applications and the reject wizard
        open; the operator's administrator has no such menu."""
        Application = self.env["isp.platform.application"].with_user(self.owner)
        views = Application.get_views([(False, "list"), (False, "form"), (False, "search")])
        self.assertIn('name="action_approve"', views["views"]["form"]["arch"])
        action = self.ke_app.with_user(self.owner).read(["state"])
        self.assertEqual(action[0]["state"], "approved")
        menu = self.env.ref("isp_platform.menu_isp_platform_applications")
        visible = self.env["ir.ui.menu"].with_user(self.ke_app.user_id)._visible_menu_ids()
        self.assertNotIn(menu.id, visible)
        self.assertIn(self.env.ref("isp_billing.menu_isp_payment_providers").id, visible)
        self.assertIn(menu.id, self.env["ir.ui.menu"].with_user(self.owner)._visible_menu_ids())
