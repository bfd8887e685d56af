from odoo import models

# The voucher card reports (report/isp_voucher_report.xml), printed as one document.
CARD_REPORTS = (
    "isp_billing.report_isp_voucher_cards_a4",
    "isp_billing.report_isp_voucher_cards_80mm",
    "isp_billing.report_isp_voucher_cards_58mm",
)


class IrActionsReport(models.Model):
    _inherit = "ir.actions.report"

    def _render_qweb_pdf_prepare_streams(self, report_ref, data, res_ids=None):
        """Voucher cards are one document: Odoo splits a PDF of one page a record (a roll,
        one card a page) into one file a record and merges them back, which copies the fonts
        into every page (110 kB for a 50-card roll). The records go through ``data``; card
        PDFs are never saved as attachments."""
        report = self._get_report(report_ref)
        if report.report_name in CARD_REPORTS and res_ids:
            data = dict(data or {}, isp_voucher_ids=list(res_ids))
            return super()._render_qweb_pdf_prepare_streams(report_ref, data, res_ids=None)
        return super()._render_qweb_pdf_prepare_streams(report_ref, data, res_ids=res_ids)
