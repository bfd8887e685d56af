import hashlib
import logging
import re
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from librouteros.exceptions import LibRouterosError, TrapError
from markupsafe import escape

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import consteq

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


# Control characters (newlines included) end a RouterOS command or a script line: refused in
# every value the set-up script or login.html is made of.
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
# A host name or an IPv4 / IPv6 address (walled-garden dst-host, hotspot login address).
HOST_NAME = re.compile(r"^[A-Za-z0-9_.:-]*[A-Za-z0-9][A-Za-z0-9_.:-]*$")
# A hotspot login address's host, by the captive page's rule (isp_hotspot's LOGIN_HOST): a
# host name or IPv4 address (letters, digits, dots, hyphens), or an IPv6 address.
LOGIN_HOST_NAME = re.compile(r"^(?:[0-9A-Fa-f:.]+|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)$")


def ros_quote(value):
    """``value`` as a double-quoted RouterOS script string: ``\\``, ``"``, ``$`` (variable
    substitution) and ``?`` (the terminal's help key) escaped. A control character (a
    newline would end the command and start another) raises ValueError."""
    value = str(value or "")
    if CONTROL_CHARS.search(value):
        raise ValueError("control character in a RouterOS string")
    for char in ("\\", '"', "$", "?"):
        value = value.replace(char, "\\" + char)
    return f'"{value}"'


def hash_setup_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


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

    @api.constrains("name", "username", "hotspot_server", "captive_url", "hotspot_address")
    def _check_isp_script_values(self):
        """These values go into the set-up script (RouterOS) and login.html (HTML): no
        control characters (a newline would start a new RouterOS command), a captive page
        that is an http(s) URL and a login address that is a host."""
        labels = {
            "name": self.env._("The router's name"),
            "username": self.env._("The API user name"),
            "hotspot_server": self.env._("The hotspot server"),
            "captive_url": self.env._("The captive page URL"),
            "hotspot_address": self.env._("The hotspot login address"),
        }
        for router in self:
            for field_name, label in labels.items():
                if CONTROL_CHARS.search(router[field_name] or ""):
                    raise ValidationError(
                        self.env._(
                            "%(field)s cannot contain line breaks or other control characters.",
                            field=label,
                        )
                    )
            url = router.captive_url
            if url:
                parts = urlsplit(url)
                if (
                    parts.scheme not in ("http", "https")
                    or not parts.hostname
                    or not HOST_NAME.match(parts.hostname)
                    or re.search(r"[\s\"'<>\\`]", url)
                ):
                    raise ValidationError(
                        self.env._(
                            "The captive page URL must be an http:// or https:// address, "
                            "like https://wifi.example.com/hotspot."
                        )
                    )
            if router.hotspot_address and not router._isp_parse_hotspot_address():
                raise ValidationError(
                    self.env._(
                        "The hotspot login address must be a host name or an IP address "
                        "(10.5.50.1, login.example.net:8080) or an http(s):// origin."
                    )
                )

    def _isp_parse_hotspot_address(self):
        """The hotspot login address's host (and port), or None when malformed."""
        self.ensure_one()
        address = (self.hotspot_address or "").strip()
        if not address or not address.isprintable() or " " in address:
            return None
        try:
            parts = urlsplit(address if "://" in address else f"//{address}")
            port = parts.port
        except ValueError:
            return None
        if "://" in address and parts.scheme not in ("http", "https"):
            return None
        if parts.path.strip("/") or parts.query or parts.fragment or parts.username:
            return None
        host = parts.hostname
        if not host or not LOGIN_HOST_NAME.match(host):
            return None
        return host, port

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

    def _isp_services(self):
        self.ensure_one()
        return [
            service
            for service, enabled in (
                ("hotspot", self.service_hotspot),
                ("pppoe", self.service_pppoe),
            )
            if enabled
        ]

    def _isp_client(self, deadline=None):
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

    def _isp_read_status(self, client):
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

    def _isp_record_success(self, values=None):
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
        for router in self:
            router.write(vals)
        self._isp_close_offline_alerts()

    def _isp_record_failure(self, error):
        """The router could not be reached or refused us: record it, back off."""
        now = fields.Datetime.now()
        for router in self:
            failures = router.failure_count + 1
            router.write(
                {
                    "state": "auth_error" if error.kind == "auth" else "offline",
                    "status_message": router._isp_failure_text(error),
                    "offline_since": router.offline_since or now,
                    "failure_count": failures,
                    "next_retry": now + timedelta(seconds=backoff_seconds(failures)),
                }
            )
            _logger.info("Router %s (%s): %s", router.name, router.id, error.message)

    def _isp_failure_text(self, error):
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
            with self._isp_client() as client:
                values = self._isp_read_status(client)
        except (routeros.RouterError, LibRouterosError, OSError) as exc:
            error = (
                exc
                if isinstance(exc, routeros.RouterError)
                else routeros.RouterError(
                    "offline", routeros.describe(exc, router.host, router.port)
                )
            )
            if self.try_lock_for_update(allow_referencing=True):
                self._isp_record_failure(error)
            return self._isp_notify(self._isp_failure_text(error), "danger")
        if self.try_lock_for_update(allow_referencing=True):
            self._isp_record_success(values)
        message = self.env._(
            "Connected to %(identity)s: RouterOS %(version)s on %(board)s, up %(uptime)s.",
            identity=values["identity"] or router.host,
            version=values["ros_version"],
            board=values["board_name"],
            uptime=values["uptime"],
        )
        return self._isp_notify(message, "success")

    def _isp_notify(self, message, kind):
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
            return self._isp_notify(
                self.env._(
                    "This router is being synchronised right now; its result shows here in a "
                    "moment."
                ),
                "warning",
            )
        Job._isp_enqueue_full(router, reason="manual", now=True)
        jobs = Job.search(
            [("router_id", "=", router.id), ("state", "=", "pending"), ("kind", "=", "full")]
        )
        unfinished = router._isp_process_jobs(jobs, force=True)
        if router.state in ("offline", "auth_error"):
            return self._isp_notify(
                self.env._(
                    "Synchronisation failed: %(reason)s It is retried automatically.",
                    reason=router.status_message,
                ),
                "danger",
            )
        if unfinished:
            return self._isp_notify(
                self.env._(
                    "Part of the synchronisation is done; the rest continues in the background."
                ),
                "warning",
            )
        if router.sync_state == "error":
            return self._isp_notify(
                self.env._(
                    "The router refused part of the synchronisation: %(reason)s",
                    reason=router.sync_message,
                ),
                "danger",
            )
        return self._isp_notify(
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

    def action_download_setup_script(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": f"/isp_mikrotik/router/{self.id}/setup.rsc",
            "target": "download",
        }

    def action_download_login_page(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": f"/isp_mikrotik/router/{self.id}/login.html",
            "target": "download",
        }

    def action_regenerate_setup_token(self):
        """Revoke the set-up token: the downloaded set-up scripts no longer fetch the login
        page (a new download issues a new token)."""
        # the token's hash is readable by system administrators only: the write is done as
        # superuser, so the caller's right to change the router is checked first (any user
        # can call a public method over RPC)
        self.check_access("write")
        for router in self:
            router._isp_issue_setup_token()
        return True

    def _isp_issue_setup_token(self):
        """A new set-up token for this router: its hash is stored, the cleartext returned
        (for the set-up script) and kept nowhere. Any earlier token stops working."""
        self.ensure_one()
        token = secrets.token_urlsafe(24)
        self.sudo().write({"setup_token_hash": hash_setup_token(token)})
        return token

    def _isp_check_setup_token(self, token):
        """True when ``token`` is this router's latest set-up token (constant time)."""
        self.ensure_one()
        stored = self.sudo().setup_token_hash
        if not stored or not isinstance(token, str) or not token:
            return False
        return consteq(hash_setup_token(token), stored)

    # ------------------------------------------------------------------ set-up files

    def _isp_captive_url(self):
        self.ensure_one()
        return self.captive_url or f"{self.get_base_url().rstrip('/')}/hotspot"

    def _isp_walled_garden_hosts(self):
        """Hosts unauthenticated clients must reach: this Odoo (captive page) and the
        payment pages of every enabled payment provider of the router's company."""
        self.ensure_one()
        hosts = []
        for url in (self.get_base_url(), self._isp_captive_url()):
            host = urlsplit(url).hostname
            if host and host not in hosts:
                hosts.append(host)
        providers = (
            self.env["payment.provider"]
            .sudo()
            .search([("state", "in", ("enabled", "test")), ("company_id", "=", self.company_id.id)])
        )
        for host in providers._isp_walled_garden_hosts():
            if host not in hosts:
                hosts.append(host)
        return hosts

    def _isp_login_html(self):
        """The hotspot login.html: forwards the router's variables to the captive page."""
        self.ensure_one()
        fields_html = "\n".join(
            f'      <input type="hidden" name="{name}" value="$({variable})"/>'
            for name, variable in (
                ("mac", "mac"),
                ("ip", "ip"),
                ("link-login-only", "link-login-only"),
                ("link-orig", "link-orig"),
                ("chap-id", "chap-id"),
                ("chap-challenge", "chap-challenge"),
                ("error", "error"),
                ("server-name", "server-name"),
                ("identity", "identity"),
            )
        )
        # every interpolated value HTML-escaped (the name also kept from closing the comment)
        action = escape(self._isp_captive_url())
        name = escape(self.name or "").replace("--", "- -")
        return f"""<!DOCTYPE html>
<html>
  <head>
    <meta charset="utf-8"/>
    <meta name="viewport" content="width=device-width, initial-scale=1"/>
    <title>Internet access</title>
  </head>
  <body onload="document.forms.isp.submit()">
    <!-- ISP Billing Suite: router {int(self.id)} ({name}). The router fills in $(...). -->
    <form name="isp" action="{action}" method="get">
      <input type="hidden" name="nas" value="{int(self.id)}"/>
{fields_html}
      <noscript><button type="submit">Continue</button></noscript>
    </form>
  </body>
</html>
"""

    def _isp_setup_script(self, with_password=False):
        """A RouterOS script creating the API user and pointing the hotspot at the captive
        page. It writes only properties routeros.md documents for each menu: the API user
        and its group are found by name, walled-garden entries by the suite's comment tag,
        walled-garden/ip entries (no comment there) by their host, added only when absent.

        Every value is a quoted RouterOS string (``ros_quote``): a router name, user name,
        hotspot server or host cannot end the command it is in. Each call issues a new
        set-up token (embedded in the script's login.html URL; its hash is stored): the
        latest script made is the one whose fetch works."""
        self.ensure_one()
        router = self.sudo()
        tag = ros_quote(routeros.TAG)
        hosts = self._isp_walled_garden_hosts()
        for host in hosts:
            if not HOST_NAME.match(host):
                raise UserError(
                    self.env._(
                        "%(host)s is not a host name: it cannot go into the walled garden.",
                        host=repr(host)[:80],
                    )
                )
        try:
            username = ros_quote(self.username)
            server = self.hotspot_server or "all"
            server_quoted = ros_quote(server)
            comment_name = ros_quote(self.name)
            password = ros_quote((router._isp_secret("password") or "") if with_password else "")
        except ValueError as exc:
            raise UserError(
                self.env._(
                    "The router's name, API user, hotspot server or password contains a line "
                    "break or another control character: correct it before making the script."
                )
            ) from exc
        token = self._isp_issue_setup_token()
        login_url = ros_quote(
            f"{self.get_base_url().rstrip('/')}/isp_mikrotik/router/{int(self.id)}/login.html"
            f"?token={token}"
        )
        lines = [
            f"# ISP Billing Suite: set-up of router {comment_name} (id {int(self.id)}).",
            "# Paste into a RouterOS terminal, or upload and /import it. Only the latest",
            "# script downloaded from Odoo can fetch the login page (each download issues a",
            "# new token).",
            f"# The API user {username} is put in the group {tag}; walled-garden entries",
            f"# carry the comment {tag}; nothing else on the router is changed or removed.",
            "",
            "# API user for Odoo (API, read and write only)",
            f":if ([:len [/user group find name={tag}]] = 0) do={{ "
            f"/user group add name={tag} policy=read,write,api,test,!ftp,!ssh,!telnet,"
            "!winbox,!web,!local,!reboot,!policy,!password,!sniff,!sensitive,!romon }",
        ]
        if password != '""':
            lines.append(
                f":if ([:len [/user find name={username}]] = 0) do={{ /user add "
                f"name={username} group={tag} password={password} "
                f"}} else={{ /user set [find name={username}] group={tag} "
                f"password={password} }}"
            )
        else:
            lines += [
                "# Replace CHANGE-ME by the password stored on the router record in Odoo.",
                f":if ([:len [/user find name={username}]] = 0) do={{ /user add "
                f'name={username} group={tag} password="CHANGE-ME" }}',
            ]
        service = "api-ssl" if router.use_tls else "api"
        lines += [
            f"/ip service set {service} disabled=no port={int(router.port)}",
            "",
            "# The hotspot's login page forwards customers to the captive page",
            f'/tool fetch url={login_url} dst-path="hotspot/login.html" mode=https',
        ]
        if server != "all":
            lines.append(
                f"/ip hotspot profile set [find name=[/ip hotspot get [find name={server_quoted}] "
                "profile]] login-by=http-chap,http-pap,cookie html-directory=hotspot"
            )
        else:
            lines.append(
                "/ip hotspot profile set [find] login-by=http-chap,http-pap,cookie "
                "html-directory=hotspot"
            )
        lines += [
            "",
            "# Walled garden: Odoo and the payment pages, reachable before login",
            f"/ip hotspot walled-garden remove [find comment={tag}]",
        ]
        for host in hosts:
            host = ros_quote(host)
            lines += [
                f"/ip hotspot walled-garden add dst-host={host} action=allow comment={tag}",
                f":if ([:len [/ip hotspot walled-garden ip find dst-host={host}]] = 0) do={{ "
                f"/ip hotspot walled-garden ip add dst-host={host} action=accept }}",
            ]
        return "\n".join(lines) + "\n"

    # ------------------------------------------------------------------ server-side login

    def _isp_hotspot_login(self, subscription, ip, mac):
        """Log the client at ``ip``/``mac`` in on this router as ``subscription``'s user
        (``/ip/hotspot/active/login``), provisioning the user first if the queue has not done
        it yet. Returns ``{"ok": bool, "state": str, "message": str}``, ``state`` being:

        - ``online``: the router accepted the login (only then ``ok``);
        - ``pending``: the router cannot be reached; the subscription's sync job stays queued
          and the access follows when the router answers (the page tries again);
        - ``refused``: the subscription or the router says no (device limit, the router
          refused the user); ``message`` says why in plain words.

        Every outcome is in the access log."""
        self.ensure_one()
        subscription.ensure_one()
        Log = self.env["isp.access.log"]
        partner = subscription.partner_id

        def refused(reason, message, detail=None):
            Log._isp_log(False, reason, partner, mac=mac, ip=ip, message=detail or message)
            return {"ok": False, "state": "refused", "message": message}

        pending = {
            "ok": False,
            "state": "pending",
            "message": self.env._(
                "Your access is paid. The router cannot be reached right now: this device "
                "is connected as soon as it answers."
            ),
        }

        if subscription.state != "active" or subscription.service_type != "hotspot":
            reason = (
                subscription.state
                if subscription.state in ("expired", "suspended")
                else ("no_subscription")
            )
            return refused(
                reason, self.env._("This subscription is not an active hotspot subscription.")
            )
        if subscription.company_id != self.company_id or not self.service_hotspot:
            return refused(
                "invalid_request", self.env._("This router does not serve this subscription.")
            )
        subscription_sudo = subscription.sudo()
        Job = self.env["isp.router.job"].sudo()
        if self._isp_backing_off():
            # known unreachable and not to be contacted yet: no connection (each would hold
            # a server worker up to the timeout) and nothing new to log; the job queue
            # brings the user there when the router answers
            Job._isp_enqueue(subscription_sudo, reason="retry", routers=self)
            return pending
        try:
            with self._isp_client() as client:
                result = self.env["isp.router.reconciler"]._isp_sync(
                    self, client, subscription_sudo
                )
                if result.errors:
                    # the router refused the user or its profile: the queue retries it and
                    # records the router's answer on the router for the staff
                    Job._isp_enqueue(subscription_sudo, reason="retry", routers=self)
                    detail = "; ".join(result.errors.values())
                    return refused(
                        "other",
                        self.env._(
                            "Your payment is recorded, but the router could not switch your "
                            "access on (%(reason)s). We are trying again; if this lasts, "
                            "please contact us.",
                            reason=detail,
                        ),
                    )
                return self._isp_hotspot_login_device(client, subscription_sudo, ip, mac)
        except (routeros.RouterError, LibRouterosError, OSError) as exc:
            # unreachable (or the API login refused): the job queue brings the user there
            Job._isp_enqueue(subscription_sudo, reason="retry", routers=self)
            reason = getattr(exc, "message", None) or routeros.describe(exc, self.host, self.port)
            Log._isp_log(False, "other", partner, mac=mac, ip=ip, message=reason)
            return pending

    def _isp_backing_off(self):
        """True while this router is known unreachable (offline, or its API login refused)
        and its backoff (``next_retry``) is not over: not to be contacted yet."""
        self.ensure_one()
        router = self.sudo()
        return bool(
            router.state in ("offline", "auth_error")
            and router.next_retry
            and router.next_retry > fields.Datetime.now()
        )

    def _isp_hotspot_login_device(self, client, subscription, ip, mac):
        """``/ip/hotspot/active/login`` of the provisioned user for the device; see
        :meth:`_isp_hotspot_login`."""
        partner = subscription.partner_id
        Log = self.env["isp.access.log"]
        props = {"user": subscription.login, "password": subscription.password or "", "ip": ip}
        if mac:
            props["mac-address"] = mac
        try:
            client.command(routeros.HOTSPOT_ACTIVE, "login", **props)
        except TrapError as exc:
            answer = str(exc)
            if answer == "already logged in" and self._isp_logged_in_as(client, ip, subscription):
                return {"ok": True, "state": "online", "message": self.env._("You are online.")}
            if answer == "no more sessions are allowed for user":
                reason = "device_limit"
                message = self.env._(
                    "Your bundle is already in use on as many devices as it allows at once. "
                    "Disconnect one of them, or remove it from your devices, then try again."
                )
            elif answer == "already logged in":
                reason = "other"
                message = self.env._("This device is signed in on the router with another login.")
            else:
                reason = "other"
                message = self.env._("The router refused the login: %(reason)s", reason=answer)
            Log._isp_log(False, reason, partner, mac=mac, ip=ip, message=answer)
            return {"ok": False, "state": "refused", "message": message}
        if mac:
            self.env["isp.device"].sudo()._isp_register(partner, mac, ip=ip)
        return {"ok": True, "state": "online", "message": self.env._("You are online.")}

    @staticmethod
    def _isp_logged_in_as(client, ip, subscription):
        rows = client.print(routeros.HOTSPOT_ACTIVE, [".id", "user"], where=[f"?=address={ip}"])
        return any(routeros.text(row.get("user")) == subscription.login for row in rows)

    # ------------------------------------------------------------------ health

    @api.model
    def _cron_check_health(self):
        """Ping every router; alert the ISP managers of routers offline for too long; purge
        old finished sync jobs."""
        cron = self.env["ir.cron"]
        routers = self.search([])
        remaining = len(routers)
        for router in routers:
            remaining -= 1
            if not router.try_lock_for_update(allow_referencing=True):
                continue
            router._isp_check_health()
            if not cron._commit_progress(1, remaining=remaining):
                break
        self.env["isp.router.job"]._isp_purge_done()
        return True

    def _isp_check_health(self):
        self.ensure_one()
        try:
            with self._isp_client() as client:
                values = self._isp_read_status(client)
                values["active_sessions"] = sum(
                    len(client.print(routeros.MENUS[s][2], [".id"])) for s in self._isp_services()
                )
        except routeros.RouterError as exc:
            self._isp_record_failure(exc)
        except (LibRouterosError, OSError) as exc:
            self._isp_record_failure(
                routeros.RouterError("offline", routeros.describe(exc, self.host, self.port))
            )
        else:
            self._isp_record_success(values)
        self._isp_alert_if_offline()

    def _isp_alert_if_offline(self):
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

    def _isp_close_offline_alerts(self):
        activity_type = self.env.ref(
            "isp_mikrotik.mail_activity_type_router_offline", raise_if_not_found=False
        )
        if not activity_type:
            return
        activities = self.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)
        if activities:
            activities.action_feedback(feedback=self.env._("The router is back online."))
