"""The counter sale's printed receipt: its dates in the company's time zone, the accounting
and the PPPoE credentials it shows, and the button printing it."""

import pytz

from odoo import api, fields, models
from odoo.tools.misc import format_datetime


class IspCounterSaleReceipt(models.Model):
    _inherit = "isp.counter.sale"  # pylint: disable=consider-merging-classes-inherited

    date_done_local = fields.Char(compute="_compute_local_dates")
    date_start_local = fields.Char(compute="_compute_local_dates")
    date_end_local = fields.Char(compute="_compute_local_dates")
    # what the receipt prints of accounting, readable by desk staff who cannot read it
    journal_name = fields.Char(compute="_compute_receipt_accounting", compute_sudo=True)
    invoice_name = fields.Char(compute="_compute_receipt_accounting", compute_sudo=True)
    amount_tax = fields.Monetary(compute="_compute_receipt_accounting", compute_sudo=True)
    receipt_login = fields.Char(compute="_compute_receipt_credentials")
    receipt_password = fields.Char(compute="_compute_receipt_credentials")

    def _tz(self):
        return self.env["isp.subscription"].with_company(self.company_id)._tz()

    @api.depends("date_done", "purchase_id.date_start", "purchase_id.date_end", "company_id")
    def _compute_local_dates(self):
        """Dates as printed on the receipt: in the company's time zone."""
        for sale in self:
            tz = sale._tz().zone if sale.company_id else pytz.utc.zone
            for field_name, value in (
                ("date_done_local", sale.date_done),
                ("date_start_local", sale.purchase_id.date_start),
                ("date_end_local", sale.purchase_id.date_end),
            ):
                sale[field_name] = (
                    format_datetime(self.env, value, tz=tz, dt_format="dd/MM/yyyy HH:mm")
                    if value
                    else False
                )

    @api.depends("journal_id", "purchase_id.invoice_id")
    def _compute_receipt_accounting(self):
        for sale in self:
            invoice = sale.purchase_id.invoice_id
            sale.journal_name = sale.journal_id.name or False
            sale.invoice_name = invoice.name or False
            sale.amount_tax = invoice.amount_tax

    @api.depends("subscription_id")
    @api.depends_context("uid")
    def _compute_receipt_credentials(self):
        """A PPPoE customer's login is printed on the receipt (every ISP user reads it); the
        password only for ISP managers, the only ones who may read it (desk staff hand over
        receipts printed for anyone at the counter: the credentials SMS brings the password
        to the customer's phone instead)."""
        manager = self.env.user.has_group("isp_billing.group_isp_manager")
        for sale in self:
            subscription = sale.subscription_id
            pppoe = subscription.service_type == "pppoe"
            sale.receipt_login = subscription.login if pppoe else False
            sale.receipt_password = subscription.sudo().password if pppoe and manager else False

    def action_print_receipt(self):
        self.ensure_one()
        return self.env.ref("isp_billing.action_report_isp_counter_sale_receipt").report_action(
            self
        )
