from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    isp_mikrotik_inactive_action = fields.Selection(
        [("disable", "Disable them"), ("remove", "Remove them")],
        string="Expired Users on Routers",
        default="disable",
        # not required: a NOT NULL column fails the companies that modules loaded after this
        # one create without it (Odoo's own tests do); empty means the default, disable
        help="What happens on the routers to the hotspot users and PPPoE secrets of expired or "
        "suspended subscriptions. Their sessions are dropped either way; cancelled "
        "subscriptions are always removed.",
    )
    isp_mikrotik_offline_alert_minutes = fields.Integer(
        string="Router Offline Alert (minutes)",
        default=15,
        help="A router unreachable for longer than this gets an activity for the ISP managers.",
    )

    _isp_mikrotik_offline_alert_positive = models.Constraint(
        "CHECK(isp_mikrotik_offline_alert_minutes > 0)",
        "The router offline alert delay must be at least one minute.",
    )
