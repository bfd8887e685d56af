from lxml import etree

from odoo import Command
from odoo.tests import HttpCase, TransactionCase, tagged

from .browser import ChromiumMixin

# The fields of the bundle form's ISP part (what a bundle is), in the order they are met.
BUNDLE_FIELDS = [
    "isp_service_type",
    "isp_duration_value",
    "isp_duration_unit",
    "list_price",
    "isp_device_limit",
    "isp_download_kbps",
    "isp_upload_kbps",
    "isp_data_cap_mb",
    "isp_marketing_description",
]


@tagged("post_install", "-at_install")
class TestNavigationUi(ChromiumMixin, HttpCase):
    """The ISP app's menu bar on a 1366 px wide screen (the laptops of the operators' desks):
    every top-level entry in the bar, Reporting and Configuration included, nothing in the
    "more" dropdown; the bundle form with the ISP fields first."""

    browser_size = "1366x768"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the user who sees the most menus: ISP manager, administrator, accountant
        cls.user = cls.env["res.users"].create(
            {
                "name": "Navigation tour manager",
                "login": "isp_navigation_tour",
                "password": "isp_navigation_tour",
                "group_ids": [
                    Command.set(
                        [
                            cls.env.ref("isp_billing.group_isp_manager").id,
                            cls.env.ref("base.group_system").id,
                            cls.env.ref("account.group_account_invoice").id,
                        ]
                    )
                ],
            }
        )

    def test_menu_bar_at_1366_px(self):
        with self._chromium(screenshot="isp_navigation_1366.png"):
            self.start_tour("/odoo", "isp_billing_navigation_tour", login="isp_navigation_tour")
        bundle = self.env["product.template"].search([("name", "=", "Tour Daily 1 GB")])
        self.assertTrue(bundle.is_isp_bundle, "the bundle form saves a bundle")
        self.assertEqual(bundle.list_price, 1500)

    def test_top_level_entries(self):
        """Few entries in the bar, whatever the modules installed add: their menus go under
        these (one quick-access entry at most, such as the desk's Counter Sale)."""
        root = self.env.ref("isp_billing.menu_isp_root")
        menus = self.env["ir.ui.menu"].with_user(self.user)
        visible = menus.browse(menus._visible_menu_ids()) & root.child_id
        names = visible.sorted("sequence").mapped("name")
        structure = [
            "Dashboard",
            "Sales",
            "Customers",
            "Vouchers",
            "Network",
            "Reporting",
            "Configuration",
        ]
        self.assertEqual([name for name in names if name in structure], structure)
        self.assertLessEqual(len(names), len(structure) + 1, names)
        self.assertEqual(names[-2:], ["Reporting", "Configuration"])


@tagged("post_install", "-at_install")
class TestBundleForm(TransactionCase):
    """The bundle form (ISP › Configuration › Bundles) puts the ISP fields above Odoo's
    generic product tabs."""

    def _form_arch(self):
        action = self.env.ref("isp_billing.product_template_action")
        view_id = next(view.view_id.id for view in action.view_ids if view.view_mode == "form")
        views = self.env["product.template"].get_views([(view_id, "form")])
        return etree.fromstring(views["views"]["form"]["arch"])

    def test_isp_fields_first(self):
        arch = self._form_arch()
        sheet = arch.find(".//sheet")
        children = [child for child in sheet if child.tag != etree.Comment]
        blocks = [child.get("name") or child.tag for child in children]
        self.assertLess(blocks.index("isp_bundle"), blocks.index("notebook"))
        bundle = sheet.find("div[@name='isp_bundle']")
        order = [field.get("name") for field in bundle.iter("field")]
        positions = [order.index(name) for name in BUNDLE_FIELDS]
        self.assertEqual(positions, sorted(positions), order)
        # the price is the bundle's, not in the product tab any more; the ISP tab is gone
        notebook = sheet.find("notebook")
        self.assertFalse(notebook.xpath(".//field[@name='list_price']"))
        self.assertEqual(notebook.xpath("page[@name='isp']/@invisible"), ["1"])
        self.assertEqual(
            notebook.xpath("page[@name='general_information']/@string"), ["Product and Accounting"]
        )

    def test_generic_product_form_keeps_its_isp_tab(self):
        """Opened from elsewhere (Invoicing, Sales), a bundle shows its ISP tab as before."""
        arch = etree.fromstring(
            self.env["product.template"].get_views([(False, "form")])["views"]["form"]["arch"]
        )
        page = arch.find(".//notebook/page[@name='isp']")
        self.assertIsNotNone(page)
        self.assertTrue(page.xpath(".//field[@name='isp_download_kbps']"))
        self.assertEqual(page.get("invisible"), "not is_isp_bundle")
