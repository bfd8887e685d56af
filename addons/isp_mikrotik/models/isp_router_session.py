import logging
from collections import Counter, defaultdict

from librouteros.exceptions import LibRouterosError, TrapError

from odoo import api, fields, models

from odoo.addons.isp_billing.models.isp_device import normalize_mac

from .. import routeros

_logger = logging.getLogger(__name__)


class IspRouterSession(models.Model):
    """A customer online on a router (hotspot active entry or PPPoE connection), as last
    polled. Its byte counters make data use add up across polls without double counting."""

    _name = "isp.router.session"
    _description = "ISP Router Session"
    _order = "last_seen desc, id desc"
    _rec_name = "login"

    router_id = fields.Many2one("isp.router", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="router_id.company_id", store=True, index=True)
    service = fields.Selection([("hotspot", "Hotspot"), ("pppoe", "PPPoE")], required=True)
    ros_id = fields.Char(string="Router ID", required=True)
    login = fields.Char(required=True, index=True)
    subscription_id = fields.Many2one(
        "isp.subscription", index="btree_not_null", ondelete="set null"
    )
    partner_id = fields.Many2one(related="subscription_id.partner_id", string="Customer")
    mac = fields.Char(string="MAC Address")
    ip = fields.Char(string="IP Address")
    uptime = fields.Char()
    bytes_total = fields.Float(string="Bytes", digits=(20, 0))
    data_mb = fields.Float(string="Data (MB)", compute="_compute_data_mb", digits=(16, 2))
    first_seen = fields.Datetime(default=fields.Datetime.now)
    last_seen = fields.Datetime(default=fields.Datetime.now)

    _router_session_unique = models.Constraint(
        "UNIQUE(router_id, service, ros_id)", "A router session is recorded once."
    )

    @api.depends("bytes_total")
    def _compute_data_mb(self):
        for session in self:
            session.data_mb = session.bytes_total / routeros.MIB

    def action_disconnect(self):
        """Log these sessions out on their routers."""
        # before any router is told: the rows are removed at the end (ISP managers may)
        self.check_access("unlink")
        for router in self.router_id:
            sessions = self.filtered(lambda s, r=router: s.router_id == r)
            with router._api_client() as client:
                for session in sessions:
                    try:
                        client.remove(routeros.MENUS[session.service][2], session.ros_id)
                    except TrapError:
                        continue
            sessions.unlink()
        return True

    @api.model
    def _cron_poll(self):
        """Read the active sessions of every reachable router: devices' last seen, IP and
        MAC; data use added to the subscriptions; data caps enforced."""
        cron = self.env["ir.cron"]
        now = fields.Datetime.now()
        routers = self.env["isp.router"].search(
            ["|", ("next_retry", "=", False), ("next_retry", "<=", now)]
        )
        remaining = len(routers)
        for router in routers:
            remaining -= 1
            if not router.try_lock_for_update(allow_referencing=True):
                continue
            try:
                with self.env.cr.savepoint(), router._api_client() as client:
                    count = self._poll_router(router, client)
            except (routeros.RouterError, LibRouterosError, OSError) as exc:
                router._record_failure(exc)
            else:
                router._record_success({"active_sessions": count})
            if not cron._commit_progress(1, remaining=remaining):
                break
        return True

    @api.model
    def _poll_router(self, router, client):
        """Poll one router through ``client``. Returns the number of active sessions."""
        Subscription = self.env["isp.subscription"].sudo()
        now = fields.Datetime.now()
        rows = []
        if router.service_hotspot:
            for row in client.print(
                routeros.HOTSPOT_ACTIVE,
                [".id", "user", "address", "mac-address", "uptime", "bytes-in", "bytes-out"],
            ):
                rows.append(
                    (
                        "hotspot",
                        routeros.text(row.get(".id")),
                        routeros.text(row.get("user")),
                        routeros.text(row.get("mac-address")),
                        routeros.text(row.get("address")),
                        routeros.text(row.get("uptime")),
                        routeros.to_int(row.get("bytes-in"))
                        + routeros.to_int(row.get("bytes-out")),
                    )
                )
        if router.service_pppoe:
            active = client.print(
                routeros.PPP_ACTIVE, [".id", "name", "service", "caller-id", "address", "uptime"]
            )
            counters = self._pppoe_counters(client) if active else {}
            connections = Counter(routeros.text(row.get("name")) for row in active)
            for row in active:
                login = routeros.text(row.get("name"))
                total = None
                # one connection per name: its interface's counters are its own (several
                # connections of one name cannot be told apart, their use is not counted)
                if routeros.text(row.get("service")) in ("pppoe", "") and connections[login] == 1:
                    total = counters.get(routeros.pppoe_interface(login))
                rows.append(
                    (
                        "pppoe",
                        routeros.text(row.get(".id")),
                        login,
                        routeros.text(row.get("caller-id")),
                        routeros.text(row.get("address")),
                        routeros.text(row.get("uptime")),
                        total,
                    )
                )
        logins = {row[2] for row in rows}
        subscriptions = {
            (sub.service_type, sub.login): sub
            for sub in Subscription.search(
                [("company_id", "=", router.company_id.id), ("login", "in", list(logins))]
            )
        }
        existing = {(s.service, s.ros_id): s for s in self.search([("router_id", "=", router.id)])}
        usage = defaultdict(float)
        seen = self.browse()
        new_vals = []
        devices = []
        for service, ros_id, login, mac, ip, uptime, total in rows:
            subscription = subscriptions.get((service, login), Subscription)
            session = existing.get((service, ros_id))
            if session and session.login != login:
                session.unlink()
                session = None
            if session:
                if total is not None:
                    previous = session.bytes_total
                    usage[subscription] += total - previous if total >= previous else total
                vals = {"ip": ip, "mac": mac, "uptime": uptime, "last_seen": now}
                if total is not None:
                    vals["bytes_total"] = total
                session.write(vals)
                seen |= session
            else:
                if total:
                    usage[subscription] += total
                new_vals.append(
                    {
                        "router_id": router.id,
                        "service": service,
                        "ros_id": ros_id,
                        "login": login,
                        "subscription_id": subscription.id,
                        "mac": mac,
                        "ip": ip,
                        "uptime": uptime,
                        "bytes_total": total or 0,
                    }
                )
            if subscription and mac:
                devices.append((subscription.partner_id, mac, ip))
        seen |= self.create(new_vals)
        (self.browse([s.id for s in existing.values()]).exists() - seen).unlink()
        self._update_devices(devices, now)
        capped, slowed = self._add_usage(usage)
        if capped:
            self._enforce_caps(router, client, capped)
        if slowed:
            self._slow_down(router, client, slowed)
        return len(rows)

    @api.model
    def _pppoe_counters(self, client):
        """Bytes (rx + tx) of every PPPoE connection's dynamic interface, by interface name,
        read in one print."""
        return {
            routeros.text(row.get("name")): routeros.to_int(row.get("rx-byte"))
            + routeros.to_int(row.get("tx-byte"))
            for row in client.print(
                routeros.INTERFACE,
                ["name", "type", "rx-byte", "tx-byte"],
                where=[f"?=type={routeros.PPPOE_INTERFACE_TYPE}"],
            )
        }

    @api.model
    def _update_devices(self, devices, now):
        """Known devices: last seen and IP; a new device is registered (within its limit)."""
        Device = self.env["isp.device"].sudo()
        partners = self.env["res.partner"].union(*[partner for partner, _mac, _ip in devices])
        known = {
            (device.partner_id.id, device.mac): device
            for device in Device.search([("partner_id", "in", partners.ids)])
        }
        for partner, mac, ip in devices:
            normalized = normalize_mac(mac)
            if not normalized:
                continue
            device = known.get((partner.id, normalized))
            if device:
                if device.ip != ip or not device.last_seen or device.last_seen < now:
                    device.write({"last_seen": now, "ip": ip or device.ip})
            else:
                known[(partner.id, normalized)] = Device._isp_register(partner, normalized, ip=ip)[
                    "device"
                ]

    @api.model
    def _add_usage(self, usage):
        """Add bytes used to each subscription (isp_billing's ``_add_data_used``). Returns
        (the active ones now over their cap, the fair-use ones that crossed it in this
        poll: slowed down instead)."""
        return self.env["isp.subscription"]._add_data_used(usage)

    @api.model
    def _slow_down(self, router, client, subscriptions):
        """Fair use: the data cap of these subscriptions is reached, their bundles slow them
        down instead of cutting them off. This router moves their users to the fair-use
        profile now (sessions dropped so the slower rate applies); the other routers are
        queued."""
        body = self.env._("Data cap reached: slowed down to the bundle's fair-use speed.")
        subscriptions._message_log_batch(bodies=dict.fromkeys(subscriptions.ids, body))
        routers = self.env["isp.router"].search(
            [("company_id", "=", router.company_id.id), ("id", "!=", router.id)]
        )
        if routers:
            self.env["isp.router.job"].sudo()._enqueue(
                subscriptions, reason="fair_use", routers=routers
            )
        result = self.env["isp.router.reconciler"]._sync(router, client, subscriptions)
        if result.errors:
            # refused here: this router retries through its queue
            self.env["isp.router.job"].sudo()._enqueue(
                subscriptions, reason="retry", routers=router
            )

    @api.model
    def _enforce_caps(self, router, client, subscriptions):
        """Data cap reached: suspend or end each subscription (bundle rule), drop its sessions
        on this router now (the state change queues the other routers)."""
        Log = self.env["isp.access.log"]
        for subscription in subscriptions:
            if subscription.bundle_id.isp_data_cap_action == "expire":
                subscription.write({"state": "expired"})
            else:
                subscription.action_suspend()
            subscription.message_post(
                body=self.env._(
                    "Data cap of %(cap)s MB reached: subscription %(state)s.",
                    cap=subscription.data_cap_mb,
                    state=dict(subscription._fields["state"].selection)[subscription.state],
                )
            )
            Log._log(
                False,
                "data_cap",
                subscription.partner_id,
                message=self.env._("Data cap reached"),
            )
        for service in ("hotspot", "pppoe"):
            names = {s.login for s in subscriptions if s.service_type == service}
            if names:
                _menu, _profile, active_menu, user_prop = routeros.MENUS[service]
                self.env["isp.router.reconciler"]._drop_sessions(
                    client, active_menu, user_prop, names
                )
        sessions = self.search(
            [("router_id", "=", router.id), ("subscription_id", "in", subscriptions.ids)]
        )
        sessions.unlink()
