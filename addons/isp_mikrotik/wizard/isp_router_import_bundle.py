from odoo import api, fields, models


class IspRouterImportBundle(models.TransientModel):
    """One router profile in the import preview: the bundle it becomes (new, from the
    values here) or the existing bundle it is matched to."""

    _name = "isp.router.import.bundle"
    _description = "Import from Router: profile"
    _order = "service_type, profile_name, id"

    wizard_id = fields.Many2one("isp.router.import", required=True, ondelete="cascade")
    include = fields.Boolean(
        string="Create", default=True, help="Create a new bundle from this profile."
    )
    service_type = fields.Selection(
        [("hotspot", "Hotspot"), ("pppoe", "PPPoE")], string="Service", required=True
    )
    profile_name = fields.Char(string="Router Profile", required=True, readonly=True)
    bundle_id = fields.Many2one(
        "product.template",
        string="Existing Bundle",
        domain="[('is_isp_bundle', '=', True), ('isp_service_type', '=', service_type), "
        "('company_id', 'in', [company_id, False])]",
        help="Use this bundle for the profile's users instead of creating one.",
    )
    company_id = fields.Many2one(related="wizard_id.router_id.company_id")
    currency_id = fields.Many2one(related="company_id.currency_id")
    name = fields.Char(string="Bundle Name")
    rate_limit = fields.Char(readonly=True, help="The profile's rate-limit on the router.")
    upload_kbps = fields.Integer(string="Upload (kbit/s)")
    download_kbps = fields.Integer(string="Download (kbit/s)")
    device_limit = fields.Integer(string="Devices", help="The profile's shared users; 0: no limit.")
    duration_value = fields.Integer(string="Validity")
    duration_unit = fields.Selection(
        [("hours", "Hours"), ("days", "Days"), ("months", "Months")],
        string="Validity Unit",
        default="days",
    )
    price = fields.Monetary(currency_field="currency_id")
    mikhmon = fields.Boolean(readonly=True, help="Mikhmon metadata was read.")
    note = fields.Char(readonly=True, help="What was read from the router, and what was not.")
    skip_reason = fields.Char(string="Not Created Because", readonly=True)
    user_count = fields.Integer(string="Users", compute="_compute_user_count")

    @api.depends("wizard_id.line_ids.bundle_line_id")
    def _compute_user_count(self):
        for line in self:
            line.user_count = len(
                line.wizard_id.line_ids.filtered(lambda u, b=line: u.bundle_line_id == b)
            )

    def _creates(self):
        """The lines that make a new bundle at import."""
        return self.filtered(lambda line: line.include and not line.bundle_id)
