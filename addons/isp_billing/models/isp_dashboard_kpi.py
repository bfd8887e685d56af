"""The ISP dashboard's customer KPIs (ARPU, MRR, new / returning, churn), asked for once the
landing figures are shown, and the customer sets behind them."""

from collections import defaultdict
from datetime import timedelta

from odoo import api, models
from odoo.exceptions import UserError
from odoo.tools import SQL


class IspDashboard(models.AbstractModel):
    _inherit = "isp.dashboard"  # pylint: disable=consider-merging-classes-inherited

    @api.model
    def get_kpi_data(self, options=None):
        """The customer KPIs (ARPU, MRR, new / returning customers, churn): analyses of the
        whole purchase history, asked for by the dashboard once its figures are shown.
        ``options``: ``{"period": ..., "churn_days": N}`` (the dashboard's period)."""
        ctx = self._dashboard_context(options)
        return {
            "churn_days": ctx["churn_days"],
            "period": ctx["period"],
            "section": self._section_kpis(ctx),
        }

    @api.model
    def action_open_figure(self, key, options=None):
        """The action of a figure whose records are a computed set of customers (KPIs):
        computed on click rather than shipped with the dashboard."""
        ctx = self._dashboard_context(options)
        kpis = self._customer_kpis(ctx, with_ids=True)
        if key not in kpis["ids"]:
            raise UserError(self.env._("Unknown dashboard figure %(key)r.", key=key))
        labels = self._kpi_labels(ctx)
        window = self._churn_window(ctx) if key in ("lapsed", "churned") else ctx["window"]
        return self._action(
            self.env._("%(figure)s (%(window)s)", figure=labels[key], window=window),
            "res.partner",
            [("id", "in", sorted(kpis["ids"][key]))],
        )

    @api.model
    def _kpi_labels(self, ctx):
        return {
            "new": self.env._("New customers"),
            "returning": self.env._("Returning customers"),
            "lapsed": self.env._("Access lapsed"),
            "churned": self.env._(
                "Churned (no return within %(days)s days)", days=ctx["churn_days"]
            ),
        }

    @api.model
    def _churn_window(self, ctx):
        """The churn figure's window: the lapses of a period as long as the dashboard's,
        which ended N (churn delay) days ago."""
        return self.env._(
            "lapsed %(start)s-%(end)s days ago",
            start=ctx["churn_days"] + ctx["period_days"],
            end=ctx["churn_days"],
        )

    @api.model
    def _section_kpis(self, ctx):
        kpis = self._customer_kpis(ctx)
        labels = self._kpi_labels(ctx)
        period = [*ctx["company_domain"], ("create_date", ">=", ctx["kpi_from"])]
        churn_rate = round(100.0 * kpis["churned"] / kpis["lapsed"], 1) if kpis["lapsed"] else 0.0
        window = ctx["window"]
        cards = [
            self._card(
                "arpu",
                self.env._("ARPU"),
                kpis["arpu"],
                self._action(
                    self.env._("Purchases by customer (%(window)s)", window=window),
                    "isp.purchase",
                    period,
                    context={"group_by": ["partner_id"]},
                ),
                kind="monetary",
                hint=self.env._("revenue / paying customers (%(count)s)", count=kpis["payers"]),
                window=window,
            ),
            self._card(
                "mrr_pppoe",
                self.env._("MRR (PPPoE)"),
                kpis["mrr"],
                self._action(
                    self.env._("Active PPPoE subscriptions"),
                    "isp.subscription",
                    [
                        *ctx["company_domain"],
                        ("state", "=", "active"),
                        ("service_type", "=", "pppoe"),
                    ],
                    context={"group_by": ["bundle_id"]},
                ),
                kind="monetary",
                hint=self.env._("active PPPoE at monthly list price"),
                window=self._now_label(),
            ),
            self._card(
                "new",
                labels["new"],
                kpis["new"],
                "new",
                tone="success",
                hint=self.env._("first purchase ever"),
                window=window,
            ),
            self._card(
                "returning",
                labels["returning"],
                kpis["returning"],
                "returning",
                hint=self.env._("bought before too"),
                window=window,
            ),
            self._card(
                "churned",
                labels["churned"],
                kpis["churned"],
                "churned",
                tone="danger",
                hint=self.env._(
                    "%(rate)s%% of %(lapsed)s whose access lapsed",
                    rate=churn_rate,
                    lapsed=kpis["lapsed"],
                ),
                window=self._churn_window(ctx),
            ),
        ]
        return {
            "key": "kpis",
            "title": self.env._("Customers and revenue KPIs"),
            "sequence": 60,
            "cards": cards,
            "churn_rate": churn_rate,
        }

    @api.model
    def _customer_kpis(self, ctx, with_ids=False):
        """ARPU and MRR (per currency), new / returning customers over the KPI period
        (``kpi_from`` to ``kpi_to``) and churn: set-based SQL over the companies shown, after
        the usual access check. Three queries, each one pass over its table.

        - ARPU: purchase revenue of the period / customers with a paid purchase in it.
        - MRR (PPPoE): active PPPoE subscriptions at their bundle's list price brought to a
          month (price × 30 days / bundle duration).
        - new: customers whose first purchase ever is in the period; returning: customers with
          a purchase in the period and one before it.
        - churn: a customer's access lapses at the end of a purchased period that no other of
          their periods covers (the end of a run of back-to-back or overlapping periods);
          lapsed = customers with a lapse between ``churn_from`` and ``churn_to``; churned =
          those of them with such a lapse not followed by a new period within N days.
        """
        self.env["isp.purchase"].check_access("read")
        self.env["isp.subscription"].check_access("read")
        self.env["isp.purchase"].flush_model()
        self.env["isp.subscription"].flush_model()
        cr = self.env.cr
        company_ids = ctx["companies"].ids
        currency_of = {c.id: c.currency_id.id for c in ctx["companies"]}
        main_currency = self.env.company.currency_id.id
        # one row per customer: first purchase ever, purchases and revenue in the period
        ids_or_count = (
            (lambda cond: SQL("ARRAY_AGG(partner_id) FILTER (WHERE %s)", cond))
            if with_ids
            else (lambda cond: SQL("COUNT(*) FILTER (WHERE %s)", cond))
        )
        cr.execute(
            SQL(
                """
                SELECT company_id, SUM(revenue), COUNT(*) FILTER (WHERE revenue > 0),
                       %(new)s, %(returning)s
                  FROM (SELECT company_id, partner_id,
                               MIN(create_date) AS first_purchase,
                               BOOL_OR(create_date >= %(start)s) AS in_period,
                               COALESCE(SUM(amount) FILTER (WHERE create_date >= %(start)s), 0)
                                   AS revenue
                          FROM isp_purchase
                         WHERE company_id = ANY(%(companies)s) AND create_date < %(end)s
                      GROUP BY company_id, partner_id) AS customer
              GROUP BY company_id
                """,
                new=ids_or_count(SQL("in_period AND first_purchase >= %s", ctx["kpi_from"])),
                returning=ids_or_count(SQL("in_period AND first_purchase < %s", ctx["kpi_from"])),
                companies=company_ids,
                start=ctx["kpi_from"],
                end=ctx["kpi_to"],
            )
        )
        revenue, payers = defaultdict(float), defaultdict(int)
        new = [] if with_ids else 0
        returning = [] if with_ids else 0
        for company_id, amount, count, new_part, returning_part in cr.fetchall():
            revenue[currency_of[company_id]] += amount or 0.0
            payers[currency_of[company_id]] += count
            new += new_part or ([] if with_ids else 0)
            returning += returning_part or ([] if with_ids else 0)
        arpu = [
            {
                "currency_id": cid,
                "value": round(revenue[cid] / payers[cid], 2) if payers[cid] else 0.0,
            }
            for cid in dict.fromkeys([main_currency, *revenue])
        ]
        cr.execute(
            SQL(
                """
                SELECT s.company_id,
                       SUM(t.list_price * 720.0 / NULLIF(t.isp_duration_hours, 0))
                  FROM isp_subscription s
                  JOIN product_product p ON p.id = s.bundle_id
                  JOIN product_template t ON t.id = p.product_tmpl_id
                 WHERE s.company_id = ANY(%(companies)s)
                   AND s.state = 'active' AND s.service_type = 'pppoe'
              GROUP BY s.company_id
                """,
                companies=company_ids,
            )
        )
        mrr_by_currency = defaultdict(float)
        for company_id, amount in cr.fetchall():
            mrr_by_currency[currency_of[company_id]] += amount or 0.0
        mrr = [
            {"currency_id": cid, "value": round(mrr_by_currency[cid], 2)}
            for cid in dict.fromkeys([main_currency, *mrr_by_currency])
        ]
        # Each customer's periods in order of start: ``covered_until`` is the end of the run
        # of periods so far; when the next period starts after it (or there is none), the
        # access lapsed then, and came back when the next one started.
        cr.execute(
            SQL(
                """
                WITH run AS (
                    SELECT partner_id,
                           MAX(date_end) OVER w AS covered_until,
                           LEAD(date_start) OVER w AS next_start
                      FROM isp_purchase
                     WHERE company_id = ANY(%(companies)s)
                       AND date_start IS NOT NULL AND date_end IS NOT NULL
                    WINDOW w AS (PARTITION BY partner_id ORDER BY date_start, id
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
                ), lapse AS (
                    SELECT partner_id,
                           next_start IS NOT NULL
                           AND next_start <= covered_until + %(delay)s AS returned
                      FROM run
                     WHERE (next_start IS NULL OR next_start > covered_until)
                       AND covered_until >= %(from)s AND covered_until < %(to)s
                )
                SELECT ARRAY_AGG(DISTINCT partner_id),
                       ARRAY_AGG(DISTINCT partner_id) FILTER (WHERE NOT returned)
                  FROM lapse
                """,
                companies=company_ids,
                delay=timedelta(days=ctx["churn_days"]),
                **{"from": ctx["churn_from"], "to": ctx["churn_to"]},
            )
        )
        lapsed_ids, churned_ids = cr.fetchone()
        result = {
            "arpu": arpu,
            "mrr": mrr,
            "payers": sum(payers.values()),
            "new": len(new) if with_ids else new,
            "returning": len(returning) if with_ids else returning,
            "lapsed": len(lapsed_ids or []),
            "churned": len(churned_ids or []),
        }
        if with_ids:
            result["ids"] = {
                "new": new,
                "returning": returning,
                "lapsed": lapsed_ids or [],
                "churned": churned_ids or [],
            }
        return result
