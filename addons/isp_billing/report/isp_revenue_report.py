from odoo import fields, models
from odoo.tools import SQL
from odoo.tools.sql import drop_view_if_exists

from ..models.isp_purchase import SOURCES


class IspRevenueReport(models.Model):
    """Revenue analysis: one row per purchase (a period sold), for pivot and graph views.

    The date is the purchase's creation (the moment of fulfilment) and the amount what was
    sold, as on the dashboard; the invoice may be created later. Channel: the payment provider
    of the transaction that paid it, the reseller of the voucher that was redeemed.
    """

    _name = "isp.revenue.report"
    _description = "ISP Revenue Analysis"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "reference"

    date = fields.Datetime(readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    reference = fields.Char(readonly=True)
    source = fields.Selection(SOURCES, readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    bundle_id = fields.Many2one("product.product", readonly=True)
    service_type = fields.Selection([("hotspot", "Hotspot"), ("pppoe", "PPPoE")], readonly=True)
    provider_id = fields.Many2one("payment.provider", string="Payment Provider", readonly=True)
    reseller_id = fields.Many2one("res.partner", readonly=True)
    customer_kind = fields.Selection(
        [("new", "New customer"), ("returning", "Returning customer")],
        readonly=True,
        help="New: the customer's first purchase. Returning: any later one.",
    )
    purchase_id = fields.Many2one("isp.purchase", readonly=True)
    amount = fields.Monetary(readonly=True, currency_field="currency_id", aggregator="sum")
    purchase_count = fields.Integer(string="Purchases", readonly=True, aggregator="sum")

    def _reseller_sql(self):
        """The reseller of the voucher redeemed (isp.voucher): a voucher purchase's reference
        is the code, or ``code#n`` when a code marked unused was redeemed again (the voucher's
        ``purchase_id`` is only the last one)."""
        if "isp.voucher" in self.env and "reseller_id" in self.env["isp.voucher"]._fields:
            return SQL(
                "CASE WHEN p.source = 'voucher' THEN (SELECT v.reseller_id FROM isp_voucher v"
                " WHERE v.code = split_part(p.reference, '#', 1)"
                " AND v.company_id = p.company_id) END"
            )
        return SQL("NULL::integer")

    def _query(self):
        return SQL(
            """
            SELECT p.id AS id,
                   p.id AS purchase_id,
                   p.create_date AS date,
                   p.company_id,
                   c.currency_id,
                   p.reference,
                   p.source,
                   p.partner_id,
                   p.bundle_id,
                   p.service_type,
                   tx.provider_id,
                   %(reseller)s AS reseller_id,
                   CASE WHEN EXISTS(
                            SELECT 1 FROM isp_purchase e
                             WHERE e.partner_id = p.partner_id
                               AND (e.create_date, e.id) < (p.create_date, p.id))
                        THEN 'returning' ELSE 'new' END AS customer_kind,
                   COALESCE(p.amount, 0) AS amount,
                   1 AS purchase_count
              FROM isp_purchase p
              JOIN res_company c ON c.id = p.company_id
         LEFT JOIN payment_transaction tx
                ON tx.reference = p.reference AND tx.isp_purchase_id = p.id
            """,
            reseller=self._reseller_sql(),
        )

    def init(self):
        drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                "CREATE OR REPLACE VIEW %s AS (%s)",
                SQL.identifier(self._table),
                self._query(),
            )
        )
