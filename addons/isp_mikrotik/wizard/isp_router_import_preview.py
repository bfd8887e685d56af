"""Import from Router, step 1: the preview built from what the router holds (a line per
profile and per user, with the bundle, customer, state and expiry each is proposed to get)."""

import math
from collections import Counter
from datetime import timedelta

import pytz

from odoo import fields, models
from odoo.exceptions import ValidationError

from .. import router_import, routeros

# RouterOS' own profiles (hotspot: default; PPP: default, default-encryption): not bundles
DEFAULT_PROFILES = {"default", "default-encryption"}
# the router's own accounts, not customers (the hotspot set-up makes "admin")
ADMIN_NAMES = {"admin", "administrator"}


class IspRouterImportPreview(models.TransientModel):
    _inherit = "isp.router.import"  # pylint: disable=consider-merging-classes-inherited

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
