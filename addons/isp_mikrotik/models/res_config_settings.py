from odoo import api, fields, models

# setting field -> cron whose interval (minutes) it sets
CRON_SETTINGS = {
    "isp_mikrotik_reconcile_minutes": "isp_mikrotik.ir_cron_isp_router_full_sync",
    "isp_mikrotik_poll_minutes": "isp_mikrotik.ir_cron_isp_router_poll_sessions",
}


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    isp_mikrotik_inactive_action = fields.Selection(
        related="company_id.isp_mikrotik_inactive_action", readonly=False
    )
    isp_mikrotik_offline_alert_minutes = fields.Integer(
        related="company_id.isp_mikrotik_offline_alert_minutes", readonly=False
    )
    isp_mikrotik_reconcile_minutes = fields.Integer(
        string="Full Router Reconciliation (minutes)",
        help="Every router is compared with billing this often, repairing any drift.",
    )
    isp_mikrotik_poll_minutes = fields.Integer(
        string="Session Polling (minutes)",
        help="Active sessions, devices and data use are read from the routers this often.",
    )

    @api.model
    def _isp_mikrotik_cron_minutes(self, cron):
        factor = {"minutes": 1, "hours": 60, "days": 1440, "weeks": 10080, "months": 43200}
        return cron.interval_number * factor.get(cron.interval_type, 1)

    def get_values(self):
        """Override of res.config.settings to read the router crons' intervals."""
        values = super().get_values()
        for field_name, xmlid in CRON_SETTINGS.items():
            cron = self.env.ref(xmlid, raise_if_not_found=False)
            values[field_name] = self._isp_mikrotik_cron_minutes(cron.sudo()) if cron else 0
        return values

    def set_values(self):
        """Override of res.config.settings to write the router crons' intervals."""
        result = super().set_values()
        for field_name, xmlid in CRON_SETTINGS.items():
            cron = self.env.ref(xmlid, raise_if_not_found=False)
            minutes = self[field_name]
            if not cron or minutes <= 0:
                continue
            cron = cron.sudo()
            if self._isp_mikrotik_cron_minutes(cron) != minutes:
                cron.write({"interval_number": minutes, "interval_type": "minutes"})
        return result
