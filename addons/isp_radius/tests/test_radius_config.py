"""The downloads of the NAS form: who may have them, which NAS they hold, and that FreeRADIUS
takes the generated configuration as it is."""

import io
import random
import subprocess
import tempfile
import zipfile
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import get_db_name
from odoo.tools import config, mute_logger

from . import freeradius
from .common import COMPANY_B_NAME, CREDENTIAL_KEY


def _address():
    return f"198.18.{random.randint(0, 255)}.{random.randint(1, 254)}"


@tagged("post_install", "-at_install")
class TestRadiusConfig(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(
            patch.dict(config.options, {"isp_credential_key": CREDENTIAL_KEY, "dbfilter": ""})
        )
        cls.company_a = cls.env.ref("base.main_company")
        cls.company_b = cls.env["res.company"].search(
            [("name", "=", COMPANY_B_NAME)], limit=1
        ) or cls.env["res.company"].create({"name": COMPANY_B_NAME})
        # the role's password as stored by an earlier run is not readable with this run's key
        cls.env["isp.radius.schema"]._db_role_ensure()
        Nas = cls.env["isp.radius.nas"]
        cls.nas_a = Nas.create(
            {
                "name": "Tower A",
                "address": _address(),
                "secret": 'a-"quoted"\\secret$x',
                "company_id": cls.company_a.id,
                "service_pppoe": True,
            }
        )
        cls.nas_b = Nas.create(
            {
                "name": "Tower B",
                "address": _address(),
                "secret": "b-secret-never-shown-to-a",
                "company_id": cls.company_b.id,
            }
        )
        cls.admin_a = new_test_user(
            cls.env,
            login="radius_admin_a",
            groups="base.group_system,isp_billing.group_isp_manager",
            company_id=cls.company_a.id,
            company_ids=[cls.company_a.id],
        )
        cls.manager = new_test_user(
            cls.env,
            login="radius_manager",
            groups="isp_billing.group_isp_manager",
            company_id=cls.company_a.id,
            company_ids=[cls.company_a.id, cls.company_b.id],
        )

    def url_open(self, url, *args, headers=None, **kwargs):
        headers = {"X-Odoo-Database": get_db_name(), **(headers or {})}
        return super().url_open(url, *args, headers=headers, **kwargs)

    def _files(self, data):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return {
                name.split("/", 1)[1]: archive.read(name).decode() for name in archive.namelist()
            }

    def test_configuration_holds_only_the_nas_the_administrator_may_see(self):
        data, filename = self.env["isp.radius.nas"].with_user(self.admin_a)._freeradius_archive()
        self.assertTrue(filename.endswith(".zip"))
        files = self._files(data)
        self.assertEqual(
            set(files),
            {
                "radiusd.conf",
                "clients.conf",
                "mods-enabled/sql",
                "mods-enabled/pap",
                "mods-enabled/chap",
                "mods-enabled/expr",
                "sites-enabled/default",
                "README.txt",
            },
        )
        clients = files["clients.conf"]
        self.assertIn(f"ipaddr = {self.nas_a.address}", clients)
        self.assertIn('secret = "a-\\"quoted\\"\\\\secret$x"', clients)
        self.assertNotIn(self.nas_b.address, clients)
        self.assertNotIn("b-secret-never-shown-to-a", "".join(files.values()))
        schema = self.env["isp.radius.schema"]
        self.assertIn(f"user='{schema._db_role_name()}'", files["mods-enabled/sql"])
        self.assertIn(f"password='{schema._db_role_password()}'", files["mods-enabled/sql"])
        self.assertIn("port = 1812", files["sites-enabled/default"])

    def test_generated_configuration_passes_freeradius_check(self):
        if not freeradius.available():
            self.skipTest("FreeRADIUS is not installed")
        data, _filename = self.env["isp.radius.nas"].with_user(self.admin_a)._freeradius_archive()
        with tempfile.TemporaryDirectory() as directory:
            from ..tools.freeradius_config import write_config  # noqa: PLC0415

            write_config(self._files(data), directory)
            result = subprocess.run(  # noqa: S603
                [freeradius.FREERADIUS, "-C", "-d", directory, "-l", "stdout"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_only_system_administrators_download(self):
        with self.assertRaises(AccessError):
            self.env["isp.radius.nas"].with_user(self.manager)._freeradius_archive()
        with self.assertRaises(AccessError):
            self.nas_a.with_user(self.manager).action_download_freeradius_config()
        self.authenticate("radius_manager", "radius_manager")
        self.assertEqual(self.url_open("/isp_radius/freeradius.zip").status_code, 404)
        self.assertEqual(
            self.url_open(f"/isp_radius/nas/{self.nas_a.id}/routeros.rsc").status_code, 404
        )
        self.authenticate("radius_admin_a", "radius_admin_a")
        response = self.url_open("/isp_radius/freeradius.zip")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "application/zip")
        self.assertEqual(response.headers["Cache-Control"], "no-store")
        self.assertNotIn(self.nas_b.address, self._files(response.content)["clients.conf"])
        # another company's NAS: as if it did not exist
        self.assertEqual(
            self.url_open(f"/isp_radius/nas/{self.nas_b.id}/routeros.rsc").status_code, 404
        )

    def test_anonymous_visitors_are_sent_to_the_login(self):
        self.authenticate(None, None)
        response = self.url_open("/isp_radius/freeradius.zip", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])

    def test_routeros_lines(self):
        self.env["ir.config_parameter"].sudo().set_param("isp_radius.server_address", "10.0.0.2")
        script = self.nas_a._routeros_script()
        self.assertIn(
            "/radius add service=hotspot,ppp address=10.0.0.2 "
            'secret="a-\\"quoted\\"\\\\secret\\$x" '
            "authentication-port=1812 accounting-port=1813 timeout=3s",
            script,
        )
        self.assertIn("/ip hotspot profile set [find] use-radius=yes", script)
        self.assertIn("/ppp aaa set use-radius=yes accounting=yes interim-update=5m", script)
        self.assertIn("/radius incoming set accept=yes port=3799", script)
        self.authenticate("radius_admin_a", "radius_admin_a")
        response = self.url_open(f"/isp_radius/nas/{self.nas_a.id}/routeros.rsc")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.text, script)

    def test_routeros_lines_need_the_server_address(self):
        self.env["ir.config_parameter"].sudo().set_param("isp_radius.server_address", False)
        with self.assertRaisesRegex(UserError, "isp_radius.server_address"):
            self.nas_a._routeros_script()
        self.authenticate("radius_admin_a", "radius_admin_a")
        response = self.url_open(f"/isp_radius/nas/{self.nas_a.id}/routeros.rsc")
        self.assertEqual(response.status_code, 409)
        self.assertIn("isp_radius.server_address", response.text)

    def test_no_createrole_privilege_says_what_to_run(self):
        Schema = type(self.env["isp.radius.schema"])
        with (
            patch.object(Schema, "_db_role_name", lambda self: "isp_radius_no_such_role_x"),
            patch.object(Schema, "_db_role_can_create", lambda self: False),
            self.assertRaisesRegex(UserError, r"ALTER ROLE \w+ CREATEROLE;"),
        ):
            self.nas_a.action_setup_database_access()

    def test_setup_database_access_action(self):
        result = self.nas_a.action_setup_database_access()
        self.assertEqual(result["params"]["type"], "success")
        schema = self.env["isp.radius.schema"]
        self.assertTrue(schema._db_role_exists())
        self.assertTrue(schema._db_role_password())
        with self.assertRaises(AccessError):
            self.nas_a.with_user(self.manager).action_setup_database_access()


@tagged("post_install", "-at_install")
class TestSubscriptionRadiusFields(HttpCase):
    def setUp(self):
        super().setUp()
        self.partner = self.env["res.partner"].create({"name": "Static", "is_isp_customer": True})
        self.bundle = (
            self.env["product.template"]
            .create({"name": "PPPoE static", "is_isp_bundle": True, "isp_service_type": "pppoe"})
            .product_variant_id
        )

    def _sub(self, **values):
        return self.env["isp.subscription"].create(
            {"partner_id": self.partner.id, "bundle_id": self.bundle.id, **values}
        )

    def test_static_address_is_validated_and_unique_per_company(self):
        sub = self._sub(radius_framed_ip=" 10.20.0.7 ")
        self.assertEqual(sub.radius_framed_ip, "10.20.0.7")
        for bad in ("10.20.0.300", "fe80::1", "224.0.0.1", "pool-a"):
            with self.assertRaises(ValidationError), self.env.cr.savepoint():
                self._sub(radius_framed_ip=bad)
        with mute_logger("odoo.sql_db"), self.assertRaises(Exception), self.env.cr.savepoint():  # noqa: B017
            self._sub(radius_framed_ip="10.20.0.7")
        hotspot = (
            self.env["product.template"]
            .create({"name": "Hot", "is_isp_bundle": True, "isp_service_type": "hotspot"})
            .product_variant_id
        )
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            self._sub(bundle_id=hotspot.id, radius_framed_ip="10.20.0.9")
