from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged

# where a provider's credentials (API URLs) and its callbacks' tokens (callback URL) go
DESTINATION_FIELDS = ("daraja_base_url", "clickpesa_base_url", "isp_callback_base_url")


@tagged("post_install", "-at_install")
class TestProviderDestination(TransactionCase):
    """The API and callback URLs are the credentials' group's: whoever may write the
    provider but not read its secrets must not be able to send them elsewhere."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.daraja = cls.env.ref("isp_mpesa.payment_provider_daraja")
        cls.manager = new_test_user(
            cls.env,
            "isp-pay-mgr",
            groups="isp_billing.group_isp_manager,account.group_account_manager",
        )

    def test_destination_fields_are_the_credentials_group(self):
        Provider = self.env["payment.provider"]
        secret_groups = Provider._fields["daraja_consumer_secret"].groups
        self.assertEqual(secret_groups, "base.group_system")
        provider = self.daraja.with_user(self.manager)
        for name in DESTINATION_FIELDS:
            with self.subTest(field=name):
                self.assertEqual(Provider._fields[name].groups, secret_groups)
                self.assertFalse(provider._has_field_access(Provider._fields[name], "write"))

    def test_manager_cannot_write_the_urls_and_admins_can(self):
        provider = self.daraja.with_user(self.manager)
        for name in DESTINATION_FIELDS:
            with self.subTest(field=name), self.assertRaises(AccessError):
                provider.write({name: "https://attacker.example"})
        admin = new_test_user(self.env, "isp-pay-admin", groups="base.group_system")
        self.daraja.with_user(admin).write({"daraja_base_url": "https://api.safaricom.co.ke"})
        self.assertEqual(self.daraja._isp_base_url(), "https://api.safaricom.co.ke/")
        self.daraja.with_user(admin).write({"isp_callback_base_url": "https://pay.example.com/"})
        # code that runs as a user without the group still reads them (sudo)
        self.assertEqual(
            self.daraja.with_user(self.manager)._isp_callback_base(), "https://pay.example.com"
        )
