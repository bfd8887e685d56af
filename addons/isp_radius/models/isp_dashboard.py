"""RADIUS on the ISP dashboard: who is online now, from the open accounting sessions."""

from odoo import api, models


class IspDashboard(models.AbstractModel):
    _inherit = "isp.dashboard"

    @api.model
    def _dashboard_sections(self, ctx):
        sections = super()._dashboard_sections(ctx)
        if self.env["isp.radius.session"].has_access("read"):
            sections.append(self._section_radius(ctx))
        return sections

    @api.model
    def _section_radius(self, ctx):
        Session = self.env["isp.radius.session"]
        companies = ctx["company_domain"]
        online = [*companies, ("state", "=", "open")]
        customers = Session._read_group(online, [], ["partner_id:count_distinct"])[0][0]
        stale = [
            *companies,
            ("state", "=", "stale"),
            ("stop", ">=", ctx["period_from"]),
        ]
        cards = [
            self._card(
                "radius_online",
                self.env._("Online now"),
                customers,
                self._action(self.env._("RADIUS sessions online"), "isp.radius.session", online),
                tone="success",
                hint=self.env._("customers with an open RADIUS session"),
                window=self._now_label(),
            ),
            self._card(
                "radius_sessions_open",
                self.env._("Sessions open"),
                Session.search_count(online),
                self._action(self.env._("RADIUS sessions online"), "isp.radius.session", online),
                window=self._now_label(),
            ),
            self._card(
                "radius_sessions_stale",
                self.env._("Stale sessions closed"),
                Session.search_count(stale),
                self._action(self.env._("Stale RADIUS sessions"), "isp.radius.session", stale),
                tone="warning",
                hint=self.env._("the NAS stopped reporting them"),
                window=ctx["window"],
            ),
        ]
        return {"key": "radius", "title": self.env._("RADIUS"), "sequence": 75, "cards": cards}
