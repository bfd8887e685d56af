from odoo import fields, models


class IspRouterImportLine(models.TransientModel):
    """One hotspot user or PPPoE secret in the import preview: its customer and the
    subscription it becomes. Its password is not read before the import, nor kept here."""

    _name = "isp.router.import.line"
    _description = "Import from Router: user"
    _order = "blocked, include desc, service_type, login, id"

    wizard_id = fields.Many2one("isp.router.import", required=True, ondelete="cascade")
    include = fields.Boolean(string="Import", default=True)
    blocked = fields.Boolean(
        readonly=True, help="Cannot be imported (already imported, the suite's own, duplicate)."
    )
    service_type = fields.Selection(
        [("hotspot", "Hotspot"), ("pppoe", "PPPoE")], string="Service", required=True
    )
    login = fields.Char(required=True, readonly=True)
    profile_name = fields.Char(string="Router Profile", readonly=True)
    router_comment = fields.Char(string="Comment on the Router", readonly=True)
    bundle_line_id = fields.Many2one(
        "isp.router.import.bundle",
        string="Bundle",
        domain="[('wizard_id', '=', wizard_id), ('service_type', '=', service_type)]",
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Existing Customer",
        domain="[('is_isp_customer', '=', True), ('company_id', '=', company_id)]",
    )
    company_id = fields.Many2one(related="wizard_id.router_id.company_id")
    partner_name = fields.Char(string="Customer")
    phone = fields.Char(readonly=True, help="The user name read as a mobile number (E.164).")
    state = fields.Selection(
        [("active", "Active"), ("expired", "Expired")], default="active", required=True
    )
    date_expiry = fields.Datetime(
        string="Expiry", help="Empty: a full period of the bundle from the import."
    )
    expiry_note = fields.Char(string="Expiry From", readonly=True)
    data_cap_mb = fields.Integer(string="Data Cap (MB)", readonly=True)
    data_used_mb = fields.Float(string="Data Used (MB)", readonly=True, digits=(16, 2))
    skip_reason = fields.Char(string="Skipped Because", readonly=True)
