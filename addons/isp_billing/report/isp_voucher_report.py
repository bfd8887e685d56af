from odoo import api, models


class IspVoucherCardsReport(models.AbstractModel):
    """The vouchers of a card report: the records printed, or those a whole-document
    rendering passes in ``data["isp_voucher_ids"]`` (models/ir_actions_report.py), read as
    the user (record rules apply)."""

    _name = "report.isp_billing.report_isp_voucher_cards_a4"
    _description = "ISP Voucher Cards (A4)"

    @api.model
    def _get_report_values(self, docids, data=None):
        ids = docids or (data or {}).get("isp_voucher_ids") or []
        docs = self.env["isp.voucher"].browse(ids)
        docs.check_access("read")
        return {
            "doc_ids": docs.ids,
            "doc_model": "isp.voucher",
            "docs": docs,
            "layout": (data or {}).get("layout"),
        }


class IspVoucherCardsReport80(models.AbstractModel):
    _name = "report.isp_billing.report_isp_voucher_cards_80mm"
    _inherit = "report.isp_billing.report_isp_voucher_cards_a4"
    _description = "ISP Voucher Cards (80 mm roll)"


class IspVoucherCardsReport58(models.AbstractModel):
    _name = "report.isp_billing.report_isp_voucher_cards_58mm"
    _inherit = "report.isp_billing.report_isp_voucher_cards_a4"
    _description = "ISP Voucher Cards (58 mm roll)"
