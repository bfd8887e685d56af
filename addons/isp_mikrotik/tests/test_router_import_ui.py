from datetime import timedelta
from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo import Command, fields
from odoo.tests import HttpCase, tagged
from odoo.tools import config

from odoo.addons.isp_billing.tests import test_dashboard_ui as dashboard_ui

from .common import HOTSPOT_PROFILES, HOTSPOT_USERS
from .routeros_sim import RouterOSSimulator
from .test_router_import import MIKHMON_DAY


@tagged("post_install", "-at_install")
class TestRouterImportUi(HttpCase):
    """The import from a router in headless Chromium: the router's form opens it, the
    preview shows what will be imported and why some users are not, a bundle's validity is
    filled in, and the import says what it created."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(
            patch.dict(config.options, {"isp_credential_key": Fernet.generate_key().decode()})
        )
        cls.company = cls.env["res.company"].create(
            {"name": "Import Tour ISP", "country_id": cls.env.ref("base.tz").id}
        )
        cls.user = cls.env["res.users"].create(
            {
                "name": "Import tour manager",
                "login": "isp_import_tour",
                "password": "isp_import_tour",
                "tz": "Africa/Dar_es_Salaam",
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
                "group_ids": [
                    Command.set(
                        [
                            cls.env.ref("isp_billing.group_isp_manager").id,
                            cls.env.ref("product.group_product_manager").id,
                        ]
                    )
                ],
            }
        )

    def setUp(self):
        super().setUp()
        sim = RouterOSSimulator().start()
        self.addCleanup(sim.stop)
        sim.add_row(
            HOTSPOT_PROFILES,
            name="1day",
            rate_limit="512k/2M",
            shared_users="2",
            on_login=MIKHMON_DAY,
        )
        sim.add_row(HOTSPOT_PROFILES, name="staff", rate_limit="10M")
        local = fields.Datetime.now() + timedelta(days=1, hours=3)
        for name, profile, comment in (
            ("0712345101", "1day", local.strftime("%Y-%m-%d %H:%M:%S")),
            ("0712345102", "1day", ""),
            ("john", "staff", ""),
            ("admin", "default", ""),
        ):
            sim.add_row(
                HOTSPOT_USERS, name=name, password=f"pw-{name}", profile=profile, comment=comment
            )
        self.sim = sim
        self.router = (
            self.env["isp.router"]
            .with_company(self.company)
            .create(
                {
                    "name": "Tour Tower",
                    "company_id": self.company.id,
                    "host": "127.0.0.1",
                    "port": sim.port,
                    "username": sim.username,
                    "password": sim.password,
                    "timeout": 5,
                    "service_hotspot": True,
                }
            )
        )

    def _url(self):
        return f"/odoo/action-isp_mikrotik.isp_router_action/{self.router.id}"

    def test_preview_tour(self):
        with dashboard_ui.TestDashboardUi._chromium(
            self, screenshot="isp_router_import_preview.png"
        ):
            self.start_tour(self._url(), "isp_router_import_preview", login="isp_import_tour")
        self.assertEqual(self.sim.writes, 0)

    def test_import_tour(self):
        with dashboard_ui.TestDashboardUi._chromium(self, screenshot="isp_router_import_done.png"):
            self.start_tour(self._url(), "isp_router_import", login="isp_import_tour")
        imported = self.env["isp.subscription"].search(
            [("isp_import_router_id", "=", self.router.id)]
        )
        self.assertEqual(sorted(imported.mapped("login")), ["0712345101", "0712345102", "john"])
        staff = imported.filtered(lambda sub: sub.login == "john").bundle_id
        self.assertEqual(staff.isp_duration_value, 30, "the validity typed in the preview")
        self.assertEqual(self.sim.writes, 0)
