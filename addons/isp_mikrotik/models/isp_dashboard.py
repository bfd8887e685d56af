from odoo import api, models


class IspDashboard(models.AbstractModel):
    """Routers on the ISP dashboard: online / offline (live status of the last contact), not
    checked yet, failed syncs, and the sync jobs waiting."""

    _inherit = "isp.dashboard"

    @api.model
    def _dashboard_sections(self, ctx):
        sections = super()._dashboard_sections(ctx)
        if self.env["isp.router"].has_access("read"):
            sections.append(self._section_routers(ctx))
        return sections

    @api.model
    def _section_routers(self, ctx):
        Router = self.env["isp.router"]
        companies = ctx["company_domain"]
        by_state = dict(Router._read_group(companies, ["state"], ["__count"]))
        sync_errors = dict(Router._read_group(companies, ["sync_state"], ["__count"])).get(
            "error", 0
        )
        offline_states = ["offline", "auth_error"]
        cards = [
            self._card(
                "routers_online",
                self.env._("Routers online"),
                by_state.get("online", 0),
                self._action(
                    self.env._("Routers online"),
                    "isp.router",
                    [*companies, ("state", "=", "online")],
                ),
                tone="success",
                window=self._now_label(),
            ),
            self._card(
                "routers_offline",
                self.env._("Routers offline"),
                sum(by_state.get(state, 0) for state in offline_states),
                self._action(
                    self.env._("Routers offline"),
                    "isp.router",
                    [*companies, ("state", "in", offline_states)],
                ),
                tone="danger",
                hint=self.env._("unreachable or refusing the login"),
                window=self._now_label(),
            ),
            self._card(
                "routers_unknown",
                self.env._("Not checked yet"),
                by_state.get("unknown", 0),
                self._action(
                    self.env._("Routers not checked"),
                    "isp.router",
                    [*companies, ("state", "=", "unknown")],
                ),
                tone="muted",
                window=self._now_label(),
            ),
            self._card(
                "routers_sync_error",
                self.env._("Sync errors"),
                sync_errors,
                self._action(
                    self.env._("Routers whose last sync failed"),
                    "isp.router",
                    [*companies, ("sync_state", "=", "error")],
                ),
                tone="warning",
                window=self._now_label(),
            ),
        ]
        Job = self.env["isp.router.job"]
        if Job.has_access("read"):
            pending = [*companies, ("state", "=", "pending")]
            cards.append(
                self._card(
                    "router_jobs_pending",
                    self.env._("Sync jobs waiting"),
                    Job.search_count(pending),
                    self._action(self.env._("Router sync jobs waiting"), "isp.router.job", pending),
                    window=self._now_label(),
                )
            )
        return {"key": "routers", "title": self.env._("Routers"), "sequence": 70, "cards": cards}
