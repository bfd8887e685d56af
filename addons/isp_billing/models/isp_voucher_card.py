"""What a voucher's printed card shows (QR code, duration, data cap) and how cards are laid
out on A4 sheets and receipt rolls."""

import base64

from odoo import api, models
from odoo.exceptions import UserError

from .isp_voucher_card_layout import CARD_LAYOUT_SPECS, DEFAULT_CARD_LAYOUT
from .isp_voucher_qr import qr_png


class IspVoucherCard(models.Model):
    _inherit = "isp.voucher"  # pylint: disable=consider-merging-classes-inherited

    def _captive_url(self):
        """What the card's QR code opens: the captive page with the code filled in, on the
        company's website (website installed) or the database's base URL."""
        self.ensure_one()
        return f"{self.get_base_url().rstrip('/')}/hotspot?voucher={self.code}"

    def _card_pages(self, per_page):
        """The vouchers in pages of ``per_page`` cards (report templates)."""
        return [self[i : i + per_page] for i in range(0, len(self), per_page)]

    def _card_qr_src(self):
        """The card's QR code (``_captive_url``) as a small PNG data URI: black modules on a
        transparent background, QR_SCALE pixels a module. wkhtmltopdf's PDF engine stores
        an image's colours as JPEG and its transparency losslessly: a flat black image with
        the pattern in its transparency stays sharp and costs about 1.5 kB a card, where
        Odoo's 300 x 300 px barcode widget costs 36 kB (a 50-card roll was 2 MB)."""
        self.ensure_one()
        return "data:image/png;base64," + base64.b64encode(qr_png(self._captive_url())).decode()

    def _card_duration(self):
        """How long the access lasts, in words (the bundle's unit when it matches)."""
        self.ensure_one()
        hours = self.duration_hours or 0
        template = self.bundle_id.product_tmpl_id
        if template.isp_duration_unit == "months" and round(template.isp_duration_hours) == hours:
            months = template.isp_duration_value
            if months == 1:
                return self.env._("1 month")
            return self.env._("%(count)s months", count=months)
        if hours and hours % 24 == 0:
            if hours == 24:
                return self.env._("1 day")
            return self.env._("%(count)s days", count=hours // 24)
        if hours == 1:
            return self.env._("1 hour")
        return self.env._("%(count)s hours", count=hours)

    def _card_data_cap(self):
        """The bundle's data cap in words ("500 MB", "1.5 GB"), or "" without a cap."""
        self.ensure_one()
        mb = self.bundle_id.product_tmpl_id.isp_data_cap_mb
        if not mb:
            return ""
        if mb < 1024:
            return self.env._("%(mb)s MB", mb=mb)
        gb = f"{mb / 1024:.1f}".removesuffix(".0")
        return self.env._("%(gb)s GB", gb=gb)

    @api.model
    def _card_layout_spec(self, layout):
        """The CARD_LAYOUT_SPECS entry of ``layout`` (report templates)."""
        return CARD_LAYOUT_SPECS[layout]

    def _card_sheets(self, layout=None):
        """The A4 sheets of these vouchers: [(layout spec, [[voucher, ...] per row])], each
        batch's vouchers in its batch's A4 layout (``layout``, a CARD_LAYOUTS key, for all;
        a batch printed on a roll is laid out as the default A4 layout here)."""
        sheets = []
        for batch, vouchers in self.grouped("batch_id").items():
            key = layout or batch.card_layout
            spec = CARD_LAYOUT_SPECS.get(key)
            if not spec or spec["paper"] != "a4":
                spec = CARD_LAYOUT_SPECS[DEFAULT_CARD_LAYOUT]
            cols = spec["columns"]
            for page in vouchers._card_pages(spec["per_page"]):
                sheets.append((spec, [list(row) for row in page._card_pages(cols)]))
        return sheets

    def action_print_cards(self):
        """Print these codes as cards, in their batches' layout (one paper at a time)."""
        if not self:
            raise UserError(self.env._("Select the vouchers to print."))
        self.check_access("read")
        papers = {CARD_LAYOUT_SPECS[b.card_layout]["paper"] for b in self.batch_id}
        if len(papers) > 1:
            raise UserError(
                self.env._(
                    "These vouchers' batches print on different papers (A4 and rolls): "
                    "print them batch by batch."
                )
            )
        report = CARD_LAYOUT_SPECS[self.batch_id[:1].card_layout]["report"]
        vouchers = self.sorted(lambda v: (v.batch_id.id, v.id))
        # config=False: the cards have their own layout, not the company's document layout
        return self.env.ref(report).report_action(vouchers, config=False)
