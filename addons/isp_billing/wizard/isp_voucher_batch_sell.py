from odoo import api, fields, models
from odoo.exceptions import UserError


class IspVoucherSell(models.TransientModel):
    """Mark as Sold: record the cash sale of voucher codes (a whole batch's unsold codes, or
    the codes selected in the list: a shop sold part of a batch). ``isp.voucher._sell`` books
    it: one posted invoice paid in the chosen journal."""

    _name = "isp.voucher.sell"
    _description = "Mark Voucher Cards as Sold"

    company_id = fields.Many2one("res.company", required=True, readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    batch_id = fields.Many2one(
        "isp.voucher.batch",
        readonly=True,
        help="Sell every code of this batch not sold yet (when no codes are listed).",
    )
    voucher_ids = fields.Many2many("isp.voucher", string="Codes", readonly=True)
    count = fields.Integer(string="Cards", compute="_compute_totals")
    amount = fields.Monetary(string="Cash Received", compute="_compute_totals")
    journal_id = fields.Many2one(
        "account.journal",
        string="Paid Into",
        required=True,
        domain="[('type', 'in', ('cash', 'bank')), ('company_id', '=', company_id)]",
        help="The journal the cash (or the transfer) was received in.",
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Sold To",
        help="The shop or person who paid, if known; empty: a sale to the public, invoiced to "
        "the company's Voucher Sales customer.",
    )
    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)

    @api.depends("batch_id", "voucher_ids")
    def _compute_totals(self):
        for wizard in self:
            vouchers = wizard._vouchers()
            wizard.count = len(vouchers)
            wizard.amount = sum(vouchers.mapped("price"))

    def _vouchers(self):
        """The codes this sale is for: the listed ones, else the batch's not sold yet."""
        self.ensure_one()
        if self.voucher_ids or not self.batch_id:
            return self.voucher_ids
        return self.env["isp.voucher"].search(
            [
                ("batch_id", "=", self.batch_id.id),
                ("is_sold", "=", False),
                ("state", "!=", "void"),
            ],
            order="id",
        )

    @api.model
    def _open(self, vouchers, batch=None):
        """The wizard for ``vouchers`` (of ``batch``: all its unsold codes), after the checks
        that need no journal: nothing to sell, void or sold codes, a reseller's batch."""
        if not vouchers:
            raise UserError(self.env._("There is no code left to sell in this batch."))
        vouchers.check_access("read")
        companies = vouchers.company_id
        if len(companies) != 1:
            raise UserError(self.env._("Sell the vouchers of one company at a time."))
        vouchers.sudo()._check_sellable()
        journal = companies.with_company(companies)._isp_cash_journal()
        wizard = self.create(
            {
                "company_id": companies.id,
                "batch_id": batch.id if batch else False,
                "voucher_ids": [] if batch else [fields.Command.set(vouchers.ids)],
                "journal_id": journal.id,
                "partner_id": (batch.reseller_id.id if batch and batch.reseller_id else False),
            }
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Mark as Sold"),
            "res_model": self._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_confirm(self):
        """Book the sale (once: a confirmed wizard returns its invoice)."""
        self.ensure_one()
        if not self.move_id:
            vouchers = self._vouchers()
            if not vouchers:
                raise UserError(self.env._("There is no code left to sell in this batch."))
            self.write(
                {
                    "voucher_ids": [fields.Command.set(vouchers.ids)],
                    "move_id": vouchers._sell(self.journal_id, self.partner_id or None).id,
                }
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": self.env._(
                    "%(count)s cards sold for %(amount)s (invoice %(invoice)s, paid).",
                    count=self.count,
                    amount=self.currency_id.format(self.amount),
                    invoice=self.move_id.sudo().name,
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
