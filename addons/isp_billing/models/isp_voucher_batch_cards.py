"""What leaves a generated voucher batch: its exports, its printed cards (back office and the
reseller portal's PDF) and the record of its codes' sale."""

from odoo import fields, models
from odoo.exceptions import UserError

# Cards in one PDF rendered for a reseller on the portal (wkhtmltopdf; 18 cards an A4 page):
# a bigger batch is printed in parts, and one reseller renders one PDF at a time.
PORTAL_CARDS_PER_PDF = 1000


class IspVoucherBatchCards(models.Model):
    _inherit = "isp.voucher.batch"  # pylint: disable=consider-merging-classes-inherited

    def action_export_csv(self):
        return self.env["isp.voucher.export"]._download(self, "csv")

    def action_export_xlsx(self):
        return self.env["isp.voucher.export"]._download(self, "xlsx")

    def _card_vouchers(self):
        """The codes Print Cards prints: the available ones, in order."""
        return self.env["isp.voucher"].search(
            [("batch_id", "in", self.ids), ("state", "=", "available")], order="batch_id, id"
        )

    def action_print_cards(self):
        """Print the available codes as cards, in each batch's layout."""
        vouchers = self._card_vouchers()
        if not vouchers:
            raise UserError(self.env._("These batches have no available codes to print."))
        return vouchers.action_print_cards()

    def action_mark_sold(self):
        """Record a cash sale of the batch's codes not sold yet (a wizard asks the journal)."""
        self.ensure_one()
        vouchers = self.env["isp.voucher"].search(
            [("batch_id", "=", self.id), ("is_sold", "=", False), ("state", "!=", "void")],
            order="id",
        )
        return self.env["isp.voucher.sell"]._open(vouchers, batch=self)

    def _book_sale(self, move):
        """Mark the batch's codes sold by ``move``, the invoice that booked their money
        elsewhere (a reseller's purchase): they cannot be sold again."""
        self.env["isp.voucher"].sudo().search(
            [("batch_id", "in", self.ids), ("is_sold", "=", False)]
        ).write({"sale_move_id": move.id, "is_sold": True, "date_sold": fields.Datetime.now()})

    def action_view_sale_invoices(self):
        self.ensure_one()
        moves = [
            move.id
            for [move] in self.env["isp.voucher"]._read_group(
                [("batch_id", "=", self.id), ("sale_move_id", "!=", False)], ["sale_move_id"]
            )
        ]
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Voucher Sales"),
            "res_model": "account.move",
            "view_mode": "list,form",
            "domain": [("id", "in", moves)],
            "context": {"create": False},
        }

    def _portal_card_parts(self):
        """[(part, first, last)] of the available cards, as the portal offers them for print."""
        self.ensure_one()
        count = self.count_available
        return [
            (index + 1, start + 1, min(start + PORTAL_CARDS_PER_PDF, count))
            for index, start in enumerate(range(0, count, PORTAL_CARDS_PER_PDF))
        ]

    def _portal_cards_pdf(self, reseller, part=1):
        """The A4 cards of ``part`` (1-based, PORTAL_CARDS_PER_PDF each) of the batch's
        available codes, for its ``reseller``: (content, kind) or None when the part is empty.
        A reseller whose previous PDF is still rendering is refused (UserError): renders are
        bounded in size and one at a time per reseller."""
        self.ensure_one()
        if part < 1:
            return None
        self.env.cr.execute(
            "SELECT pg_try_advisory_xact_lock(hashtext('isp_billing.portal_cards'), %s)",
            [reseller.id],
        )
        if not self.env.cr.fetchone()[0]:
            raise UserError(
                self.env._("Your previous cards are still being prepared: try again in a minute.")
            )
        vouchers = self.env["isp.voucher"].search(
            [("batch_id", "=", self.id), ("state", "=", "available")],
            order="id",
            offset=(part - 1) * PORTAL_CARDS_PER_PDF,
            limit=PORTAL_CARDS_PER_PDF,
        )
        if not vouchers:
            return None
        # the batch's layout, on A4 (a portal user prints on an office printer)
        return self.env["ir.actions.report"]._render_qweb_pdf(
            "isp_billing.isp_voucher_report_cards_a4", res_ids=vouchers.ids
        )
