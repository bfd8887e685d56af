"""Import from Router: what a router already has (hotspot user profiles and users, PPP profiles
and PPPoE secrets) as bundles, customers and subscriptions, so that an operator switching from
Mikhmon or by-hand management does not type them again.

Step 1 reads the router (nothing written there) and shows a preview the operator edits; step 2
reads the users again with their passwords and creates everything in one transaction. An
import is not a sale: no purchase, invoice or payment is made, and no SMS is sent; the
subscriptions get their state and expiry from the router (Mikhmon's expiry comment, the time
left on the user) or from the bundle's validity, as the preview says. The router's users are
left as they are: the reconciler keeps them (isp_router_reconciler_import) until a purchase
hands them over to the suite.
"""

import math
from collections import Counter
from datetime import timedelta

import pytz
from librouteros.exceptions import LibRouterosError

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.addons.base.models.res_partner import _tz_get

from .. import router_import, routeros

# RouterOS' own profiles (hotspot: default; PPP: default, default-encryption): not bundles
DEFAULT_PROFILES = {"default", "default-encryption"}
# the router's own accounts, not customers (the hotspot set-up makes "admin")
ADMIN_NAMES = {"admin", "administrator"}

PROFILE_PROPS = {
    "hotspot": ("name", "rate-limit", "shared-users", "session-timeout", "on-login", "default"),
    "pppoe": ("name", "rate-limit", "only-one", "session-timeout", "default"),
}
USER_PROPS = {
    "hotspot": (
        "name",
        "profile",
        "server",
        "limit-uptime",
        "uptime",
        "limit-bytes-total",
        "bytes-in",
        "bytes-out",
        "comment",
        "disabled",
        "dynamic",
    ),
    "pppoe": ("name", "service", "profile", "comment", "disabled"),
}


class IspRouterImport(models.TransientModel):
    _name = "isp.router.import"
    _description = "Import from Router"

    router_id = fields.Many2one("isp.router", required=True, readonly=True, ondelete="cascade")
    company_id = fields.Many2one(related="router_id.company_id")
    state = fields.Selection(
        [("read", "Read the Router"), ("preview", "Preview"), ("done", "Imported")],
        default="read",
        required=True,
        readonly=True,
    )
    router_tz = fields.Selection(
        _tz_get,
        string="Router Time Zone",
        default=lambda self: self.env.user.tz or self.env.company.partner_id.tz or "UTC",
        required=True,
        help="The router's clock: Mikhmon writes expiry dates in it.",
    )
    bundle_line_ids = fields.One2many("isp.router.import.bundle", "wizard_id", string="Profiles")
    line_ids = fields.One2many("isp.router.import.line", "wizard_id", string="Users")
    bundle_new_count = fields.Integer(compute="_compute_counts")
    bundle_existing_count = fields.Integer(compute="_compute_counts")
    customer_new_count = fields.Integer(compute="_compute_counts")
    subscription_count = fields.Integer(compute="_compute_counts")
    skipped_count = fields.Integer(compute="_compute_counts")
    result_message = fields.Text(readonly=True)

    @api.depends(
        "bundle_line_ids.include",
        "bundle_line_ids.bundle_id",
        "line_ids.include",
        "line_ids.blocked",
        "line_ids.partner_id",
    )
    def _compute_counts(self):
        for wizard in self:
            lines = wizard.line_ids.filtered(lambda line: line.include and not line.blocked)
            wizard.bundle_new_count = len(wizard.bundle_line_ids._creates())
            wizard.bundle_existing_count = len(wizard.bundle_line_ids.bundle_id)
            wizard.customer_new_count = len(
                {wizard._customer_key(line) for line in lines if not line.partner_id}
            )
            wizard.subscription_count = len(lines)
            wizard.skipped_count = len(wizard.line_ids) - len(lines)

    @api.model
    def _customer_key(self, line):
        """Lines of one new customer: the same phone, or the same login without one."""
        return ("phone", line.phone) if line.phone else ("login", line.login)

    # ------------------------------------------------------------------ buttons

    def action_read(self):
        """Step 1: read the router and propose what to import (nothing is created)."""
        self.ensure_one()
        self._check_rights()
        data = self._read_router()
        self.bundle_line_ids.unlink()
        self.line_ids.unlink()
        self._build_preview(data)
        self.state = "preview"
        return self._reopen()

    def action_import(self):
        """Step 2: create the bundles, customers and subscriptions of the preview."""
        self.ensure_one()
        self._check_rights()
        if self.state != "preview":
            raise UserError(self.env._("Read the router first."))
        lines = self.line_ids.filtered(lambda line: line.include and not line.blocked)
        self._check_lines(lines)
        # the passwords, read now (never kept in the preview): a router that does not
        # answer stops the import here, before anything is created
        data = self._read_router(passwords=True)
        rows = {
            (service, routeros.text(row.get("name"))): row
            for service, (_profiles, users) in data.items()
            for row in users
        }
        wizard = self.with_company(self.company_id)
        bundles = wizard._import_bundles()
        counts = wizard._import_subscriptions(lines, rows, bundles)
        self.write(
            {
                "state": "done",
                "result_message": self.env._(
                    "%(bundles)s bundle(s), %(customers)s customer(s) and %(subscriptions)s "
                    "subscription(s) created; %(skipped)s user(s) not imported. Nothing was "
                    "changed on the router.",
                    bundles=len(bundles["created"]),
                    customers=counts["customers"],
                    subscriptions=counts["subscriptions"],
                    skipped=len(self.line_ids) - counts["subscriptions"],
                ),
            }
        )
        return self._reopen()

    def action_view_subscriptions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "isp_billing.isp_subscription_action"
        )
        action["domain"] = [("isp_import_router_id", "=", self.router_id.id)]
        action["context"] = {}
        return action

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Import from Router"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "context": {"dialog_size": "extra-large"},
        }

    def _check_rights(self):
        if not self.env.user.has_group("isp_billing.group_isp_manager"):
            raise AccessError(self.env._("Only ISP managers can import from a router."))
        self.router_id.check_access("write")

    # ------------------------------------------------------------------ reading

    def _read_router(self, passwords=False):
        """{service: (profile rows, user rows)} of the router's enabled services, every
        value as text. Raises a UserError saying why when the router cannot be read."""
        router = self.router_id
        services = router._enabled_services()
        if not services:
            raise UserError(
                self.env._("Tick Hotspot or PPPoE on router %(name)s first.", name=router.name)
            )
        data = {}
        try:
            with router._api_client() as client:
                for service in services:
                    users_menu, profiles_menu, _active, _prop = routeros.MENUS[service]
                    user_props = USER_PROPS[service] + (("password",) if passwords else ())
                    data[service] = (
                        [
                            self._as_text(row)
                            for row in client.print(profiles_menu, PROFILE_PROPS[service])
                        ],
                        [self._as_text(row) for row in client.print(users_menu, user_props)],
                    )
        except (routeros.RouterError, LibRouterosError, OSError) as exc:
            error = router._router_error(exc)
            raise UserError(
                self.env._(
                    "Router %(name)s could not be read; nothing was imported. %(reason)s",
                    name=router.name,
                    reason=router._failure_text(error),
                )
            ) from None
        return data

    @staticmethod
    def _as_text(row):
        # a password librouteros read as yes/no (True/False) cannot be told from true/false
        return {
            key: (None if key == "password" and isinstance(value, bool) else routeros.text(value))
            for key, value in row.items()
        }

    # ------------------------------------------------------------------ preview

    def _build_preview(self, data):
        Bundle = self.env["isp.router.import.bundle"]
        bundle_vals = [
            self._bundle_line_vals(service, row)
            for service, (profiles, _users) in data.items()
            for row in profiles
        ]
        bundle_lines = Bundle.create(bundle_vals)
        by_profile = {(line.service_type, line.profile_name): line for line in bundle_lines}
        logins = {
            routeros.text(row.get("name")) for _profiles, users in data.values() for row in users
        }
        existing = self._existing_subscriptions(logins)
        lookups = {
            "existing": existing,
            "phones": self._phones(logins),
            # a login on several hotspot servers: which of them the customer is cannot be told
            "duplicates": {
                (service, name)
                for service, (_profiles, users) in data.items()
                for name, count in Counter(routeros.text(row.get("name")) for row in users).items()
                if count > 1
            },
            # a login's customer: the customer of a subscription of that login
            "by_login": {login: sub.partner_id for (_service, login), sub in existing.items()},
        }
        lookups["by_phone"] = self._customers_by_phone(lookups["phones"].values())
        line_vals = []
        for service, (_profiles, users) in data.items():
            for row in users:
                line_vals.append(self._user_line_vals(service, row, by_profile, lookups))
        self.env["isp.router.import.line"].create(line_vals)

    def _phones(self, logins):
        """{login: E.164 number, or None when it looks like a phone number but is not a
        valid mobile one} of the logins that look like phone numbers."""
        Partner = self.env["res.partner"]
        country = self.company_id.country_id
        phones = {}
        for login in logins:
            if router_import.looks_like_phone(login):
                try:
                    phones[login] = Partner._isp_normalize_phone(login, country)
                except ValidationError:
                    phones[login] = None
        return phones

    def _customers_by_phone(self, phones):
        """{phone: customer} of the company's customers with these phone numbers."""
        partners = self.env["res.partner"].search(
            [
                ("is_isp_customer", "=", True),
                ("company_id", "=", self.company_id.id),
                ("phone", "in", [phone for phone in phones if phone]),
            ]
        )
        return {partner.phone: partner for partner in partners}

    def _existing_subscriptions(self, logins):
        """{(service, login): subscription} of the company, for these logins."""
        subscriptions = (
            self.env["isp.subscription"]
            .sudo()
            .search([("company_id", "=", self.company_id.id), ("login", "in", list(logins))])
        )
        return {(sub.service_type, sub.login): sub for sub in subscriptions}

    def _match_bundle(self, service, profile):
        """An existing bundle for a router profile: the suite's own profile's bundle, one
        imported from a profile of that name, or one of that name. (bundle, why)."""
        Template = self.env["product.template"].with_context(active_test=False)
        base = [
            ("is_isp_bundle", "=", True),
            ("isp_service_type", "=", service),
            ("company_id", "in", [self.company_id.id, False]),
        ]
        bundle_id = routeros.parse_profile_name(profile)
        if bundle_id:
            bundle = Template.search(base + [("id", "=", bundle_id)])
            return bundle, self.env._("the suite's own profile")
        bundle = Template.search(base + [("isp_mikrotik_source_profile", "=", profile)], limit=1)
        if bundle:
            return bundle, self.env._("imported before")
        bundle = Template.search(base + [("name", "=ilike", profile)], limit=1)
        if bundle:
            return bundle, self.env._("a bundle of the same name")
        return Template, None

    def _bundle_line_vals(self, service, row):
        name = row.get("name") or ""
        notes = []
        vals = {
            "wizard_id": self.id,
            "service_type": service,
            "profile_name": name,
            "name": name,
            "rate_limit": row.get("rate-limit") or "",
            "duration_value": 0,
        }
        rates = router_import.parse_rate_limit(row.get("rate-limit"))
        if rates is None:
            notes.append(
                self.env._("rate limit %(rate)s not understood", rate=row.get("rate-limit"))
            )
        else:
            vals["upload_kbps"], vals["download_kbps"] = rates
        if service == "hotspot":
            shared = row.get("shared-users") or ""
            vals["device_limit"] = int(shared) if shared.isdigit() else 0
        else:
            vals["device_limit"] = 1 if row.get("only-one") in ("yes", "true") else 0
        mikhmon = router_import.parse_mikhmon(row.get("on-login")) if service == "hotspot" else None
        if mikhmon:
            vals["mikhmon"] = True
            if mikhmon["validity"]:
                vals["duration_value"], vals["duration_unit"] = mikhmon["validity"]
            elif mikhmon["no_expiry"]:
                notes.append(self.env._("Mikhmon: no expiry; choose a validity"))
            else:
                notes.append(
                    self.env._(
                        "Mikhmon validity %(validity)s not understood",
                        validity=mikhmon["validity_text"],
                    )
                )
            price = mikhmon["selling_price"] or mikhmon["price"]
            if price:
                vals["price"] = price
            if mikhmon["mode"]:
                notes.append(
                    self.env._(
                        "Mikhmon: %(mode)s", mode=router_import.MIKHMON_MODES[mikhmon["mode"]]
                    )
                )
            if mikhmon["lock_mac"]:
                notes.append(self.env._("Mikhmon locks each user to its first device"))
        elif service == "hotspot" and (row.get("on-login") or "").strip():
            notes.append(self.env._("on-login script is not Mikhmon's: fill in validity and price"))
        else:
            notes.append(self.env._("fill in validity and price"))
        bundle, why = self._match_bundle(service, name)
        if name in DEFAULT_PROFILES or row.get("default") == "true":
            vals.update(
                include=False, skip_reason=self.env._("RouterOS' default profile, not a bundle")
            )
        elif bundle:
            vals.update(
                include=False,
                bundle_id=bundle.id,
                skip_reason=self.env._("existing bundle: %(why)s", why=why),
            )
        elif routeros.parse_profile_name(name):
            vals.update(
                include=False, skip_reason=self.env._("the suite's profile of a deleted bundle")
            )
        vals["note"] = "; ".join(notes)
        return vals

    def _user_line_vals(self, service, row, by_profile, lookups):
        login = row.get("name") or ""
        comment = row.get("comment") or ""
        profile = row.get("profile") or ""
        bundle_line = by_profile.get((service, profile))
        vals = {
            "wizard_id": self.id,
            "service_type": service,
            "login": login,
            "profile_name": profile,
            "router_comment": comment,
            "bundle_line_id": bundle_line.id if bundle_line else False,
        }
        vals.update(self._expiry_vals(service, row))
        vals.update(self._customer_vals(service, row, lookups))
        blocked = soft = None
        subscription = lookups["existing"].get((service, login))
        if (service, login) in lookups["duplicates"]:
            blocked = self.env._(
                "duplicate: the router has several users of this name (on different hotspot "
                "servers); the suite cannot tell them apart"
            )
        elif routeros.parse_user_tag(comment):
            blocked = self.env._("already the suite's user")
        elif subscription and subscription.isp_import_router_id == self.router_id:
            blocked = self.env._("already imported (%(name)s)", name=subscription.name)
        elif subscription:
            blocked = self.env._("login used by subscription %(name)s", name=subscription.name)
        elif login.lower() in ADMIN_NAMES or row.get("dynamic") == "true":
            soft = self.env._("the router's own or trial account")
        elif router_import.is_mikhmon_voucher(comment):
            soft = self.env._("Mikhmon voucher not used yet: stays on the router")
        elif not bundle_line:
            soft = self.env._(
                "profile %(profile)s not found on the router: choose a bundle", profile=profile
            )
        elif not (bundle_line.include or bundle_line.bundle_id):
            soft = self.env._("no bundle for profile %(profile)s: choose one", profile=profile)
        elif vals.pop("phone_error", None):
            soft = self.env._("its name looks like a phone number but is not a valid mobile number")
        vals.pop("phone_error", None)
        if blocked:
            vals.update(include=False, blocked=True, skip_reason=blocked)
        elif soft:
            vals.update(include=False, skip_reason=soft)
        return vals

    def _customer_vals(self, service, row, lookups):
        """The customer of a user: an existing one (same phone, or the login of one of its
        subscriptions), else a new one named by the phone or the login (PPPoE: the secret's
        comment, where operators often write the customer's name)."""
        login = row.get("name") or ""
        comment = (row.get("comment") or "").strip()
        vals = {"partner_name": login}
        if service == "pppoe" and comment and not routeros.parse_user_tag(comment):
            vals["partner_name"] = comment[:128]
        if login in lookups["phones"]:
            phone = lookups["phones"][login]
            vals["phone"] = phone or False
            vals["phone_error"] = not phone
        partner = lookups["by_phone"].get(vals.get("phone")) or lookups["by_login"].get(login)
        if partner:
            vals["partner_id"] = partner.id
            vals["partner_name"] = partner.name
        return vals

    def _expiry_vals(self, service, row):
        """Proposed state and expiry: disabled users are expired; hotspot users expire on
        Mikhmon's date in their comment, else when their time left on the router
        (limit-uptime − uptime) runs out; otherwise a full period of the bundle from the
        import (empty here)."""
        now = fields.Datetime.now()
        vals = {"state": "active", "date_expiry": False}
        if service == "hotspot":
            cap = routeros.to_int(row.get("limit-bytes-total"))
            if cap:
                vals["data_cap_mb"] = math.ceil(cap / routeros.MIB)
                used = routeros.to_int(row.get("bytes-in")) + routeros.to_int(row.get("bytes-out"))
                vals["data_used_mb"] = round(used / routeros.MIB, 2)
        if row.get("disabled") == "true":
            return dict(vals, state="expired", expiry_note=self.env._("disabled on the router"))
        if service == "hotspot":
            local = router_import.parse_mikhmon_expiry(row.get("comment"))
            if local:
                tz = pytz.timezone(self.router_tz or "UTC")
                expiry = tz.localize(local).astimezone(pytz.utc).replace(tzinfo=None)
                if expiry > now:
                    return dict(
                        vals, date_expiry=expiry, expiry_note=self.env._("Mikhmon's expiry date")
                    )
                note = self.env._(
                    "Mikhmon's expiry date, passed: %(then)s", then=self._expired_note()
                )
                return dict(vals, state="expired", date_expiry=expiry, expiry_note=note)
            limit = routeros.parse_duration(row.get("limit-uptime"))
            if limit:
                left = limit - routeros.parse_duration(row.get("uptime"))
                if left <= 0:
                    note = self.env._(
                        "its time on the router is used up: %(then)s", then=self._expired_note()
                    )
                    return dict(vals, state="expired", expiry_note=note)
                return dict(
                    vals,
                    date_expiry=now + timedelta(seconds=left),
                    expiry_note=self.env._("time left on the router"),
                )
        return dict(vals, expiry_note=self.env._("a full period of the bundle from the import"))

    def _expired_note(self):
        """What the next sync does to the enabled router user of an expired subscription."""
        if (self.company_id.isp_mikrotik_inactive_action or "disable") == "disable":
            return self.env._("the next sync disables it on the router")
        return self.env._("the next sync removes it from the router")

    # ------------------------------------------------------------------ import

    def _check_lines(self, lines):
        errors = []
        if self.bundle_line_ids._creates() and not self.env["product.template"].has_access(
            "create"
        ):
            errors.append(
                self.env._(
                    "Creating bundles needs the right to create products (Products: Create): "
                    "choose existing bundles for the profiles, or ask an administrator."
                )
            )
        for bundle_line in self.bundle_line_ids._creates():
            if not (bundle_line.name or "").strip():
                errors.append(
                    self.env._(
                        "Profile %(profile)s: give its bundle a name.",
                        profile=bundle_line.profile_name,
                    )
                )
            if bundle_line.duration_value <= 0:
                errors.append(
                    self.env._(
                        "Profile %(profile)s: give its bundle a validity.",
                        profile=bundle_line.profile_name,
                    )
                )
        for line in lines:
            bundle_line = line.bundle_line_id
            if not (bundle_line and (bundle_line.bundle_id or bundle_line.include)):
                errors.append(self.env._("User %(login)s: choose a bundle.", login=line.login))
            elif bundle_line.service_type != line.service_type:
                errors.append(
                    self.env._(
                        "User %(login)s: its bundle is not a %(service)s bundle.",
                        login=line.login,
                        service=line.service_type,
                    )
                )
            if (
                line.state == "active"
                and line.date_expiry
                and line.date_expiry <= fields.Datetime.now()
            ):
                errors.append(
                    self.env._(
                        "User %(login)s: an active subscription needs an expiry in the future.",
                        login=line.login,
                    )
                )
        if errors:
            raise UserError("\n".join(errors))

    def _import_bundles(self):
        """{bundle line: product.product} of every line in use, and "created"."""
        Template = self.env["product.template"].with_context(active_test=False)
        result = {"created": Template}
        for bundle_line in self.bundle_line_ids:
            if bundle_line.bundle_id:
                result[bundle_line] = bundle_line.bundle_id.product_variant_id
                continue
            if not bundle_line.include:
                continue
            # imported meanwhile (another import of the same router): not twice
            bundle, _why = self._match_bundle(bundle_line.service_type, bundle_line.profile_name)
            if not bundle:
                bundle = Template.create(
                    {
                        "name": bundle_line.name.strip(),
                        "is_isp_bundle": True,
                        "type": "service",
                        "isp_service_type": bundle_line.service_type,
                        "list_price": bundle_line.price,
                        "isp_duration_value": bundle_line.duration_value,
                        "isp_duration_unit": bundle_line.duration_unit or "days",
                        "isp_upload_kbps": bundle_line.upload_kbps,
                        "isp_download_kbps": bundle_line.download_kbps,
                        "isp_device_limit": bundle_line.device_limit,
                        "company_id": self.company_id.id,
                        "isp_mikrotik_source_profile": bundle_line.profile_name,
                    }
                )
                result["created"] |= bundle
            result[bundle_line] = bundle.product_variant_id
        return result

    def _import_subscriptions(self, lines, rows, bundles):
        router, company = self.router_id, self.company_id
        Subscription = self.env["isp.subscription"].with_context(
            mail_create_nolog=True, mail_notrack=True, isp_no_state_sms=True
        )
        Partner = self.env["res.partner"].with_context(mail_create_nolog=True)
        existing = self._existing_subscriptions(set(lines.mapped("login")))
        by_phone = self._customers_by_phone(set(lines.mapped("phone")))
        partners = {}
        now = fields.Datetime.now()
        counts = {"customers": 0, "subscriptions": 0}
        notes = {}
        for line in lines:
            key = (line.service_type, line.login)
            row = rows.get(key)
            if key in existing or row is None or row.get("password") is None:
                # imported meanwhile, gone from the router, or a password not readable exactly
                continue
            partner = (
                line.partner_id
                or partners.get(self._customer_key(line))
                or by_phone.get(line.phone or None)
            )
            if not partner:
                partner = Partner.create(
                    {
                        "name": (line.partner_name or line.login).strip(),
                        "phone": line.phone or False,
                        "is_isp_customer": True,
                        "company_id": company.id,
                    }
                )
                counts["customers"] += 1
            partners[self._customer_key(line)] = partner
            bundle = bundles[line.bundle_line_id]
            subscription = Subscription.create(
                {
                    "partner_id": partner.id,
                    "bundle_id": bundle.id,
                    "company_id": company.id,
                    "login": line.login,
                    "password": row["password"],
                    "isp_import_router_id": router.id,
                    "isp_import_profile": line.profile_name,
                    "isp_import_bundle_id": bundle.id,
                }
            )
            if line.state == "active":
                start, expiry = now, line.date_expiry or bundle._isp_add_duration(now)
            else:
                start = expiry = min(line.date_expiry or now, now)
            subscription.write(
                {
                    "state": "active",
                    "date_start": start,
                    "date_expiry": expiry,
                    "data_cap_mb": line.data_cap_mb,
                    "data_used_mb": min(line.data_used_mb, line.data_cap_mb)
                    if line.data_cap_mb
                    else 0.0,
                    "isp_import_start": start,
                    "isp_import_expiry": expiry,
                }
            )
            if line.state == "expired":
                subscription.write({"state": "expired"})
            elif subscription.recurring_invoicing_type:
                # the period running now was paid before the import: billing starts after it
                subscription.write(
                    {"last_date_invoiced": subscription._local_date(expiry) - timedelta(days=1)}
                )
                subscription.recurring_next_date = subscription._next_invoice_date()
            existing[key] = subscription
            notes[subscription.id] = self.env._(
                "Imported from router %(router)s (%(login)s, profile %(profile)s): %(origin)s.",
                router=router.name,
                login=line.login,
                profile=line.profile_name,
                origin=line.expiry_note or "",
            )
            counts["subscriptions"] += 1
        if notes:
            self.env["isp.subscription"].browse(notes)._message_log_batch(bodies=notes)
        return counts
