"""Router health: the periodic check of every router and the offline alerts."""

from datetime import timedelta

from librouteros.exceptions import LibRouterosError

from odoo import api, fields, models

from .. import routeros


class IspRouter(models.Model):
    _inherit = "isp.router"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def _cron_check_health(self):
        """Ping every router; alert the ISP managers of routers offline for too long."""
        cron = self.env["ir.cron"]
        routers = self.search([])
        remaining = len(routers)
        for router in routers:
            remaining -= 1
            if not router.try_lock_for_update(allow_referencing=True):
                continue
            router._check_health()
            if not cron._commit_progress(1, remaining=remaining):
                break
        return True

    def _check_health(self):
        self.ensure_one()
        try:
            with self._api_client() as client:
                values = self._read_status(client)
                values["active_sessions"] = sum(
                    len(client.print(routeros.MENUS[s][2], [".id"]))
                    for s in self._enabled_services()
                )
        except (routeros.RouterError, LibRouterosError, OSError) as exc:
            self._record_failure(exc)
        else:
            self._record_success(values)
        self._alert_if_offline()

    def _alert_if_offline(self):
        activity_type = self.env.ref("isp_mikrotik.mail_activity_type_router_offline")
        now = fields.Datetime.now()
        for router in self.filtered(lambda r: r.state in ("offline", "auth_error")):
            threshold = timedelta(minutes=router.company_id.isp_mikrotik_offline_alert_minutes)
            if not router.offline_since or now - router.offline_since < threshold:
                continue
            if router.activity_ids.filtered(lambda a, t=activity_type: a.activity_type_id == t):
                continue
            managers = self.env.ref("isp_billing.group_isp_manager").user_ids.filtered(
                lambda u, r=router: not u.share
                and r.company_id in u.company_ids
                and u.id != self.env.ref("base.user_root").id
            )
            for user in managers:
                router.activity_schedule(
                    activity_type_id=activity_type.id,
                    summary=self.env._("Router %(name)s is unreachable", name=router.name),
                    note=self.env._(
                        "No contact since %(since)s: %(reason)s",
                        since=fields.Datetime.to_string(router.offline_since),
                        reason=router.status_message or "",
                    ),
                    user_id=user.id,
                )

    def _close_offline_alerts(self):
        activity_type = self.env.ref(
            "isp_mikrotik.mail_activity_type_router_offline", raise_if_not_found=False
        )
        if not activity_type:
            return
        activities = self.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)
        if activities:
            activities.action_feedback(feedback=self.env._("The router is back online."))
