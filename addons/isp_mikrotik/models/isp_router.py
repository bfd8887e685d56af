"""MikroTik routers (NAS): connection settings, live status and the staff's buttons."""

import logging
from datetime import timedelta

from librouteros.exceptions import LibRouterosError

from odoo import api, fields, models
from odoo.exceptions import UserError

from .. import routeros

_logger = logging.getLogger(__name__)

STATES = [
    ("unknown", "Not Checked"),
    ("online", "Online"),
    ("offline", "Offline"),
    ("auth_error", "Authentication Error"),
]
# Retry delays after consecutive failures: 30 s, 1, 2, 4, 8, 16 min, then every 30 min.
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 1800


def backoff_seconds(failures):
    return min(BACKOFF_BASE_SECONDS * 2 ** max(failures - 1, 0), BACKOFF_MAX_SECONDS)


class IspRouter(models.Model):
    _name = "isp.router"
    _description = "ISP Router (NAS)"
    _inherit = ["mail.thread", "mail.activity.mixin", "isp.secret.mixin"]
    _order = "sequence, name, id"
    _check_company_auto = True

    _isp_secret_fields = {"password": "password_encrypted"}

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    site = fields.Char(help="Where the router stands (town, building, tower).")
    # Where the password goes: host, port and TLS settings are the password's group's
    # (system administrators). An ISP manager who could point a router at another address
    # and press Test Connection would send the API password there.
    host = fields.Char(
        required=True,
        tracking=True,
        groups="base.group_system",
        help="IP address or host name of the router's API.",
    )
    use_tls = fields.Boolean(
        string="Use TLS (api-ssl)",
        tracking=True,
        groups="base.group_system",
        help="Connect to the api-ssl service (8729).",
    )
    port = fields.Integer(
        string="API Port",
        default=8728,
        required=True,
        tracking=True,
        groups="base.group_system",
    )
    tls_verify = fields.Boolean(
        string="Check Certificate",
        default=True,
        groups="base.group_system",
        help="Refuse a router whose TLS certificate is not trusted. Routers usually have a "
        "self-signed certificate: untick to accept it (the link is still encrypted).",
    )
    timeout = fields.Integer(
        string="Timeout (s)", default=10, required=True, help="For each connection and reply."
    )
    username = fields.Char(required=True, default="isp-billing", tracking=True)
    password_encrypted = fields.Char(copy=False, groups="base.group_system")
    password = fields.Char(
        compute="_compute_isp_secrets",
        inverse="_inverse_isp_secrets",
        groups="base.group_system",
        help="Stored encrypted; visible to system administrators only.",
    )
    # The set-up script embeds a token that lets the router itself download its login page;
    # only its SHA-256 is kept, and each download of the script issues a new one (the
    # latest downloaded script is the valid one).
    setup_token_hash = fields.Char(copy=False, groups="base.group_system")
    service_hotspot = fields.Boolean(string="Hotspot", default=True)
    service_pppoe = fields.Boolean(string="PPPoE")
    hotspot_server = fields.Char(
        default="all",
        help="Hotspot server the users are created for ('all' for every server), and the "
        "one the set-up script points at the captive page.",
    )
    captive_url = fields.Char(
        string="Captive Page URL",
        help="Where the router's login page sends customers. Default: this Odoo's /hotspot.",
    )
    hotspot_address = fields.Char(
        string="Hotspot Login Address",
        # no default: any rogue hotspot can use RouterOS' proposed 10.5.50.1; the address
        # counts only once staff set it, and only for pages naming this router (nas)
        help="The address of the router's hotspot login page, as it appears in its "
        "link-login-only: the hotspot's IP address (RouterOS' hotspot set-up proposes "
        "10.5.50.1) or the hotspot profile's DNS name, with :port if not 80/443, or an "
        "https:// origin. The captive page sends a customer's hotspot login only to the "
        "login page of the router its link names (nas); a plain password (no CHAP) to an "
        "http:// address only when the address is also in the Hotspot Login Addresses "
        "setting.",
    )

    # live status
    state = fields.Selection(STATES, default="unknown", required=True, readonly=True)
    status_message = fields.Char(readonly=True)
    last_contact = fields.Datetime(readonly=True)
    offline_since = fields.Datetime(readonly=True)
    ros_version = fields.Char(string="RouterOS Version", readonly=True)
    board_name = fields.Char(string="Board", readonly=True)
    identity = fields.Char(readonly=True)
    uptime = fields.Char(readonly=True)
    cpu_load = fields.Integer(string="CPU Load (%)", readonly=True)
    memory_free_mb = fields.Float(string="Free Memory (MB)", readonly=True, digits=(16, 1))
    memory_total_mb = fields.Float(string="Total Memory (MB)", readonly=True, digits=(16, 1))
    active_sessions = fields.Integer(readonly=True)

    # sync
    sync_state = fields.Selection(
        [("never", "Never Synced"), ("ok", "In Sync"), ("error", "Error")],
        default="never",
        required=True,
        readonly=True,
    )
    sync_message = fields.Text(readonly=True)
    last_sync = fields.Datetime(string="Last Full Sync", readonly=True)
    last_sync_attempt = fields.Datetime(readonly=True)
    last_sync_writes = fields.Integer(readonly=True)
    failure_count = fields.Integer(readonly=True, help="Consecutive failed contacts.")
    next_retry = fields.Datetime(readonly=True, help="No contact before this (backoff).")

    job_ids = fields.One2many("isp.router.job", "router_id", string="Sync Jobs")
    session_ids = fields.One2many("isp.router.session", "router_id", string="Sessions")
    pending_job_count = fields.Integer(compute="_compute_pending_job_count")

    _port_valid = models.Constraint(
        "CHECK(port > 0 AND port < 65536)", "The API port must be between 1 and 65535."
    )
    _timeout_valid = models.Constraint(
        "CHECK(timeout > 0 AND timeout <= 120)", "The timeout must be between 1 and 120 s."
    )

    def _compute_pending_job_count(self):
        counts = dict(
            self.env["isp.router.job"]._read_group(
                [("router_id", "in", self.ids), ("state", "=", "pending")],
                ["router_id"],
                ["__count"],
            )
        )
        for router in self:
            router.pending_job_count = counts.get(router, 0)

    @api.onchange("use_tls")
    def _onchange_use_tls(self):
        if self.use_tls and self.port == 8728:
            self.port = 8729
        elif not self.use_tls and self.port == 8729:
            self.port = 8728

    # ------------------------------------------------------------------ connection

    def _enabled_services(self):
        self.ensure_one()
        return [service for service in ("hotspot", "pppoe") if self[f"service_{service}"]]

    def _api_client(self, deadline=None):
        """A logged-in :class:`routeros.Client` (use it as a context manager). Raises
        :class:`routeros.RouterError`."""
        self.ensure_one()
        router = self.sudo()
        try:
            password = router._isp_secret("password") or ""
        except UserError as exc:
            raise routeros.RouterError("auth", str(exc)) from exc
        return routeros.Client(
            router.host,
            router.port,
            router.username,
            password,
            timeout=router.timeout,
            tls=router.use_tls,
            verify=router.tls_verify,
            deadline=deadline,
        )

    def _read_status(self, client):
        """Read /system/resource and /system/identity; return the router's status values."""
        resource = client.print(
            ("system", "resource"),
            ["uptime", "version", "cpu-load", "free-memory", "total-memory", "board-name"],
        )
        identity = client.print(("system", "identity"), ["name"])
        row = resource[0] if resource else {}
        return {
            "ros_version": routeros.text(row.get("version")),
            "board_name": routeros.text(row.get("board-name")),
            "uptime": routeros.text(row.get("uptime")),
            "cpu_load": routeros.to_int(row.get("cpu-load")),
            "memory_free_mb": routeros.to_int(row.get("free-memory")) / routeros.MIB,
            "memory_total_mb": routeros.to_int(row.get("total-memory")) / routeros.MIB,
            "identity": routeros.text(identity[0].get("name")) if identity else False,
        }

    def _record_success(self, values=None):
        """The router answered: it is online (and any offline alert is closed)."""
        now = fields.Datetime.now()
        vals = {
            "state": "online",
            "status_message": False,
            "last_contact": now,
            "offline_since": False,
            "failure_count": 0,
            "next_retry": False,
            **(values or {}),
        }
        self.write(vals)
        self._close_offline_alerts()

    def _record_failure(self, error):
        """The router could not be reached or refused us (``error``: a RouterError or the
        connection's exception): record it, back off."""
        now = fields.Datetime.now()
        for router in self:
            error = router._router_error(error)
            failures = router.failure_count + 1
            router.write(
                {
                    "state": "auth_error" if error.kind == "auth" else "offline",
                    "status_message": router._failure_text(error),
                    "offline_since": router.offline_since or now,
                    "failure_count": failures,
                    "next_retry": now + timedelta(seconds=backoff_seconds(failures)),
                }
            )
            _logger.info("Router %s (%s): %s", router.name, router.id, error.message)

    def _router_error(self, exc):
        """``exc``, a failed contact, as a RouterError (a connection's exception: offline)."""
        if isinstance(exc, routeros.RouterError):
            return exc
        router = self.sudo()  # host and port are the system administrators' fields
        return routeros.RouterError("offline", routeros.describe(exc, router.host, router.port))

    def _failure_text(self, error):
        self.ensure_one()
        if error.kind == "auth":
            return self.env._(
                "The router refused the user name or password: check the API user %(user)s "
                "and its password on the router and here (router said: %(reason)s).",
                user=self.username,
                reason=error.message,
            )
        return error.message

    # ------------------------------------------------------------------ buttons

    def action_test_connection(self):
        """Connect to the stored host and port (the record's only: nothing from the
        context or the caller) and say what the router answered."""
        self.ensure_one()
        self.check_access("write")
        router = self.sudo()  # host and port are the system administrators' fields
        try:
            with self._api_client() as client:
                values = self._read_status(client)
        except (routeros.RouterError, LibRouterosError, OSError) as exc:
            error = self._router_error(exc)
            if self.try_lock_for_update(allow_referencing=True):
                self._record_failure(error)
            return self._notification(self._failure_text(error), "danger")
        if self.try_lock_for_update(allow_referencing=True):
            self._record_success(values)
        message = self.env._(
            "Connected to %(identity)s: RouterOS %(version)s on %(board)s, up %(uptime)s.",
            identity=values["identity"] or router.host,
            version=values["ros_version"],
            board=values["board_name"],
            uptime=values["uptime"],
        )
        return self._notification(message, "success")

    def _notification(self, message, kind):
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Router %(name)s", name=self.name),
                "message": message,
                "type": kind,
                "sticky": kind == "danger",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_sync_now(self):
        """Run a full synchronisation of the router now (its backoff waived) and tell the
        result at once; the form then reloads with the new state, last sync and error."""
        self.ensure_one()
        self.check_access("write")
        router = self.sudo()  # the queue's work, as the queue cron does it
        Job = self.env["isp.router.job"].sudo()
        if not router.try_lock_for_update(allow_referencing=True):
            return self._notification(
                self.env._(
                    "This router is being synchronised right now; its result shows here in a "
                    "moment."
                ),
                "warning",
            )
        Job._enqueue_full(router, reason="manual", now=True)
        jobs = Job.search(
            [("router_id", "=", router.id), ("state", "=", "pending"), ("kind", "=", "full")]
        )
        unfinished = router._process_jobs(jobs, force=True)
        if router.state in ("offline", "auth_error"):
            return self._notification(
                self.env._(
                    "Synchronisation failed: %(reason)s It is retried automatically.",
                    reason=router.status_message,
                ),
                "danger",
            )
        if unfinished:
            return self._notification(
                self.env._(
                    "Part of the synchronisation is done; the rest continues in the background."
                ),
                "warning",
            )
        if router.sync_state == "error":
            return self._notification(
                self.env._(
                    "The router refused part of the synchronisation: %(reason)s",
                    reason=router.sync_message,
                ),
                "danger",
            )
        return self._notification(
            self.env._(
                "The router is in sync: %(count)s change(s) written.",
                count=router.last_sync_writes,
            ),
            "success",
        )

    def action_view_jobs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("isp_mikrotik.isp_router_job_action")
        action["domain"] = [("router_id", "=", self.id)]
        action["context"] = {"search_default_pending": 1}
        return action
