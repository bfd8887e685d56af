/** The operator's back office banner while its platform subscription is unpaid (grace) or
 * its new online sales are paused (suspended): read from the session info
 * (`isp_platform_banners`, per company, see models/ir_http.py) for the active company. */
import { user } from "@web/core/user";
import { patch } from "@web/core/utils/patch";
import { session } from "@web/session";
import { NavBar } from "@web/webclient/navbar/navbar";

patch(NavBar.prototype, {
    get ispPlatformBanner() {
        const banners = session.isp_platform_banners || {};
        const company = user.activeCompany;
        return (company && banners[String(company.id)]) || false;
    },
});
