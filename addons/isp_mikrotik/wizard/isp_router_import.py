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

This file holds the wizard, its buttons and the reading of the router; the preview is built in
isp_router_import_preview.py, the records are created in isp_router_import_create.py.
"""

from librouteros.exceptions import LibRouterosError

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.base.models.res_partner import _tz_get

from .. import routeros

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
