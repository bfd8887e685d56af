from odoo import models


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    def session_info(self):
        """Override of web: the platform subscription banner of each of the user's
        companies in grace or suspended (the web client shows the active company's)."""
        result = super().session_info()
        user = self.env.user
        if user._is_internal():
            banners = {}
            # one read of the states for all the user's companies (a platform owner has them
            # all); the banner's details only for those in grace or suspended
            unpaid = user.company_ids.sudo().filtered(
                lambda c: c.isp_platform_state in ("grace", "suspended")
            )
            for company in unpaid.sudo(False):
                banner = company._isp_platform_banner()
                if banner:
                    banners[str(company.id)] = banner
            result["isp_platform_banners"] = banners
        return result
