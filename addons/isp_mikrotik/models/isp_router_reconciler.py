import calendar

from librouteros.exceptions import TrapError

from odoo import api, models

from .. import routeros
from ..routeros import MENUS, PROFILE_PROPS, UNPAID_PROFILE, USER_PROPS

# Above this many names a targeted sync reads the whole menu instead of a long ?# query.
MAX_QUERY_NAMES = 100
EMPTY_MEANS_NONE = {"limit-uptime", "limit-bytes-total", "session-timeout", "rate-limit"}


class SyncResult:
    """What one reconciliation did: ``writes`` sent, ``errors`` per subscription id (or per
    'profile:<name>' for profiles)."""

    def __init__(self):
        self.writes = 0
        self.errors = {}


class IspRouterReconciler(models.AbstractModel):
    """Desired state (isp_billing) against actual state (the router, read with .proplist):
    only the differences are written, only objects carrying the suite's mark (users and
    secrets: the comment tag; profiles: the reserved name prefix) are changed or removed."""

    _name = "isp.router.reconciler"
    _description = "ISP Router Reconciler"

    @api.model
    def _sync(self, router, client, subscriptions=None):
        """Bring ``router`` in line, through the logged-in ``client``: every managed object
        (``subscriptions`` None) or only those of ``subscriptions`` (and their profiles)."""
        result = SyncResult()
        writes_before = client.writes
        for service in router._enabled_services():
            scope = None
            if subscriptions is not None:
                scope = subscriptions.filtered(
                    lambda s, srv=service: s.service_type == srv
                    and s.company_id == router.company_id
                )
                if not scope:
                    continue
            profiles = self._sync_profiles(router, client, service, scope, result)
            used = self._sync_users(router, client, service, scope, result)
            if scope is None:
                self._remove_orphan_profiles(client, service, profiles, used, result)
        result.writes = client.writes - writes_before
        return result

    # ------------------------------------------------------------------ desired state

    @api.model
    def _profile_spec(self, router, service, template):
        limit = template.isp_device_limit or router.company_id.isp_default_device_limit or 1
        timeout = 0
        if template.isp_duration_unit in ("hours", "days"):
            timeout = int(round(template.isp_duration_hours * 3600))
        spec = {
            "name": template._isp_mikrotik_profile_name(),
            "rate-limit": template._isp_mikrotik_rate_limit(),
            "session-timeout": timeout,
        }
        if service == "hotspot":
            spec["shared-users"] = limit
        else:
            spec["only-one"] = "yes" if limit == 1 else "no"
        return spec

    @api.model
    def _fair_use_profile_spec(self, router, service, template):
        """The bundle's fair-use profile (its users after the data cap): the bundle's
        profile with the slower rate-limit, or None when the bundle has no fair use."""
        rate = template._isp_mikrotik_fair_use_rate_limit()
        if not rate:
            return None
        spec = self._profile_spec(router, service, template)
        spec["name"] = routeros.fair_use_profile_name(template.id)
        spec["rate-limit"] = rate
        return spec

    @api.model
    def _user_profile(self, subscription):
        """The profile a subscription's user belongs in: its bundle's, or after the data cap
        of a fair-use bundle, the bundle's fair-use profile."""
        template = subscription.bundle_id.product_tmpl_id
        if subscription.fair_use_active:
            return routeros.fair_use_profile_name(template.id)
        return template._isp_mikrotik_profile_name()

    @api.model
    def _user_spec(self, router, service, subscription):
        profile = self._user_profile(subscription)
        if service == "pppoe":
            return {
                "name": subscription.login,
                "password": subscription.password or "",
                "service": "pppoe",
                "profile": profile,
                "disabled": False,
                "comment": routeros.user_tag(subscription.id),
            }
        start, end = subscription.date_start, subscription.date_expiry
        # The router counts uptime and bytes from the user's creation: the limits are the
        # whole period's allowance, and a new period recreates the user (counters at zero).
        # A fair-use bundle's user is not cut at the cap (no byte limit): the poll sees the
        # cap reached and the user moves to the slower fair-use profile.
        fair_use = subscription.bundle_id.product_tmpl_id._isp_fair_use_rates()
        cap_bytes = 0 if fair_use else (subscription.data_cap_mb or 0) * routeros.MIB
        return {
            "name": subscription.login,
            "password": subscription.password or "",
            "profile": profile,
            "server": router.hotspot_server or "all",
            "limit-uptime": int((end - start).total_seconds()) if start and end else 0,
            "limit-bytes-total": cap_bytes,
            "disabled": False,
            "comment": routeros.user_tag(subscription.id, self._period(subscription)),
        }

    @staticmethod
    def _period(subscription):
        if not subscription.date_start:
            return None
        return calendar.timegm(subscription.date_start.timetuple())

    @staticmethod
    def _add_values(spec):
        return {
            prop: routeros.api_value(prop, value)
            for prop, value in spec.items()
            if not (prop in EMPTY_MEANS_NONE and not value) and value != ""
        }

    # ------------------------------------------------------------------ profiles

    @api.model
    def _sync_profiles(self, router, client, service, scope, result):
        _users_menu, menu, _active_menu, _user_prop = MENUS[service]
        Template = self.env["product.template"].sudo()
        if scope is None:
            templates = Template.search(
                [
                    ("is_isp_bundle", "=", True),
                    ("isp_service_type", "=", service),
                    ("company_id", "in", [router.company_id.id, False]),
                ]
            )
            active = (
                self.env["isp.subscription"]
                .sudo()
                .search(
                    [
                        ("company_id", "=", router.company_id.id),
                        ("service_type", "=", service),
                        ("state", "=", "active"),
                    ]
                )
            )
            templates |= active.bundle_id.product_tmpl_id
        else:
            templates = scope.filtered(lambda s: s.state == "active").bundle_id.product_tmpl_id
        specs = {}
        for template in templates:
            spec = self._profile_spec(router, service, template)
            specs[spec["name"]] = spec
            fair_use = self._fair_use_profile_spec(router, service, template)
            if fair_use:
                specs[fair_use["name"]] = fair_use
        props = (".id", *PROFILE_PROPS[service])
        if scope is None:
            actual = client.print(menu, props)
        elif specs:
            actual = client.print(menu, props, where=routeros.names_query("name", specs))
        else:
            actual = []
        # only the profiles named with the suite's reserved prefix are ours
        by_name = {}
        for row in actual:
            name = routeros.text(row.get("name"))
            if routeros.parse_profile_name(name) is not None:
                by_name[name] = row
        for name, spec in specs.items():
            row = by_name.get(name)
            try:
                if row is None:
                    client.add(menu, **self._add_values(spec))
                else:
                    changes = routeros.diff(spec, row, PROFILE_PROPS[service])
                    if changes:
                        client.set(menu, row[".id"], **changes)
            except TrapError as exc:
                result.errors[f"profile:{name}"] = self.env._(
                    "Profile %(name)s: the router refused it: %(reason)s",
                    name=name,
                    reason=str(exc),
                )
        return {"specs": specs, "actual": by_name}

    @api.model
    def _remove_orphan_profiles(self, client, service, profiles, used, result):
        menu = MENUS[service][1]
        for name, row in profiles["actual"].items():
            if name in profiles["specs"] or name in used:
                continue
            try:
                client.remove(menu, row[".id"])
            except TrapError as exc:
                result.errors[f"profile:{name}"] = self.env._(
                    "Profile %(name)s could not be removed: %(reason)s", name=name, reason=str(exc)
                )

    # ------------------------------------------------------------------ users / secrets

    @api.model
    def _sync_users(self, router, client, service, scope, result):
        """Hotspot users or PPPoE secrets. Returns the profile names still in use."""
        menu, _profile_menu, active_menu, user_prop = MENUS[service]
        Subscription = self.env["isp.subscription"].sudo()
        company = router.company_id
        props = (".id", *USER_PROPS[service])
        if scope is None:
            active = Subscription.search(
                [
                    ("company_id", "=", company.id),
                    ("service_type", "=", service),
                    ("state", "=", "active"),
                ]
            )
            actual = client.print(menu, props)
        else:
            active = scope.filtered(lambda s: s.state == "active")
            names = {s.login for s in scope if s.login}
            if not names:
                return set()
            if len(names) > MAX_QUERY_NAMES:
                actual = client.print(menu, props)
            else:
                actual = client.print(menu, props, where=routeros.names_query("name", names))
            actual = [row for row in actual if routeros.text(row.get("name")) in names]

        desired = {}
        for subscription in active:
            if subscription.login:
                desired[subscription.login] = (
                    subscription,
                    self._user_spec(router, service, subscription),
                )
        user_tags = self._user_tags(router, service, actual)
        managed, foreign = {}, set()
        for row in actual:
            name = routeros.text(row.get("name"))
            if name in user_tags:
                managed[name] = row
            else:
                foreign.add(name)

        # a user moved to another profile (fair use, paid again, another bundle) is logged
        # out: the router applies a profile's rate limit when a session starts
        switched = set()
        for name, (subscription, spec) in desired.items():
            try:
                if self._apply_user(
                    client, service, menu, spec, managed.get(name), name in foreign
                ):
                    switched.add(name)
            except TrapError as exc:
                result.errors[subscription.id] = self.env._(
                    "%(login)s: the router refused it: %(reason)s",
                    login=name,
                    reason=str(exc),
                )
            except ValueError as exc:
                result.errors[subscription.id] = str(exc)

        stale = {name: row for name, row in managed.items() if name not in desired}
        tags = {name: user_tags[name] for name in stale}
        states = {
            sub.id: sub.state
            for sub in Subscription.browse({tag[0] for tag in tags.values()}).exists()
            if sub.company_id == company
        }
        policy = company.isp_mikrotik_inactive_action or "disable"
        offline, unpaid = self._sync_stale(
            router, client, service, stale, tags, states, policy, result
        )
        if offline | switched:
            self._drop_sessions(client, active_menu, user_prop, offline | switched)
        used = {spec["profile"] for _sub, spec in desired.values()}
        used |= {
            routeros.text(row.get("profile"))
            for name, row in managed.items()
            if name not in desired
            and name not in unpaid
            and states.get(tags[name][0]) in ("expired", "suspended")
            and policy == "disable"
        }
        return used

    @api.model
    def _sync_stale(self, router, client, service, stale, tags, states, policy, result):
        """Managed users or secrets no active subscription wants: expired or suspended ones
        disabled (policy) or moved to the pay page (PPPoE, router option), the others
        removed. Returns (the names to log out, the names moved to the pay page)."""
        menu = MENUS[service][0]
        unpaid = self._unpaid_redirect_names(router, client, service, stale, tags, states, result)
        offline = set()
        for name, row in stale.items():
            subscription_id = tags[name][0]
            state = states.get(subscription_id)
            try:
                if name in unpaid:
                    # the pay page: kept enabled in the restricted profile, reconnected into it
                    changes = routeros.diff(
                        {"profile": UNPAID_PROFILE, "disabled": False}, row, ("profile", "disabled")
                    )
                    if changes:
                        client.set(menu, row[".id"], **changes)
                    if "profile" in changes:
                        offline.add(name)
                    continue
                if state in ("expired", "suspended") and policy == "disable":
                    if not routeros.same("disabled", True, row.get("disabled")):
                        client.set(menu, row[".id"], disabled=True)
                else:
                    client.remove(menu, row[".id"])
                offline.add(name)
            except TrapError as exc:
                result.errors[subscription_id] = self.env._(
                    "%(login)s: the router refused the change: %(reason)s",
                    login=name,
                    reason=str(exc),
                )
        return offline, unpaid

    @api.model
    def _unpaid_redirect_names(self, router, client, service, stale, tags, states, result):
        """The PPPoE secrets of ``stale`` to move to the pay page's restricted profile: those
        of expired or suspended subscriptions, when the router has the pay page on and the
        profile exists there (made by the set-up script, with its address list). Without the
        profile they are handled as before (disabled or removed) and the sync says why: a
        profile made here would lack the address list, and give unpaid customers the
        internet."""
        if service != "pppoe" or not router.unpaid_redirect:
            return set()
        names = {name for name in stale if states.get(tags[name][0]) in ("expired", "suspended")}
        if not names:
            return set()
        found = client.print(
            routeros.PPP_PROFILE, [".id", "name"], where=[f"?=name={UNPAID_PROFILE}"]
        )
        if not any(routeros.text(row.get("name")) == UNPAID_PROFILE for row in found):
            result.errors[f"profile:{UNPAID_PROFILE}"] = self.env._(
                "The PPP profile %(profile)s of the pay page is missing on the router: run the "
                "router's set-up script again. Unpaid PPPoE customers are disabled meanwhile.",
                profile=UNPAID_PROFILE,
            )
            return set()
        return names

    @api.model
    def _user_tags(self, router, service, rows):
        """{name: (subscription id, period)} of the users or secrets of ``rows`` the suite
        manages: those with its comment tag (and, isp_router_reconciler_import, those it
        imported from ``router``). The others are foreign: never changed or removed."""
        tags = {}
        for row in rows:
            tag = routeros.parse_user_tag(row.get("comment"))
            if tag:
                tags[routeros.text(row.get("name"))] = tag
        return tags

    def _apply_user(self, client, service, menu, spec, row, foreign):
        """Add or update one user or secret to ``spec``. Returns whether an existing one moved
        to another profile (its session must start again for the new rate)."""
        if foreign:
            raise ValueError(
                self.env._(
                    "%(login)s: a user of that name exists on the router but was not made by "
                    "the suite; it is left alone.",
                    login=spec["name"],
                )
            )
        if row is None:
            client.add(menu, **self._add_values(spec))
            return False
        tag = routeros.parse_user_tag(row.get("comment"))
        period = routeros.parse_user_tag(spec["comment"])[1]
        if service == "hotspot" and tag[1] and period and tag[1] != period:
            # a new period: start the router's counters again
            client.remove(menu, row[".id"])
            client.add(menu, **self._add_values(spec))
            return not routeros.same("profile", spec["profile"], row.get("profile"))
        changes = routeros.diff(spec, row, USER_PROPS[service])
        if changes:
            client.set(menu, row[".id"], **changes)
        return "profile" in changes

    @api.model
    def _drop_sessions(self, client, active_menu, user_prop, names):
        """Log out every active session of ``names``."""
        where = routeros.names_query(user_prop, names) if len(names) <= MAX_QUERY_NAMES else None
        sessions = client.print(active_menu, [".id", user_prop], where=where)
        ids = [row[".id"] for row in sessions if routeros.text(row.get(user_prop)) in names]
        for session_id in ids:
            try:
                client.remove(active_menu, session_id)
            except TrapError:
                continue  # the session ended by itself meanwhile
        return len(ids)
