"""An operator's own ISP settings (ISP › Configuration › ISP Settings, issue #18).

The ISP settings are res.company fields shown on Settings (res.config.settings), which only
system administrators open; an operator's administrator is never one (Settings reads and
writes global parameters and every company). This transient shows and saves a whitelist of
those fields for the CURRENT company only (``self.env.company``, which Odoo checks against
the user's companies; a company id from the client is never used), after checking that the
user administers it. The save goes through ``res.company.write`` (sudo) so the fields' own
constraints and normalisations run. Left out on purpose: what decides where requests or
secrets go (the SMS gateway, the hotspot login addresses), global parameters
(ir.config_parameter) and the platform's own fields (isp_platform_state)."""

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from odoo.addons.isp_billing.models.isp_voucher_batch import CARD_LAYOUTS

# The res.company fields an operator's administrator sets for its own company: only these
# are read and written here (each has a field of the same name on this model).
OPERATOR_COMPANY_FIELDS = (
    # isp_billing: customers, PPPoE billing, reminders of unpaid invoices
    "isp_default_device_limit",
    "isp_paybill_number",
    "isp_recurring_prorate",
    "isp_recurring_due_days",
    "isp_recurring_grace_days",
    "isp_dunning_enabled",
    "isp_dunning_days",
    "isp_dunning_push",
    # isp_billing: vouchers and voucher cards, resellers, access log
    "isp_voucher_max_failures",
    "isp_voucher_max_failures_ip",
    "isp_voucher_window_minutes",
    "isp_voucher_attempt_retention_days",
    "isp_wifi_ssid",
    "isp_login_address",
    "isp_voucher_card_layout",
    "isp_reseller_commission_percent",
    "isp_access_log_retention_days",
    # isp_hotspot: limits per client address of the captive page
    "isp_hotspot_ip_payment_limit",
    "isp_hotspot_ip_code_limit",
    "isp_hotspot_ip_signin_limit",
    "isp_hotspot_ip_voucher_limit",
    "isp_hotspot_ip_lookup_limit",
    # isp_mikrotik: routers
    "isp_mikrotik_inactive_action",
    "isp_mikrotik_offline_alert_minutes",
    # isp_sms: the company's own gateway (res.company checks it is the company's), reminders
    # before expiry, data use alert
    "isp_sms_gateway_id",
    "isp_reminder_hotspot_hours",
    "isp_reminder_pppoe_days",
    "isp_usage_alert_percent",
)


def _inactive_actions(model):
    return model.env["res.company"]._fields["isp_mikrotik_inactive_action"].selection


class IspPlatformCompanySettings(models.TransientModel):
    _name = "isp.platform.company.settings"
    _description = "ISP Settings (operator's company)"

    # the company the record was opened in: shown, and checked again at save
    company_id = fields.Many2one(
        "res.company", readonly=True, default=lambda self: self.env.company
    )
    # the whitelist (strings and help are the company fields', see fields_get)
    isp_default_device_limit = fields.Integer()
    isp_paybill_number = fields.Char()
    isp_recurring_prorate = fields.Boolean()
    isp_recurring_due_days = fields.Integer()
    isp_recurring_grace_days = fields.Integer()
    isp_dunning_enabled = fields.Boolean()
    isp_dunning_days = fields.Char()
    isp_dunning_push = fields.Boolean()
    isp_voucher_max_failures = fields.Integer()
    isp_voucher_max_failures_ip = fields.Integer()
    isp_voucher_window_minutes = fields.Integer()
    isp_voucher_attempt_retention_days = fields.Integer()
    isp_wifi_ssid = fields.Char()
    isp_login_address = fields.Char()
    isp_voucher_card_layout = fields.Selection(CARD_LAYOUTS)
    isp_reseller_commission_percent = fields.Float(digits=(5, 2))
    isp_access_log_retention_days = fields.Integer()
    isp_hotspot_ip_payment_limit = fields.Integer()
    isp_hotspot_ip_code_limit = fields.Integer()
    isp_hotspot_ip_signin_limit = fields.Integer()
    isp_hotspot_ip_voucher_limit = fields.Integer()
    isp_hotspot_ip_lookup_limit = fields.Integer()
    isp_mikrotik_inactive_action = fields.Selection(_inactive_actions)
    isp_mikrotik_offline_alert_minutes = fields.Integer()
    isp_sms_gateway_id = fields.Many2one(
        "isp.sms.gateway", domain="[('company_id', '=', company_id)]"
    )
    isp_reminder_hotspot_hours = fields.Integer()
    isp_reminder_pppoe_days = fields.Char()
    isp_usage_alert_percent = fields.Integer()
    isp_dunning_push_available = fields.Boolean(
        string="A Payment Provider Can Send Prompts",
        compute="_compute_isp_dunning_push_available",
    )

    def _compute_display_name(self):
        for settings in self:
            settings.display_name = self.env._("ISP Settings")

    @api.depends("company_id")
    def _compute_isp_dunning_push_available(self):
        Step = self.env["isp.dunning.step"]
        for settings in self:
            settings.isp_dunning_push_available = bool(
                Step._isp_push_providers(settings.company_id)
            )

    @api.model
    def fields_get(self, allfields=None, attributes=None):
        """Override of base: the whitelisted fields read as the company's own (their label
        and help), so the form says what Settings says."""
        result = super().fields_get(allfields, attributes)
        names = [name for name in OPERATOR_COMPANY_FIELDS if name in result]
        if names:
            company_fields = self.env["res.company"].sudo().fields_get(names, ["string", "help"])
            for name in names:
                for attribute in ("string", "help"):
                    if attributes and attribute not in attributes:
                        continue
                    if company_fields[name].get(attribute):
                        result[name][attribute] = company_fields[name][attribute]
        return result

    # ------------------------------------------------------------------ access

    @api.model
    def _isp_settings_company(self):
        """The company these settings are of: the current one, when the user administers it
        (an operator's administrator, or a system administrator) and belongs to it; an
        AccessError otherwise. ``env.company`` comes from the client's allowed_company_ids,
        which Odoo refuses outside the user's companies unless in sudo: refused here too."""
        if self.env.su:
            raise AccessError(self.env._("The ISP settings are set by a user, not in sudo."))
        user = self.env.user
        if not (
            user.has_group("isp_platform.group_isp_operator_admin")
            or user.has_group("base.group_system")
        ):
            raise AccessError(
                self.env._("Only the company's administrator can change its ISP settings.")
            )
        company = self.env.company
        if company.id not in user._get_company_ids():
            raise AccessError(self.env._("Access to unauthorized or invalid companies."))
        return company

    @api.model
    def default_get(self, fields):
        """Override of base: the current company's settings."""
        company = self._isp_settings_company()
        defaults = super().default_get(fields)
        names = [name for name in OPERATOR_COMPANY_FIELDS if name in fields]
        if names:
            company = company.sudo()
            defaults.update(
                {
                    name: company._fields[name].convert_to_write(company[name], company)
                    for name in names
                }
            )
        if "company_id" in fields:
            defaults["company_id"] = company.id
        return defaults

    @api.model_create_multi
    def create(self, vals_list):
        """Override of base: a record is always of the current company (a company_id given
        by the client is ignored)."""
        company = self._isp_settings_company()
        for vals in vals_list:
            vals["company_id"] = company.id
        return super().create(vals_list)

    def write(self, vals):
        """Override of base: the record's company cannot be changed."""
        vals.pop("company_id", None)
        return super().write(vals)

    # ------------------------------------------------------------------ save

    def action_save(self):
        """Write the changed whitelisted values to the current company (sudo: operators
        cannot write res.company), through res.company.write so its constraints, dunning
        day normalisation and cache invalidation run; then show the saved values."""
        self.ensure_one()
        company = self._isp_settings_company()
        if self.company_id != company:
            raise UserError(
                self.env._(
                    "These settings were opened in %(opened)s but %(current)s is selected "
                    "now: open ISP Settings again.",
                    opened=self.company_id.name,
                    current=company.name,
                )
            )
        company = company.sudo()
        changed = {}
        for name in OPERATOR_COMPANY_FIELDS:
            value = self._fields[name].convert_to_write(self[name], self)
            if value != company._fields[name].convert_to_write(company[name], company):
                changed[name] = value
        if changed:
            company.write(changed)
            # the SQL checks (e.g. a device limit of 0) fail here, inside the save
            company.flush_recordset(list(changed))
            # show what was saved (e.g. the reminder days sorted by the company)
            super().write({name: company[name] for name in changed})
        return True
