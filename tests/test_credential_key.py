"""`make setup` makes a local credential key and `make run` hands it to Odoo, so that an
operator can save a router, gateway or provider password on a fresh `make run`."""

import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path
from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo.tests import TransactionCase, tagged
from odoo.tools import config

ROOT = Path(__file__).resolve().parent.parent
KEY_FILE = ROOT / ".data" / "isp_credential.key"


@tagged("post_install", "-at_install")
class TestLocalCredentialKey(TransactionCase):
    def setUp(self):
        super().setUp()
        self.assertTrue(KEY_FILE.is_file(), "make setup must make .data/isp_credential.key")
        self.key = KEY_FILE.read_text().strip()
        self.env_without_key = {k: v for k, v in os.environ.items() if k != "ISP_CREDENTIAL_KEY"}

    def exported_key(self, env, conf_text=None):
        """ISP_CREDENTIAL_KEY as scripts/run.sh exports it (its own shell function), run in a
        scratch folder with a copy of odoo.conf (or ``conf_text``) and of the local key file."""
        folder = Path(tempfile.mkdtemp(prefix="isp-key-"))
        self.addCleanup(shutil.rmtree, folder)
        (folder / "odoo.conf").write_text(conf_text or (ROOT / "odoo.conf").read_text())
        (folder / ".data").mkdir()
        shutil.copy(KEY_FILE, folder / ".data" / "isp_credential.key")
        script = (
            f"source {ROOT}/scripts/modules.sh && export_credential_key"
            ' && printf %s "${ISP_CREDENTIAL_KEY:-}"'
        )
        return subprocess.run(
            ["bash", "-c", script],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout

    def test_setup_made_a_private_valid_key_outside_git(self):
        Fernet(self.key.encode())  # raises when it is not a Fernet key
        self.assertEqual(stat.S_IMODE(KEY_FILE.stat().st_mode) & 0o077, 0, "readable by others")
        ignored = subprocess.run(
            ["git", "check-ignore", "-q", str(KEY_FILE)], cwd=ROOT, check=False, timeout=30
        )
        self.assertEqual(ignored.returncode, 0, "the key file must be git-ignored")

    def test_run_hands_the_local_key_to_odoo_and_a_router_password_saves(self):
        key = self.exported_key(self.env_without_key)
        self.assertEqual(key, self.key)
        with (
            patch.dict(os.environ, {"ISP_CREDENTIAL_KEY": key}),
            patch.dict(config.options, {"isp_credential_key": ""}),
        ):
            router = self.env["isp.router"].create(
                {
                    "name": "Fresh install",
                    "host": "127.0.0.1",
                    "username": "api",
                    "password": "s3cret",
                }
            )
            self.assertEqual(router._isp_secret("password"), "s3cret")
            self.assertNotIn("s3cret", router.sudo().password_encrypted)

    def test_a_key_set_by_the_deployment_wins(self):
        own = Fernet.generate_key().decode()
        self.assertEqual(
            self.exported_key({**self.env_without_key, "ISP_CREDENTIAL_KEY": own}), own
        )
        conf = (ROOT / "odoo.conf").read_text() + f"isp_credential_key = {own}\n"
        self.assertEqual(self.exported_key(self.env_without_key, conf), "")
