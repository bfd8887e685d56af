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

    @api.model
    def _isp_unlink_in_batches(self, model, domain, batch_size, order="id"):
        """Delete the records of ``model`` (a recordset, with the rights to delete) matching
        ``domain``, ``batch_size`` at a time, each batch committed as the cron's progress.
        Returns False when the cron run must stop (its time is up), True when all are gone."""
        while batch := model.search(domain, limit=batch_size, order=order):
            batch.unlink()
            if not self._commit_progress(len(batch)):
                return False
        return True
