from odoo import Command
from odoo.tests import HttpCase, tagged

from odoo.addons.isp_billing.tests.browser import ChromiumMixin


@tagged("post_install", "-at_install")
class TestRouterPortUi(ChromiumMixin, HttpCase):
    """The router's API port in headless Chromium: "8728", never "8,728", in the list and in
    the form, also after an edit."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.router = cls.env["isp.router"].create(
            {"name": "Port Tower", "host": "192.0.2.10", "port": 8728, "username": "isp-billing"}
        )
        cls.env["res.users"].create(
            {
                "name": "Router administrator",
                "login": "isp_router_port_tour",
                "password": "isp_router_port_tour",
                "group_ids": [
                    Command.set(
                        [
                            cls.env.ref("isp_billing.group_isp_manager").id,
                            cls.env.ref("base.group_system").id,
                        ]
                    )
                ],
            }
        )

    def test_port_without_thousands_separator(self):
        with self._chromium(screenshot="isp_router_port.png"):
            self.start_tour(
                "/odoo/isp-routers", "isp_mikrotik_router_port_tour", login="isp_router_port_tour"
            )
        self.assertEqual(self.router.port, 8729)
