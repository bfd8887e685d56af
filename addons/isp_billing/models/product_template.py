import math

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

# Months count as 30 days where a duration must be compared (savings, ordering); expiry dates use
# calendar months (relativedelta).
HOURS_PER_UNIT = {"hours": 1, "days": 24, "months": 24 * 30}


class ProductTemplate(models.Model):
    _inherit = "product.template"

    is_isp_bundle = fields.Boolean(
        string="ISP Bundle",
        help="Sold as internet access: hotspot time or a PPPoE plan.",
    )
    isp_service_type = fields.Selection(
        [("hotspot", "Hotspot"), ("pppoe", "PPPoE")],
        string="Service Type",
        default="hotspot",
    )
    isp_duration_value = fields.Integer(string="Duration", default=1)
    isp_duration_unit = fields.Selection(
        [("hours", "Hours"), ("days", "Days"), ("months", "Months")],
        string="Duration Unit",
        default="days",
    )
    isp_duration_hours = fields.Float(
        string="Duration (hours)",
        compute="_compute_isp_duration_hours",
        store=True,
        help="The duration in hours (a month counts as 30 days).",
    )
    isp_data_cap_mb = fields.Integer(string="Data Cap (MB)", default=0, help="0 means no data cap.")
    isp_upload_kbps = fields.Integer(
        string="Upload Limit (kbit/s)", default=0, help="0 means no limit."
    )
    isp_download_kbps = fields.Integer(
        string="Download Limit (kbit/s)", default=0, help="0 means no limit."
    )
    # Fair use: after the data cap, the customer is slowed down instead of cut off
    isp_fair_use_download_kbps = fields.Integer(
        string="After the Cap: Download (kbit/s)",
        default=0,
        help="Fair use: when set (with a data cap), reaching the cap slows the customer down "
        "to this speed until the period ends instead of cutting them off. 0: no fair use.",
    )
    isp_fair_use_upload_kbps = fields.Integer(
        string="After the Cap: Upload (kbit/s)",
        default=0,
        help="Fair use: the upload speed after the data cap (0: the download value).",
    )
    isp_device_limit = fields.Integer(
        string="Device Limit",
        default=0,
        help="Devices online at once on this bundle; 0 uses the customer's limit.",
    )
    isp_marketing_description = fields.Text(
        string="Marketing Description",
        translate=True,
        help="Shown to customers on the captive page.",
    )
    isp_recurring_invoicing_type = fields.Selection(
        [
            ("none", "Bought per period"),
            ("pre-paid", "Monthly, pre-paid"),
            ("post-paid", "Monthly, post-paid"),
        ],
        string="PPPoE Billing",
        default="none",
        help="PPPoE only. Monthly: subscriptions are invoiced every period by the billing cron, "
        "at the start of the period (pre-paid) or after its end (post-paid), and suspended "
        "when an invoice stays unpaid past the grace period. Bought per period: customers "
        "buy each period themselves.",
    )
    isp_saving = fields.Monetary(
        string="Saving",
        compute="_compute_isp_saving",
        currency_field="currency_id",
        help="What this bundle saves against buying the shortest bundle of the same service "
        "repeatedly for as long.",
    )

    _isp_duration_positive = models.Constraint(
        "CHECK(NOT is_isp_bundle OR isp_duration_value > 0)",
        "A bundle's duration must be above zero.",
    )
    _isp_limits_not_negative = models.Constraint(
        "CHECK(isp_data_cap_mb >= 0 AND isp_upload_kbps >= 0 AND isp_download_kbps >= 0 "
        "AND isp_device_limit >= 0)",
        "Data cap, rate limits and device limit cannot be negative.",
    )
    _isp_fair_use_not_negative = models.Constraint(
        "CHECK(isp_fair_use_download_kbps >= 0 AND isp_fair_use_upload_kbps >= 0)",
        "The speeds after the data cap cannot be negative.",
    )

    @api.depends("isp_duration_value", "isp_duration_unit")
    def _compute_isp_duration_hours(self):
        for template in self:
            template.isp_duration_hours = (template.isp_duration_value or 0) * HOURS_PER_UNIT.get(
                template.isp_duration_unit or "days", 24
            )

    @api.depends(
        "is_isp_bundle",
        "list_price",
        "isp_duration_hours",
        "isp_service_type",
        "company_id",
        "currency_id",
    )
    def _compute_isp_saving(self):
        bundles = self.filtered(lambda t: t.is_isp_bundle and t.isp_duration_hours)
        (self - bundles).isp_saving = 0.0
        if not bundles:
            return
        candidates = self.search(
            [
                ("is_isp_bundle", "=", True),
                ("isp_service_type", "in", list(set(bundles.mapped("isp_service_type")))),
                ("isp_duration_hours", ">", 0),
            ]
        )
        for template in bundles:
            peers = candidates.filtered(
                lambda p, t=template: p.isp_service_type == t.isp_service_type
                and p.company_id == t.company_id
                and p.currency_id == t.currency_id
            )
            shortest = min(peers or template, key=lambda p: (p.isp_duration_hours, p.list_price))
            if shortest == template or shortest.isp_duration_hours >= template.isp_duration_hours:
                template.isp_saving = 0.0
                continue
            times = math.ceil(template.isp_duration_hours / shortest.isp_duration_hours - 1e-9)
            template.isp_saving = max(times * shortest.list_price - template.list_price, 0.0)

    @api.constrains("is_isp_bundle", "type")
    def _check_isp_bundle_is_service(self):
        for template in self:
            if template.is_isp_bundle and template.type != "service":
                raise ValidationError(
                    self.env._(
                        "Bundle %(name)s must be a service product: internet access is not "
                        "stocked goods.",
                        name=template.display_name,
                    )
                )

    @api.onchange("is_isp_bundle")
    def _onchange_is_isp_bundle(self):
        if self.is_isp_bundle:
            self.type = "service"
            # sold by one company, priced in its currency (a product is shared by default)
            if not self.company_id:
                self.company_id = self.env.company

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if (
            values.get("is_isp_bundle")
            and "company_id" in fields_list
            and not values.get("company_id")
        ):
            values["company_id"] = self.env.company.id
        return values

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("is_isp_bundle"):
                vals.setdefault("type", "service")
                # a bundle belongs to the company creating it, in its currency; only an
                # explicit company_id=False makes a shared one (which is not sold for money)
                vals.setdefault("company_id", self.env.company.id)
        return super().create(vals_list)

    @api.constrains("isp_fair_use_download_kbps", "isp_fair_use_upload_kbps")
    def _check_isp_fair_use(self):
        for template in self:
            if template.isp_fair_use_upload_kbps and not template.isp_fair_use_download_kbps:
                raise ValidationError(
                    self.env._(
                        "Fair use: set the download speed after the data cap as well (it turns "
                        "fair use on)."
                    )
                )

    def _isp_fair_use_rates(self):
        """(upload, download) kbit/s after the data cap, or None when the bundle has no fair
        use (reaching the cap then suspends or ends the subscription)."""
        self.ensure_one()
        if not self.isp_fair_use_download_kbps:
            return None
        down = self.isp_fair_use_download_kbps
        return self.isp_fair_use_upload_kbps or down, down

    def _isp_add_duration(self, start):
        """Return ``start`` plus this bundle's duration (calendar months for monthly plans)."""
        self.ensure_one()
        value = self.isp_duration_value
        if self.isp_duration_unit == "months":
            return start + relativedelta(months=value)
        if self.isp_duration_unit == "hours":
            return start + relativedelta(hours=value)
        return start + relativedelta(days=value)
