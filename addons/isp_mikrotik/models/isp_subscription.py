from odoo import fields, models


class IspSubscription(models.Model):
    _inherit = "isp.subscription"

    # Imported from a router (isp.router.import): the router user is kept as it was found
    # (its profile, comment and limits) until the suite takes it over (_isp_import_kept).
    isp_import_router_id = fields.Many2one(
        "isp.router",
        string="Imported From Router",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        check_company=True,
    )
    isp_import_profile = fields.Char(
        string="Router Profile at Import",
        readonly=True,
        copy=False,
        help="The router profile the user had when imported; kept on the router until a new "
        "period starts or the bundle changes.",
    )
    isp_import_bundle_id = fields.Many2one("product.product", readonly=True, copy=False)
    isp_import_start = fields.Datetime(readonly=True, copy=False)
    isp_import_expiry = fields.Datetime(readonly=True, copy=False)

    def _isp_import_kept(self):
        """Whether the router user this subscription was imported with stays as the router
        had it (profile, comment, limits: only password and disabled are kept in line): in
        the imported period on the imported bundle. A purchase (a new or longer period) or
        another bundle hands the user over to the suite (tagged, on the bundle's profile,
        with the period's limits)."""
        self.ensure_one()
        return bool(
            self.isp_import_router_id
            and self.isp_import_start
            and self.date_start == self.isp_import_start
            and self.date_expiry == self.isp_import_expiry
            and self.bundle_id == self.isp_import_bundle_id
        )

    def _state_changed(self, previous_states):
        result = super()._state_changed(previous_states)
        # Queue the routers' update now (no router call inside the customer's transaction).
        self.env["isp.router.job"].sudo()._enqueue(self, reason="state")
        return result

    def _portal_sessions(self, limit=10):
        """The customer's sessions on the routers for the portal (isp_billing's hook)."""
        result = super()._portal_sessions(limit=limit)
        sessions = (
            self.env["isp.router.session"]
            .sudo()
            .search(
                [("subscription_id", "=", self.id)], order="last_seen desc, id desc", limit=limit
            )
        )
        return result + [
            {
                "start": session.first_seen,
                "last_seen": session.last_seen,
                "data_mb": session.data_mb,
                "ip": session.ip,
                "online": True,
            }
            for session in sessions
        ]
