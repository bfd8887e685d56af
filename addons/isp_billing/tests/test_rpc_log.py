import logging

from odoo.service.model import call_kw
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import captured_logs


@tagged("post_install", "-at_install")
class TestRpcLogHasNoSecret(TransactionCase):
    def test_debug_rpc_log_masks_secret_fields(self):
        """At debug level Odoo logs every model call with its arguments
        (odoo.service.model): a password typed in the web client (web_save / write /
        onchange) must not be in it. isp.secret.mixin models' clear fields (router
        password, gateway and provider keys) are masked by name the same way."""
        user = new_test_user(self.env, "rpc-log-user")
        secret = "S3cret-typed-in-the-form"
        with captured_logs({"odoo.service.model": logging.DEBUG}) as lines:
            call_kw(
                self.env["res.users"],
                "web_save",
                [[user.id], {"signature": "<p>visible</p>", "password": secret}],
                {"specification": {"name": {}}},
            )
            # (no such field on partners: the call fails, after it was logged)
            with self.assertRaises(ValueError):
                call_kw(
                    self.env["res.partner"],
                    "onchange",
                    [[], {"name": "x", "child_ids": [[0, 0, {"api_key": secret}]]}, [], {}],
                    {},
                )
        text = "\n".join(lines)
        self.assertIn("web_save", text, "the calls are logged")
        self.assertIn("visible", text, "only the secrets are masked")
        self.assertNotIn(secret, text)
        self.assertIn("'password': '***'", text)
