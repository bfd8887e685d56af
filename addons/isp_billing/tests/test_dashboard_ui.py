import base64
import contextlib
import os
from datetime import timedelta
from pathlib import Path
from unittest.mock import patch

from odoo import Command, fields
from odoo.tests import HttpCase, tagged
from odoo.tests.common import ChromeBrowser
from odoo.tools import SQL

# Debian's odoo-19 package leaves out mail's selfie_segmentation.js (video-call background
# blur, not free software), so every backend page logs that its content is missing. That
# console error, and only it, is not a failure of ours: it is logged as a warning instead.
PACKAGING_ERROR = "Could not get content for mail/static/lib/selfie_segmentation/"


# Screenshots of the dashboard as a test artifact (git-ignored); ISP_ARTIFACTS overrides.
ARTIFACTS = Path(
    os.environ.get("ISP_ARTIFACTS") or Path(__file__).resolve().parents[3] / "artifacts"
)


@tagged("post_install", "-at_install")
class TestDashboardUi(HttpCase):
    """The dashboard in headless Chromium: it loads without a JavaScript error (any
    console error fails the test), is the ISP app's landing screen, and its figures open
    their lists."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env["res.company"].create(
            {"name": "Dashboard Tour ISP", "country_id": cls.env.ref("base.tz").id}
        )
        cls.user = cls.env["res.users"].create(
            {
                "name": "Dashboard tour manager",
                "login": "isp_dashboard_tour",
                "password": "isp_dashboard_tour",
                "tz": "Africa/Dar_es_Salaam",
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
                "group_ids": [
                    Command.set(
                        [
                            cls.env.ref("isp_billing.group_isp_manager").id,
                            cls.env.ref("account.group_account_invoice").id,
                        ]
                    )
                ],
            }
        )
        env = cls.env(context={"allowed_company_ids": cls.company.ids})
        bundle = (
            env["product.template"]
            .create(
                {
                    "name": "Tour daily",
                    "is_isp_bundle": True,
                    "list_price": 3500,
                    "isp_duration_value": 1,
                    "isp_duration_unit": "days",
                    "company_id": cls.company.id,
                    "taxes_id": [Command.clear()],
                }
            )
            .product_variant_id
        )
        now = fields.Datetime.now()
        for i in range(2):
            partner = env["res.partner"].create(
                {
                    "name": f"Tour customer {i}",
                    "phone": f"+25571234560{i}",
                    "is_isp_customer": True,
                    "company_id": cls.company.id,
                }
            )
            subscription = env["isp.subscription"].create(
                {"partner_id": partner.id, "bundle_id": bundle.id, "company_id": cls.company.id}
            )
            subscription.action_activate()
            purchase = env["isp.purchase"].create(
                {
                    "company_id": cls.company.id,
                    "source": "manual",
                    "reference": f"TOUR-{i}",
                    "partner_id": partner.id,
                    "bundle_id": bundle.id,
                    "subscription_id": subscription.id,
                    "date_start": now,
                    "date_end": now + timedelta(days=1),
                    "amount": 3500,
                }
            )
            purchase.flush_recordset()
            # bought a few minutes ago: "today" in Dar es Salaam unless it is just past midnight
            cls.env.cr.execute(
                SQL(
                    "UPDATE isp_purchase SET create_date = %s WHERE id = %s",
                    now - timedelta(minutes=2),
                    purchase.id,
                )
            )

    @contextlib.contextmanager
    def _chromium(self, screenshot=None):
        """Chromium that takes the known packaging error for a warning and keeps a
        screenshot of the page as it is at the end of the test (``screenshot``: a file name
        under artifacts/)."""
        original_console, original_stop = ChromeBrowser._handle_console, ChromeBrowser.stop
        shots = []

        def handle_console(browser, type, args=None, stackTrace=None, **kw):  # noqa: A002
            if type == "error" and args and PACKAGING_ERROR in str(args[0].get("value", "")):
                type = "warning"  # noqa: A001
            return original_console(browser, type, args, stackTrace, **kw)

        def stop(browser):
            if screenshot:
                future = browser._websocket_send("Page.captureScreenshot", with_future=True)
                if future:
                    shots.append(future.result(timeout=10)["data"])
            return original_stop(browser)

        try:
            with (
                patch.object(ChromeBrowser, "_handle_console", handle_console),
                patch.object(ChromeBrowser, "stop", stop),
            ):
                yield
        finally:
            if shots:  # also when the test failed: the page as it was then
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                (ARTIFACTS / screenshot).write_bytes(base64.b64decode(shots[0]))
        if screenshot:
            self.assertTrue(shots, "a screenshot was taken")
            self.assertGreater((ARTIFACTS / screenshot).stat().st_size, 10_000)

    def test_dashboard_loads_without_errors(self):
        ready = (
            "!!(document.querySelector('.o_isp_dashboard .o_isp_card_revenue_today')"
            " && document.querySelector('.o_isp_dashboard .o_isp_last_customers tbody tr')"
            " && document.querySelector('.o_isp_dashboard .o_isp_card_churned'))"
        )
        code = """
            const cards = document.querySelectorAll('.o_isp_dashboard .o_isp_card');
            const active = document.querySelector(
                '.o_isp_card_active_subscriptions .o_isp_card_value');
            const revenue = document.querySelector('.o_isp_card_revenue_today .o_isp_card_value');
            if (cards.length < 15) {
                console.error(`only ${cards.length} figures on the dashboard`);
            } else if (active.textContent.trim() !== '2') {
                console.error(`active users: ${active.textContent}`);
            } else if (!revenue.textContent.includes('7,000')) {
                console.error(`revenue today: ${revenue.textContent}`);
            } else {
                console.log('test successful');
            }
        """
        with self._chromium(screenshot="isp_dashboard.png"):
            self.browser_js(
                "/odoo/action-isp_billing.isp_dashboard_action",
                code,
                ready=ready,
                login="isp_dashboard_tour",
            )

    def test_dashboard_tour(self):
        with self._chromium(screenshot="isp_dashboard_tour_end.png"):
            self.start_tour(
                "/odoo",
                "isp_billing_dashboard_tour",
                login="isp_dashboard_tour",
            )
