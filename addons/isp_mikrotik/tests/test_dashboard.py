from odoo.tests import new_test_user, tagged

from .common import MikrotikCase


@tagged("post_install", "-at_install")
class TestRouterDashboard(MikrotikCase):
    """isp_mikrotik's routers on isp_billing's dashboard, from their live status."""

    def _cards(self, user=None):
        Dashboard = self.env["isp.dashboard"].with_context(allowed_company_ids=self.company.ids)
        if user:
            Dashboard = Dashboard.with_user(user)
        data = Dashboard.get_dashboard_data()
        section = next(s for s in data["sections"] if s["key"] == "routers")
        return {card["key"]: card for card in section["cards"]}

    def test_routers_online_and_offline(self):
        down_sim = self._simulator()
        down = self._router(down_sim, name="Tower B")
        self._router(self.sim, name="Tower C")  # never contacted
        other = self.env["res.company"].create({"name": "Other ISP (routers)"})
        self.env["isp.router"].create(
            {"name": "Theirs", "host": "10.9.9.9", "company_id": other.id}
        )
        self.assertEqual(self.router.action_test_connection()["params"]["type"], "success")
        down_sim.set_refuse(True)
        self.assertEqual(down.action_test_connection()["params"]["type"], "danger")
        cards = self._cards()
        self.assertEqual(cards["routers_online"]["value"], 1)
        self.assertEqual(cards["routers_offline"]["value"], 1)
        self.assertEqual(cards["routers_unknown"]["value"], 1)
        # each figure opens its routers
        Router = self.env["isp.router"]
        self.assertEqual(Router.search(cards["routers_online"]["action"]["domain"]), self.router)
        self.assertEqual(Router.search(cards["routers_offline"]["action"]["domain"]), down)
        # a subscription change queues a sync job per router of the company
        self._subscription("0712000111")
        pending = self.env["isp.router.job"].search(
            cards["router_jobs_pending"]["action"]["domain"]
        )
        self.assertTrue(pending)
        self.assertEqual(self._cards()["router_jobs_pending"]["value"], len(pending))

    def test_isp_user_sees_routers(self):
        user = new_test_user(
            self.env,
            "isp-dash-usr",
            groups="isp_billing.group_isp_user",
            company_id=self.company.id,
        )
        self.router.action_test_connection()
        self.assertEqual(self._cards(user)["routers_online"]["value"], 1)
