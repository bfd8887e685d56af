from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"  # pylint: disable=consider-merging-classes-inherited

    isp_dunning_step_ids = fields.One2many(
        "isp.dunning.step", "move_id", string="Payment Reminders", readonly=True
    )

    def _isp_dunning_notify(self, step):
        """Hook: tell the customer of this unpaid invoice about the payment reminder ``step``
        (isp.dunning.step: its amount due, and whether an M-Pesa prompt was sent, in
        ``step.push_state``). Returns what was queued (a truthy record, e.g. the chatter
        message of the SMS), or False when nothing was. isp_billing sends nothing; isp_sms
        queues the reminder SMS."""
        self.ensure_one()
        return False
