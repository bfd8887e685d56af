from odoo import api, models

NOTIFIED_KEY = "isp_billing.cron_workers_notified"


class IrCron(models.Model):
    _inherit = "ir.cron"

    @api.model
    def _notifydb(self):
        """Override of ir.cron to wake the cron workers once per committed transaction: a
        payment callback triggers several crons (invoicing, SMS queue, router queue), each
        registering a wake-up, and the workers look for every due cron when they wake."""
        # the transaction's post-commit data lives until all its callbacks ran
        data = self.env.cr.postcommit.data
        if data.get(NOTIFIED_KEY):
            return
        data[NOTIFIED_KEY] = True
        super()._notifydb()
