import base64
import io
from collections import defaultdict
from datetime import datetime, time, timedelta

import pytz
import xlsxwriter

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..models.isp_dashboard import CHURN_DAYS_DEFAULT


class IspRevenueExport(models.TransientModel):
    """The accountant's revenue workbook (XLSX): revenue by period, bundle, channel, payment
    provider, reseller and company, with totals; customer KPIs; mobile-money payments not
    matched to an invoice. Figures come from ``isp.revenue.report`` and the dashboard's KPI
    queries, so they agree with the pivot and the dashboard."""

    _name = "isp.revenue.export"
    _description = "ISP Revenue Export (XLSX)"

    date_from = fields.Date(
        required=True, default=lambda self: fields.Date.context_today(self).replace(day=1)
    )
    date_to = fields.Date(required=True, default=fields.Date.context_today)
    period = fields.Selection(
        [("day", "Day"), ("week", "Week"), ("month", "Month")],
        string="Revenue By",
        required=True,
        default="day",
    )
    company_ids = fields.Many2many(
        "res.company", string="Companies", default=lambda self: self.env.companies
    )
    churn_days = fields.Integer(
        string="Churn Delay (days)",
        default=CHURN_DAYS_DEFAULT,
        required=True,
        help="A customer whose access lapsed and who did not buy again within this many days "
        "counts as churned.",
    )
    file = fields.Binary(readonly=True, attachment=False)
    file_name = fields.Char(readonly=True)

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for wizard in self:
            if wizard.date_from > wizard.date_to:
                raise ValidationError(
                    self.env._("The start date must be on or before the end date.")
                )

    # ------------------------------------------------------------------ period

    def _bounds(self):
        """The period as naive UTC datetimes [start, end): whole days in the user's timezone."""
        self.ensure_one()
        tz = self.env.tz

        def utc(day):
            return (
                tz.localize(datetime.combine(day, time.min))
                .astimezone(pytz.utc)
                .replace(tzinfo=None)
            )

        return utc(self.date_from), utc(self.date_to + timedelta(days=1))

    def _companies(self):
        companies = (
            self.company_ids & self.env.companies if self.company_ids else self.env.companies
        )
        if not companies:
            raise UserError(self.env._("Choose at least one of your companies."))
        return companies

    def _isp_context(self):
        """The KPI context of ``isp.dashboard._customer_kpis`` for this period: churn
        counts the lapses of the period whose N-day return window has ended."""
        self.ensure_one()
        Dashboard = self.env["isp.dashboard"]
        Dashboard._check_churn_days(self.churn_days)
        start, end = self._bounds()
        now = fields.Datetime.now()
        return {
            "now": now,
            "companies": self._companies(),
            "kpi_from": start,
            "kpi_to": min(end, now),
            "churn_days": self.churn_days,
            "churn_from": start,
            "churn_to": min(end, now - timedelta(days=self.churn_days)),
        }

    # ------------------------------------------------------------------ data

    def _revenue_domain(self):
        start, end = self._bounds()
        return [
            ("date", ">=", start),
            ("date", "<", end),
            ("company_id", "in", self._companies().ids),
        ]

    def _rows(self, groupby):
        """``[(label, currency, purchases, amount)]`` of the period grouped by ``groupby``
        (an isp.revenue.report field, or ``date:<period>``)."""
        Report = self.env["isp.revenue.report"]
        groups = Report._read_group(
            self._revenue_domain(),
            [groupby, "currency_id"],
            ["purchase_count:sum", "amount:sum"],
            order=f"{groupby} ASC, currency_id ASC" if ":" not in groupby else None,
        )
        field = Report._fields[groupby.split(":")[0]]
        selection = (
            dict(field._description_selection(self.env)) if field.type == "selection" else {}
        )
        rows = []
        for key, currency, count, amount in groups:
            if isinstance(key, models.BaseModel):
                label = key.display_name or self._none_label(groupby)
            elif field.type == "selection":
                label = selection.get(key, key) if key else self._none_label(groupby)
            else:
                label = key
            rows.append((label, currency, count or 0, amount or 0.0))
        return rows

    def _none_label(self, groupby):
        return {
            "provider_id": self.env._("No payment provider (voucher, manual)"),
            "reseller_id": self.env._("No reseller"),
        }.get(groupby, self.env._("None"))

    def _unmatched_payments(self):
        Dashboard = self.env["isp.dashboard"]
        domain = Dashboard._unmatched_payments_domain(self._companies())
        if domain is None:
            return None
        return self.env["account.payment"].search(
            [
                *domain,
                ("date", ">=", self.date_from),
                ("date", "<=", self.date_to),
                ("company_id", "in", self._companies().ids),
            ],
            order="date, id",
        )

    # ------------------------------------------------------------------ workbook

    def _breakdowns(self):
        """(sheet title, isp.revenue.report field to group by) after the period sheet."""
        return [
            (self.env._("By bundle"), "bundle_id"),
            (self.env._("By channel"), "source"),
            (self.env._("By payment provider"), "provider_id"),
            (self.env._("By reseller"), "reseller_id"),
            (self.env._("By company"), "company_id"),
        ]

    def action_export(self):
        self.ensure_one()
        content = self._build_xlsx()
        self.write(
            {
                "file": base64.b64encode(content),
                "file_name": f"isp-revenue-{self.date_from}-{self.date_to}.xlsx",
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self._name}/{self.id}/file/{self.file_name}?download=true",
            "target": "self",
        }

    @api.model
    def _formats(self, book):
        base = {"font_size": 10, "valign": "vcenter"}
        return {
            "title": book.add_format({**base, "bold": True, "font_size": 14}),
            "label": book.add_format({**base, "bold": True}),
            "header": book.add_format(
                {**base, "bold": True, "bg_color": "#1F4E78", "font_color": "#FFFFFF", "border": 1}
            ),
            "text": book.add_format(base),
            "int": book.add_format({**base, "num_format": "#,##0"}),
            "money": book.add_format({**base, "num_format": "#,##0.00"}),
            "pct": book.add_format({**base, "num_format": "0.0%"}),
            "date": book.add_format({**base, "num_format": "yyyy-mm-dd"}),
            "total_label": book.add_format({**base, "bold": True, "top": 2, "bg_color": "#DDEBF7"}),
            "total_int": book.add_format(
                {**base, "bold": True, "top": 2, "bg_color": "#DDEBF7", "num_format": "#,##0"}
            ),
            "total_money": book.add_format(
                {**base, "bold": True, "top": 2, "bg_color": "#DDEBF7", "num_format": "#,##0.00"}
            ),
        }

    def _build_xlsx(self):
        self.ensure_one()
        ctx = self._isp_context()
        buffer = io.BytesIO()
        book = xlsxwriter.Workbook(
            buffer, {"in_memory": True, "remove_timezone": True, "strings_to_formulas": False}
        )
        fmt = self._formats(book)
        self._sheet_summary(book, fmt, ctx)
        period_title = dict(self._fields["period"]._description_selection(self.env))[self.period]
        self._sheet_breakdown(
            book,
            fmt,
            self.env._("By %(period)s", period=period_title.lower()),
            period_title,
            self._rows(f"date:{self.period}"),
        )
        for title, groupby in self._breakdowns():
            field = self.env["isp.revenue.report"]._fields[groupby]
            self._sheet_breakdown(
                book,
                fmt,
                title,
                field.get_description(self.env)["string"],
                self._rows(groupby),
            )
        payments = self._unmatched_payments()
        if payments is not None:
            self._sheet_unmatched(book, fmt, payments)
        book.close()
        return buffer.getvalue()

    def _sheet_summary(self, book, fmt, ctx):
        sheet = book.add_worksheet(self.env._("Summary"))
        sheet.set_column(0, 0, 44)
        sheet.set_column(1, 3, 18)
        sheet.write(0, 0, self.env._("ISP revenue"), fmt["title"])
        sheet.write(1, 0, self.env._("Period"), fmt["label"])
        sheet.write_datetime(1, 1, datetime.combine(self.date_from, time.min), fmt["date"])
        sheet.write_datetime(1, 2, datetime.combine(self.date_to, time.min), fmt["date"])
        sheet.write(2, 0, self.env._("Companies"), fmt["label"])
        sheet.write(2, 1, ", ".join(ctx["companies"].mapped("name")), fmt["text"])
        kpis = self.env["isp.dashboard"]._customer_kpis(ctx)
        totals = defaultdict(lambda: [0, 0.0])
        for _label, currency, count, amount in self._rows("company_id"):
            totals[currency][0] += count
            totals[currency][1] += amount
        row = 4
        sheet.write_row(
            row,
            0,
            [self.env._("Figure"), self.env._("Value"), self.env._("Currency")],
            fmt["header"],
        )
        currencies = self.env["res.currency"].browse
        for currency, (count, amount) in totals.items():
            row += 1
            sheet.write(row, 0, self.env._("Revenue"), fmt["text"])
            sheet.write_number(row, 1, amount, fmt["money"])
            sheet.write(row, 2, currency.name, fmt["text"])
            row += 1
            sheet.write(row, 0, self.env._("Purchases"), fmt["text"])
            sheet.write_number(row, 1, count, fmt["int"])
            sheet.write(row, 2, currency.name, fmt["text"])
        for label, amounts in (
            (self.env._("ARPU"), kpis["arpu"]),
            (self.env._("MRR (PPPoE)"), kpis["mrr"]),
        ):
            for item in amounts:
                row += 1
                sheet.write(row, 0, label, fmt["text"])
                sheet.write_number(row, 1, item["value"], fmt["money"])
                sheet.write(row, 2, currencies(item["currency_id"]).name, fmt["text"])
        counts = [
            (self.env._("Paying customers"), kpis["payers"]),
            (self.env._("New customers"), kpis["new"]),
            (self.env._("Returning customers"), kpis["returning"]),
            (self.env._("Customers whose access lapsed"), kpis["lapsed"]),
            (
                self.env._("Churned (no purchase within %(days)s days)", days=ctx["churn_days"]),
                kpis["churned"],
            ),
        ]
        for label, value in counts:
            row += 1
            sheet.write(row, 0, label, fmt["text"])
            sheet.write_number(row, 1, value, fmt["int"])
        row += 1
        sheet.write(row, 0, self.env._("Churn rate"), fmt["text"])
        sheet.write_number(
            row, 1, kpis["churned"] / kpis["lapsed"] if kpis["lapsed"] else 0.0, fmt["pct"]
        )
        return sheet

    def _sheet_breakdown(self, book, fmt, title, key_label, rows):
        """A sheet of (key, currency, purchases, amount) rows and a total row per currency
        (SUMIF formulas, with their values cached so readers without a calculation engine
        see them)."""
        sheet = book.add_worksheet(title[:31])
        sheet.set_column(0, 0, 36)
        sheet.set_column(1, 1, 10)
        sheet.set_column(2, 3, 16)
        sheet.write_row(
            0,
            0,
            [key_label, self.env._("Currency"), self.env._("Purchases"), self.env._("Amount")],
            fmt["header"],
        )
        sheet.freeze_panes(1, 0)
        for index, (label, currency, count, amount) in enumerate(rows, start=1):
            if isinstance(label, datetime):
                sheet.write_datetime(index, 0, label, fmt["date"])
            elif hasattr(label, "isoformat"):
                sheet.write_datetime(index, 0, datetime.combine(label, time.min), fmt["date"])
            else:
                sheet.write(index, 0, str(label), fmt["text"])
            sheet.write(index, 1, currency.name, fmt["text"])
            sheet.write_number(index, 2, count, fmt["int"])
            sheet.write_number(index, 3, amount, fmt["money"])
        last = len(rows)
        if last:
            sheet.autofilter(0, 0, last, 3)
        totals = defaultdict(lambda: [0, 0.0])
        for _label, currency, count, amount in rows:
            totals[currency][0] += count
            totals[currency][1] += amount
        if not totals:
            totals[self.env.company.currency_id] = [0, 0.0]
        row = last + 1
        for currency, (count, amount) in totals.items():
            span = f"{{col}}2:{{col}}{max(last, 1) + 1}"
            sheet.write(row, 0, self.env._("Total"), fmt["total_label"])
            sheet.write(row, 1, currency.name, fmt["total_label"])
            sheet.write_formula(
                row,
                2,
                f'=SUMIF(B2:B{last + 1},"{currency.name}",{span.format(col="C")})',
                fmt["total_int"],
                count,
            )
            sheet.write_formula(
                row,
                3,
                f'=SUMIF(B2:B{last + 1},"{currency.name}",{span.format(col="D")})',
                fmt["total_money"],
                round(amount, 2),
            )
            row += 1
        return sheet

    def _sheet_unmatched(self, book, fmt, payments):
        sheet = book.add_worksheet(self.env._("Unmatched payments"))
        sheet.set_column(0, 0, 12)
        sheet.set_column(1, 4, 24)
        sheet.set_column(5, 6, 14)
        headers = [
            self.env._("Date"),
            self.env._("Payment"),
            self.env._("Customer"),
            self.env._("Journal"),
            self.env._("Memo"),
            self.env._("Currency"),
            self.env._("Amount"),
        ]
        sheet.write_row(0, 0, headers, fmt["header"])
        sheet.freeze_panes(1, 0)
        totals = defaultdict(float)
        for row, payment in enumerate(payments, start=1):
            sheet.write_datetime(row, 0, datetime.combine(payment.date, time.min), fmt["date"])
            sheet.write(row, 1, payment.name or "", fmt["text"])
            sheet.write(row, 2, payment.partner_id.display_name or "", fmt["text"])
            sheet.write(row, 3, payment.journal_id.name, fmt["text"])
            sheet.write(row, 4, payment.memo or "", fmt["text"])
            sheet.write(row, 5, payment.currency_id.name, fmt["text"])
            sheet.write_number(row, 6, payment.amount, fmt["money"])
            totals[payment.currency_id] += payment.amount
        last = len(payments)
        row = last + 1
        for currency, amount in totals.items():
            sheet.write(row, 0, self.env._("Total"), fmt["total_label"])
            for col in range(1, 5):
                sheet.write_blank(row, col, None, fmt["total_label"])
            sheet.write(row, 5, currency.name, fmt["total_label"])
            sheet.write_formula(
                row,
                6,
                f'=SUMIF(F2:F{last + 1},"{currency.name}",G2:G{last + 1})',
                fmt["total_money"],
                round(amount, 2),
            )
            row += 1
        return sheet
