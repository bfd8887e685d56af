from odoo.tests import HttpCase, new_test_user, tagged

from .accounting_common import MIB, RadiusAccountingCase


@tagged("post_install", "-at_install")
class TestRadiusPortalAndDashboard(HttpCase, RadiusAccountingCase):
    """The customer's RADIUS sessions on /my; who is online on the ISP dashboard."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sub_a = cls._portal_subscription("+255712810001", "radius_portal_a", "pa")
        cls.sub_b = cls._portal_subscription("+255712810002", "radius_portal_b", "pb")

    @classmethod
    def _portal_subscription(cls, phone, portal_login, login):
        partner = cls._customer(phone, email=f"{portal_login}@example.com")
        cls._portal_user(partner, portal_login)
        subscription = cls.env["isp.subscription"].create(
            {"partner_id": partner.id, "bundle_id": cls.daily.id}
        )
        subscription.action_activate()
        subscription.login = login
        return subscription

    def test_portal_shows_own_sessions_only(self):
        uid_a = self._start("pa", ip="10.5.60.11")
        self._interim(uid_a, 3 * MIB, 2 * MIB, ip="10.5.60.11")
        uid_b = self._start("pb", ip="10.5.60.99")
        self._interim(uid_b, 7 * MIB, 0, ip="10.5.60.99")
        self._ingest()
        sessions = self.sub_a._portal_sessions()
        self.assertEqual([(s["ip"], s["online"]) for s in sessions], [("10.5.60.11", True)])
        self.assertAlmostEqual(sessions[0]["data_mb"], 5.0)

        self.authenticate("radius_portal_a", "radius_portal_a-pass-1234")
        page = self.url_open(f"/my/subscriptions/{self.sub_a.id}")
        self.assertEqual(page.status_code, 200)
        table = page.text.split("o_isp_sessions", 1)[1].split("</table>", 1)[0]
        self.assertIn("5.0 MB", table)
        self.assertIn("online", table)
        self.assertNotIn("7.0 MB", page.text)
        # the other customer's page: refused, their session not shown
        other = self.url_open(f"/my/subscriptions/{self.sub_b.id}")
        self.assertEqual(other.status_code, 404)
        self.assertNotIn("7.0 MB", other.text)
        # the session closed: shown, no longer online
        self._stop(uid_a, 3 * MIB, 2 * MIB)
        self._ingest()
        self.assertFalse(self.sub_a._portal_sessions()[0]["online"])

    def test_portal_user_cannot_read_sessions(self):
        self._start("pa")
        self._ingest()
        user = self.sub_a.partner_id.user_ids
        self.assertFalse(self.env["isp.radius.session"].with_user(user).has_access("read"))

    def _cards(self, user=None):
        Dashboard = self.env["isp.dashboard"].with_context(allowed_company_ids=self.company.ids)
        if user:
            Dashboard = Dashboard.with_user(user)
        section = next(
            s for s in Dashboard.get_dashboard_data()["sections"] if s["key"] == "radius"
        )
        return {card["key"]: card for card in section["cards"]}

    def test_dashboard_online_figure(self):
        before = self._cards()["radius_online"]["value"]
        self._start("pa", mac="aa-bb-cc-00-03-01")
        self._start("pa", mac="aa-bb-cc-00-03-02")
        uid = self._start("pb")
        self._ingest()
        user = new_test_user(
            self.env, "radius-dash", groups="isp_billing.group_isp_user", company_id=self.company.id
        )
        cards = self._cards(user)
        self.assertEqual(cards["radius_online"]["value"], before + 2)
        Session = self.env["isp.radius.session"]
        opened = Session.search(cards["radius_sessions_open"]["action"]["domain"])
        self.assertEqual(len(opened.filtered(lambda s: s.login in ("pa", "pb"))), 3)
        self._stop(uid, 0, 0)
        self._ingest()
        self.assertEqual(self._cards()["radius_online"]["value"], before + 1)
