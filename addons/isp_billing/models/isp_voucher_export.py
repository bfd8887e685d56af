import base64
import csv
import io
import re

import xlsxwriter

from odoo import api, fields, models
from odoo.exceptions import UserError

from .isp_voucher import STATES

CSV_HEADER = [
    "code",
    "batch",
    "bundle",
    "duration_hours",
    "price",
    "currency",
    "valid_until",
    "state",
    "reseller",
]
# Text a spreadsheet would run as a formula (CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


class IspVoucherExport(models.TransientModel):
    """A voucher export file (CSV or XLSX), downloaded through /web/content and vacuumed
    with the other transient records."""

    _name = "isp.voucher.export"
    _description = "ISP Voucher Export"

    batch_ids = fields.Many2many("isp.voucher.batch", string="Batches")
    file_format = fields.Selection([("csv", "CSV"), ("xlsx", "Excel (XLSX)")], required=True)
    data = fields.Binary(attachment=False, readonly=True)
    filename = fields.Char(readonly=True)

    @api.model
    def _download(self, batches, file_format):
        """Build the file for ``batches`` and return the action that downloads it."""
        if not batches:
            raise UserError(self.env._("Choose the voucher batches to export."))
        batches.check_access("read")
        content = self._render(batches, file_format)
        stem = batches.name if len(batches) == 1 else self.env._("vouchers")
        export = self.create(
            {
                "batch_ids": [fields.Command.set(batches.ids)],
                "file_format": file_format,
                "data": base64.b64encode(content),
                "filename": f"{re.sub(r'[^A-Za-z0-9._-]+', '_', stem)}.{file_format}",
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content?model={self._name}&id={export.id}&field=data"
            f"&filename_field=filename&download=true",
            "target": "download",
        }

    @api.model
    def _render(self, batches, file_format):
        if file_format == "csv":
            return self._csv(batches)
        if file_format == "xlsx":
            return self._xlsx(batches)
        raise UserError(self.env._("Unknown export format %(name)r.", name=file_format))

    @api.model
    def _rows(self, batch):
        """The batch's vouchers as tuples in CSV_HEADER order, read in one query."""
        states = dict(STATES)
        vouchers = self.env["isp.voucher"].search_fetch(
            [("batch_id", "=", batch.id)],
            ["code", "state", "valid_until", "price"],
            order="id",
        )
        bundle = batch.bundle_id.display_name
        reseller = batch.reseller_id.display_name or ""
        currency = batch.currency_id.name
        return [
            (
                v.code,
                batch.name,
                bundle,
                batch.duration_hours,
                v.price,
                currency,
                v.valid_until or "",
                states[v.state],
                reseller,
            )
            for v in vouchers
        ]

    @staticmethod
    def _csv_cell(value):
        """A cell that a spreadsheet opens as text: dates as ISO strings, and text starting
        like a formula (=, +, -, @, tab, carriage return: a batch, bundle or reseller name
        typed by staff or a reseller) prefixed with a quote, as Odoo's own CSV export does."""
        if hasattr(value, "isoformat"):
            return fields.Date.to_string(value)
        if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
            return "'" + value
        return value

    @api.model
    def _csv(self, batches):
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_HEADER)
        for batch in batches:
            for row in self._rows(batch):
                writer.writerow([self._csv_cell(cell) for cell in row])
        return out.getvalue().encode("utf-8")

    @api.model
    def _xlsx(self, batches):
        """A formatted workbook: one sheet per batch (title, bundle, totals, then the codes)."""
        out = io.BytesIO()
        book = xlsxwriter.Workbook(
            out, {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False}
        )
        title = book.add_format({"bold": True, "font_size": 14})
        label = book.add_format({"bold": True, "font_color": "#555555"})
        head = book.add_format(
            {"bold": True, "bg_color": "#1F4E78", "font_color": "#FFFFFF", "border": 1}
        )
        code_format = book.add_format({"font_name": "Consolas", "bold": True})
        date_format = book.add_format({"num_format": "yyyy-mm-dd"})
        used = set()
        for batch in batches:
            decimals = batch.currency_id.decimal_places
            money = book.add_format(
                {"num_format": "#,##0" + ("." + "0" * decimals if decimals else "")}
            )
            sheet = book.add_worksheet(self._sheet_name(batch.name, used))
            sheet.write(0, 0, batch.name, title)
            info = [
                (self.env._("Company"), batch.company_id.name),
                (self.env._("Bundle"), batch.bundle_id.display_name),
                (self.env._("Duration (hours)"), batch.duration_hours),
                (self.env._("Price"), f"{batch.price:.{decimals}f} {batch.currency_id.name}"),
                (self.env._("Reseller"), batch.reseller_id.display_name or ""),
                (
                    self.env._("Valid until"),
                    fields.Date.to_string(batch.valid_until) if batch.valid_until else "",
                ),
                (
                    self.env._("Generated / redeemed / available"),
                    f"{batch.count_total} / {batch.count_redeemed} / {batch.count_available}",
                ),
            ]
            for index, (name, value) in enumerate(info, start=1):
                sheet.write(index, 0, name, label)
                sheet.write(index, 1, value)
            first = len(info) + 2
            headers = [
                self.env._("Code"),
                self.env._("Bundle"),
                self.env._("Duration (hours)"),
                self.env._("Price"),
                self.env._("Currency"),
                self.env._("Valid until"),
                self.env._("State"),
                self.env._("Reseller"),
            ]
            sheet.write_row(first, 0, headers, head)
            rows = self._rows(batch)
            for offset, row in enumerate(rows, start=first + 1):
                code, _batch, bundle, hours, price, currency, valid_until, state, reseller = row
                sheet.write_string(offset, 0, code, code_format)
                sheet.write_string(offset, 1, bundle)
                sheet.write_number(offset, 2, hours)
                sheet.write_number(offset, 3, price, money)
                sheet.write_string(offset, 4, currency)
                if valid_until:
                    sheet.write_datetime(
                        offset, 5, fields.Datetime.to_datetime(valid_until), date_format
                    )
                sheet.write_string(offset, 6, state)
                sheet.write_string(offset, 7, reseller)
            sheet.set_column(0, 0, 18)
            sheet.set_column(1, 1, 28)
            sheet.set_column(2, 7, 14)
            sheet.freeze_panes(first + 1, 1)
            sheet.autofilter(first, 0, first + max(len(rows), 1), len(headers) - 1)
        book.close()
        return out.getvalue()

    @staticmethod
    def _sheet_name(name, used):
        """An Excel sheet name: at most 31 characters, none of []:*?/\\, unique."""
        base = SHEET_FORBIDDEN.sub("-", name or "Batch")[:31] or "Batch"
        candidate, n = base, 1
        while candidate.lower() in used:
            n += 1
            suffix = f" ({n})"
            candidate = base[: 31 - len(suffix)] + suffix
        used.add(candidate.lower())
        return candidate
