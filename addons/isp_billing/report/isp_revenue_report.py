from odoo import fields, models
from odoo.tools import SQL
from odoo.tools.sql import drop_view_if_exists

from ..models.isp_purchase import SOURCES

# Rows that are not periods of access: the sale of voucher codes, booked by an invoice.
REPORT_SOURCES = [*SOURCES, ("voucher_sale", "Voucher Sale")]


class IspRevenueReport(models.Model):
    """Revenue analysis, for pivot and graph views: one row per purchase (a period sold), and
    one per invoice line of a voucher sale (cash sale of cards, a reseller's purchase).

    The date is the purchase's creation (the moment of fulfilment) and the amount what was
    sold, as on the dashboard; the invoice may be created later. Channel: the payment provider
    of the transaction that paid it, the reseller of the voucher that was redeemed.

    A voucher's money counts once, when it is in the books: a code sold (``is_sold``: its
    posted sale invoice, cash or reseller) counts the invoice line (taxes included) on the
    sale's date, and its redemption counts 0; a code redeemed but never recorded as sold
    counts its face value at the redemption, as before (no invoice holds it: mark it sold).
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
    source = fields.Selection(REPORT_SOURCES, readonly=True)
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

    def _voucher_join(self):
        """The voucher a voucher purchase redeemed, and whether its money is booked: a voucher
        purchase's reference is the code, or ``code#n`` when a code marked unused was redeemed
        again (the voucher's ``purchase_id`` is only the last one)."""
        return SQL(
            """
         LEFT JOIN isp_voucher v
                ON p.source = 'voucher'
               AND v.code = split_part(p.reference, '#', 1)
               AND v.company_id = p.company_id
         LEFT JOIN account_move sm ON sm.id = v.sale_move_id AND sm.state = 'posted'
            """
        )

    def _query(self):
        return SQL(
            """
            SELECT p.id * 2 AS id,
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
                   v.reseller_id AS reseller_id,
                   CASE WHEN EXISTS(
                            SELECT 1 FROM isp_purchase e
                             WHERE e.partner_id = p.partner_id
                               AND (e.create_date, e.id) < (p.create_date, p.id))
                        THEN 'returning' ELSE 'new' END AS customer_kind,
                   CASE WHEN sm.id IS NOT NULL THEN 0
                        ELSE COALESCE(p.amount, 0) END AS amount,
                   1 AS purchase_count
              FROM isp_purchase p
              JOIN res_company c ON c.id = p.company_id
         LEFT JOIN payment_transaction tx
                ON tx.reference = p.reference AND tx.isp_purchase_id = p.id
                %(vouchers)s
         UNION ALL
            SELECT l.id * 2 + 1 AS id,
                   NULL AS purchase_id,
                   m.create_date AS date,
                   m.company_id,
                   c.currency_id,
                   m.name AS reference,
                   'voucher_sale' AS source,
                   m.partner_id,
                   l.product_id AS bundle_id,
                   t.isp_service_type AS service_type,
                   NULL AS provider_id,
                   CASE WHEN rp.id IS NOT NULL THEN rp.reseller_id END AS reseller_id,
                   NULL AS customer_kind,
                   l.price_total AS amount,
                   0 AS purchase_count
              FROM account_move m
              JOIN res_company c ON c.id = m.company_id
              JOIN account_move_line l ON l.move_id = m.id AND l.display_type = 'product'
         LEFT JOIN product_product pp ON pp.id = l.product_id
         LEFT JOIN product_template t ON t.id = pp.product_tmpl_id
         LEFT JOIN isp_reseller_purchase rp ON rp.invoice_id = m.id
             WHERE m.state = 'posted'
               AND m.id IN (SELECT sale_move_id FROM isp_voucher WHERE sale_move_id IS NOT NULL)
            """,
            vouchers=self._voucher_join(),
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
