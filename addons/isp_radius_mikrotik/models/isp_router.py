"""A MikroTik router's provisioning: over its API (isp_mikrotik pushes users and secrets) or
through RADIUS (the router asks FreeRADIUS at each login, its isp.radius.nas takes the
Disconnect and CoA requests)."""

import logging

from librouteros.exceptions import LibRouterosError, TrapError

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from odoo.addons.isp_mikrotik import routeros

_logger = logging.getLogger(__name__)


class IspRouter(models.Model):
    _inherit = "isp.router"

    provisioning = fields.Selection(
        [("api", "RouterOS API"), ("radius", "RADIUS")],
        default="api",
        required=True,
        tracking=True,
        help="RouterOS API: the suite creates and updates the hotspot users and PPPoE secrets "
        "on the router. RADIUS: the router asks FreeRADIUS at each login (its RADIUS NAS); "
        "the suite's users are removed from it and none is pushed. Health checks and the "
        "active-session count go on over the API either way.",
    )
    radius_nas_id = fields.Many2one(
        "isp.radius.nas",
        string="RADIUS NAS",
        check_company=True,
        ondelete="restrict",
        tracking=True,
        help="This router as a RADIUS client: its address, secret and CoA port.",
    )

    @api.constrains("provisioning", "radius_nas_id")
    def _check_radius_nas(self):
        for router in self:
            if router.provisioning == "radius" and not router.radius_nas_id:
                raise ValidationError(
                    self.env._(
                        "Router %(name)s is provisioned through RADIUS: choose its RADIUS NAS.",
                        name=router.name,
                    )
                )

    def write(self, vals):
        switching = self.browse()
        if vals.get("provisioning") == "radius":
            switching = self.filtered(lambda r: r.provisioning != "radius")
        result = super().write(vals)
        if switching:
            # RouterOS checks its local users before RADIUS: the suite's go at once
            self.env["isp.router.job"].sudo()._enqueue_full(switching, reason="manual", now=True)
        return result

    def _process_jobs(self, jobs, force=False):
        """A RADIUS router gets no user: its subscription jobs are done as they are, a full
        reconciliation removes the suite's users and secrets left from API provisioning."""
        if self.provisioning != "radius":
            return super()._process_jobs(jobs, force=force)
        self.ensure_one()
        now = fields.Datetime.now()
        self.last_sync_attempt = now
        full = jobs.filtered(lambda j: j.kind == "full")
        (jobs - full)._mark_done()
        if not full:
            return 0
        if not force and self.next_retry and self.next_retry > now:
            full.write({"next_attempt": self.next_retry})
            return 0
        try:
            with self.env.cr.savepoint(), self._api_client() as client:
                status = self._read_status(client)
                removed = self._radius_release(client)
        except (TrapError, routeros.RouterError, LibRouterosError, OSError) as exc:
            self._jobs_failed(full, exc)
            return 0
        self._record_success(status)
        full._mark_done(removed)
        self.write({"last_sync": fields.Datetime.now(), "last_sync_writes": removed})
        self._record_sync(True, False)
        return 0

    def _radius_release(self, client):
        """Remove the hotspot users and PPPoE secrets the suite created on this router (its
        comment tag), whatever services are enabled: the others are the operator's. Returns
        the number removed."""
        removed = 0
        for service in ("hotspot", "pppoe"):
            menu = routeros.MENUS[service][0]
            ours = [
                row[".id"]
                for row in client.print(menu, [".id", "name", "comment"])
                if routeros.parse_user_tag(row.get("comment"))
            ]
            if ours:
                client.remove(menu, *ours)
                removed += len(ours)
        if removed:
            _logger.info("Router %s (RADIUS): %s users of the suite removed", self.id, removed)
        return removed
