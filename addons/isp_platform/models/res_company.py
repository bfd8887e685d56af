from odoo import api, fields, models
from odoo.tools import ormcache
from odoo.tools.misc import format_date

from .isp_platform_subscription import PAUSED_STATES, STATES


class ResCompany(models.Model):
    _inherit = "res.company"

    isp_platform_state = fields.Selection(
        STATES,
        string="Platform Subscription State",
        readonly=True,
        copy=False,
        groups="isp_platform.group_isp_platform_manager",
        help="The state of the company's platform subscription, copied here by it: empty for "
        "the platform company and companies without one.",
    )

    def cache_invalidation_fields(self):
        """Override of base: the captive page's sale check is cached per company."""
        return super().cache_invalidation_fields() | {"isp_platform_state"}

    @api.model
    @ormcache("company_id")
    def _isp_platform_paused_cached(self, company_id):
        company = self.sudo().browse(company_id)
        return company.isp_platform_state in PAUSED_STATES

    def _isp_sale_refusal(self):
        """Override of isp_billing: an operator whose platform subscription is suspended (or
        cancelled) takes no new online sale. The customer is told a neutral message, nothing
        about the operator's dues; access already sold and vouchers keep working."""
        company = self[:1] or self.env.company
        if company._isp_platform_paused_cached(company.id):
            return self.env._(
                "Online purchases are unavailable at the moment. Please contact the shop."
            )
        return super()._isp_sale_refusal()

    def _isp_platform_banner(self):
        """What the back office's banner says to this company's users, or False: unpaid
        within the grace period (pay by), or new sales paused (suspended)."""
        self.ensure_one()
        company = self.sudo()
        state = company.isp_platform_state
        if state not in ("grace", "suspended"):
            return False
        subscription = (
            self.env["isp.platform.subscription"]
            .sudo()
            .search([("operator_company_id", "=", self.id)], limit=1)
        )
        if state == "grace":
            pay_by = subscription.pay_by_date
            text = self.env._(
                "Your platform subscription is unpaid: pay by %(date)s to keep selling online.",
                date=format_date(self.env, pay_by) if pay_by else "",
            )
            level = "warning"
        else:
            text = self.env._(
                "Your platform subscription is unpaid: new online sales are paused until "
                "payment. Customers' existing access and vouchers keep working."
            )
            level = "danger"
        return {"state": state, "text": text, "level": level, "company_id": self.id}
