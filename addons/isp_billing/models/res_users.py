from odoo import api, models
from odoo.tools import frozendict


class ResUsers(models.Model):
    _inherit = "res.users"

    @api.model
    def context_get(self):
        """Override of base: a portal user without a time zone of their own (customers
        signing in from a phone rarely set one) sees dates and times in their company's
        (res.company._isp_tz_name), not in UTC: /my pages print expiries in the context's
        time zone."""
        context = super().context_get()
        if context.get("tz"):
            return context
        user = self.env.user
        if not user.share or user._is_public():
            return context
        return frozendict(context, tz=user.company_id._isp_tz_name())
