"""Import from Router, step 2: the checks of the edited preview, then the bundles, customers
and subscriptions created from it (the router's passwords read again, nothing kept)."""

from datetime import timedelta

from odoo import fields, models
from odoo.exceptions import UserError


class IspRouterImportCreate(models.TransientModel):
    _inherit = "isp.router.import"  # pylint: disable=consider-merging-classes-inherited

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
