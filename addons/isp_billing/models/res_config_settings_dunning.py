from odoo import api, fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"  # pylint: disable=consider-merging-classes-inherited

    isp_dunning_enabled = fields.Boolean(related="company_id.isp_dunning_enabled", readonly=False)
    isp_dunning_days = fields.Char(related="company_id.isp_dunning_days", readonly=False)
    isp_dunning_push = fields.Boolean(related="company_id.isp_dunning_push", readonly=False)
    isp_dunning_push_available = fields.Boolean(
        string="A Payment Provider Can Send Prompts",
        compute="_compute_isp_dunning_push_available",
    )

    @api.depends("company_id")
    def _compute_isp_dunning_push_available(self):
        Step = self.env["isp.dunning.step"]
        for settings in self:
            settings.isp_dunning_push_available = bool(
                Step._isp_push_providers(settings.company_id)
            )
