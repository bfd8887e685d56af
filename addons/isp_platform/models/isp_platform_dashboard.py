"""The platform owner's dashboard: one row per operator (an SQL view: customers, revenue and
customers' payment success over the last 30 days, the plan's monthly amount) and the KPI
header (operators by state, MRR, churn)."""

from odoo import api, fields, models
from odoo.tools import SQL

from .isp_platform_subscription import STATES

WINDOW_DAYS = 30


class IspPlatformOperatorReport(models.Model):
    _name = "isp.platform.operator.report"
    _description = "Platform Operators Report"
    _auto = False
    _rec_name = "operator_company_id"
    _order = "operator_company_id"

    subscription_id = fields.Many2one("isp.platform.subscription", readonly=True)
    operator_company_id = fields.Many2one("res.company", string="Operator", readonly=True)
    state = fields.Selection(STATES, readonly=True)
    plan_id = fields.Many2one("isp.platform.plan", readonly=True)
    platform_currency_id = fields.Many2one("res.currency", readonly=True)
    monthly_amount = fields.Monetary(
        string="MRR", currency_field="platform_currency_id", readonly=True, aggregator="sum"
    )
    customer_count = fields.Integer(string="Customers", readonly=True, aggregator="sum")
    active_customers = fields.Integer(readonly=True, aggregator="sum")
    currency_id = fields.Many2one("res.currency", string="Operator Currency", readonly=True)
    revenue = fields.Monetary(
        string="Revenue (30 days)",
        readonly=True,
        aggregator="sum",
        help="What the operator sold in the last 30 days (ISP purchases), in its currency.",
    )
    tx_done = fields.Integer(string="Payments Done", readonly=True, aggregator="sum")
    tx_failed = fields.Integer(
        string="Payments Failed", readonly=True, aggregator="sum", help="In error or cancelled."
    )
    success_rate = fields.Float(
        string="Payment Success (%)",
        readonly=True,
        aggregator="avg",
        digits=(5, 1),
        help="Its customers' online payments done / (done + error + cancelled), last 30 days.",
    )

    @property
    def _table_query(self):
        window = SQL("NOW() AT TIME ZONE 'UTC' - INTERVAL %s", f"{WINDOW_DAYS} days")
        return SQL(
            """
            SELECT s.id AS id,
                   s.id AS subscription_id,
                   s.operator_company_id,
                   s.state,
                   s.plan_id,
                   pc.currency_id AS platform_currency_id,
                   CASE WHEN s.state IN ('active', 'grace')
                        THEN CASE WHEN p.billing_period = 'year' THEN p.price / 12 ELSE p.price END
                        ELSE 0 END AS monthly_amount,
                   COALESCE(cust.total, 0) AS customer_count,
                   COALESCE(act.total, 0) AS active_customers,
                   oc.currency_id AS currency_id,
                   COALESCE(rev.total, 0) AS revenue,
                   COALESCE(tx.done, 0) AS tx_done,
                   COALESCE(tx.failed, 0) AS tx_failed,
                   CASE WHEN COALESCE(tx.done, 0) + COALESCE(tx.failed, 0) > 0
                        THEN 100.0 * tx.done / (tx.done + tx.failed) END AS success_rate
              FROM isp_platform_subscription s
              JOIN isp_platform_plan p ON p.id = s.plan_id
              JOIN res_company pc ON pc.id = s.company_id
              JOIN res_company oc ON oc.id = s.operator_company_id
         LEFT JOIN (SELECT company_id, COUNT(*) AS total
                      FROM res_partner
                     WHERE is_isp_customer AND active
                  GROUP BY company_id) cust ON cust.company_id = s.operator_company_id
         LEFT JOIN (SELECT company_id, COUNT(DISTINCT partner_id) AS total
                      FROM isp_subscription
                     WHERE state = 'active'
                  GROUP BY company_id) act ON act.company_id = s.operator_company_id
         LEFT JOIN (SELECT company_id, SUM(amount) AS total
                      FROM isp_purchase
                     WHERE create_date >= %(window)s
                  GROUP BY company_id) rev ON rev.company_id = s.operator_company_id
         LEFT JOIN (SELECT company_id,
                           COUNT(*) FILTER (WHERE state = 'done') AS done,
                           COUNT(*) FILTER (WHERE state IN ('error', 'cancel')) AS failed
                      FROM payment_transaction
                     WHERE create_date >= %(window)s
                  GROUP BY company_id) tx ON tx.company_id = s.operator_company_id
            """,
            window=window,
        )


class IspPlatformDashboard(models.TransientModel):
    _name = "isp.platform.dashboard"
    _description = "Platform Dashboard"

    currency_id = fields.Many2one("res.currency", readonly=True)
    operators_active = fields.Integer(readonly=True)
    operators_grace = fields.Integer(string="In Grace", readonly=True)
    operators_suspended = fields.Integer(string="Suspended", readonly=True)
    operators_cancelled = fields.Integer(string="Cancelled", readonly=True)
    mrr = fields.Monetary(string="MRR", readonly=True)
    churn_lost = fields.Integer(string="Lost (30 days)", readonly=True)
    churn_base = fields.Integer(string="Operators 30 Days Ago", readonly=True)
    churn_percent = fields.Float(string="Churn (%)", digits=(5, 1), readonly=True)
    operator_ids = fields.Many2many(
        "isp.platform.operator.report", compute="_compute_operator_ids", string="Operators"
    )

    def _compute_operator_ids(self):
        rows = self.env["isp.platform.operator.report"].search([])
        for dashboard in self:
            dashboard.operator_ids = rows

    @api.model
    def _kpi_values(self):
        """The header's figures, each one grouped query: operators by state, MRR (active and
        grace subscriptions' plans brought to a month, yearly / 12, in the platform
        company's currency) and churn (cancelled or suspended in the last 30 days / operators
        subscribed 30 days ago)."""
        # the report is an SQL view over other tables: pending writes first
        self.env.flush_all()
        Report = self.env["isp.platform.operator.report"]
        by_state = dict(Report._read_group([], ["state"], ["__count"]))
        mrr = Report._read_group([], [], ["monthly_amount:sum"])[0][0]
        lost, base = self.env["isp.platform.subscription"]._churn(WINDOW_DAYS)
        return {
            "currency_id": self.env.company.currency_id.id,
            "operators_active": by_state.get("active", 0),
            "operators_grace": by_state.get("grace", 0),
            "operators_suspended": by_state.get("suspended", 0),
            "operators_cancelled": by_state.get("cancelled", 0),
            "mrr": mrr or 0.0,
            "churn_lost": lost,
            "churn_base": base,
            "churn_percent": 100.0 * lost / base if base else 0.0,
        }

    @api.model
    def action_open(self):
        dashboard = self.create(self._kpi_values())
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Platform Dashboard"),
            "res_model": self._name,
            "res_id": dashboard.id,
            "view_mode": "form",
            "target": "current",
            "context": {"create": False, "edit": False},
        }

    def action_open_operators(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "isp_platform.isp_platform_operator_report_action"
        )
