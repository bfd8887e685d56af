from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged
from odoo.tools import config

KEY_A = Fernet.generate_key().decode()
KEY_B = Fernet.generate_key().decode()


def keys(value):
    """Configure the credential key as odoo.conf would."""
    return patch.dict(config.options, {"isp_credential_key": value})


@tagged("post_install", "-at_install")
class TestSecretMixin(TransactionCase):
    def setUp(self):
        super().setUp()
        self.Secret = self.env["isp.secret.mixin"]

    def test_round_trip_and_no_clear_text_at_rest(self):
        with keys(KEY_A):
            token = self.Secret._isp_encrypt("consumer-secret-123")
            self.assertNotIn("consumer-secret-123", token)
            self.assertEqual(self.Secret._isp_decrypt(token), "consumer-secret-123")
            self.assertFalse(self.Secret._isp_encrypt(""))
            self.assertFalse(self.Secret._isp_decrypt(False))

    def test_missing_key_is_a_clear_error_at_use(self):
        with keys(""), patch.dict("os.environ", {}, clear=False) as environ:
            environ.pop("ISP_CREDENTIAL_KEY", None)
            with self.assertRaises(UserError) as caught:
                self.Secret._isp_encrypt("x")
        self.assertIn("isp_credential_key", str(caught.exception))
        self.assertIn("ISP_CREDENTIAL_KEY", str(caught.exception))

    def test_key_from_environment(self):
        with keys(""), patch.dict("os.environ", {"ISP_CREDENTIAL_KEY": KEY_B}):
            token = self.Secret._isp_encrypt("from-env")
        self.assertEqual(Fernet(KEY_B.encode()).decrypt(token.encode()).decode(), "from-env")

    def test_malformed_key(self):
        with keys("not-a-fernet-key"), self.assertRaises(UserError) as caught:
            self.Secret._isp_encrypt("x")
        self.assertIn("not a valid Fernet key", str(caught.exception))

    def test_wrong_key_cannot_decrypt(self):
        with keys(KEY_A):
            token = self.Secret._isp_encrypt("s3cret")
        with keys(KEY_B), self.assertRaises(UserError):
            self.Secret._isp_decrypt(token)

    def test_rotation_keeps_old_secrets_readable(self):
        with keys(KEY_A):
            old = self.Secret._isp_encrypt("s3cret")
        with keys(f"{KEY_B},{KEY_A}"):
            self.assertEqual(self.Secret._isp_decrypt(old), "s3cret")
            new = self.Secret._isp_encrypt("s3cret")
        # new tokens are made with the first key only
        self.assertEqual(Fernet(KEY_B.encode()).decrypt(new.encode()).decode(), "s3cret")
        with keys(KEY_B):
            self.assertEqual(self.Secret._isp_decrypt(new), "s3cret")
            self.assertEqual(self.Secret._isp_rotate_all_secrets(), 0)

    def test_writing_one_secret_leaves_the_others_alone(self):
        fields_map = {"api_key": "api_key_encrypted", "passkey": "passkey_encrypted"}
        with keys(KEY_A), patch.object(type(self.Secret), "_isp_secret_fields", fields_map):
            vals = self.Secret._isp_encrypt_vals({"api_key": "k-123", "name": "Gateway"})
            self.assertEqual(set(vals), {"api_key_encrypted", "name"})
            self.assertEqual(self.Secret._isp_decrypt(vals["api_key_encrypted"]), "k-123")
            cleared = self.Secret._isp_encrypt_vals({"passkey": False})
            self.assertEqual(cleared, {"passkey_encrypted": False})
            untouched = {"name": "x"}
            self.assertIs(self.Secret._isp_encrypt_vals(untouched), untouched)
