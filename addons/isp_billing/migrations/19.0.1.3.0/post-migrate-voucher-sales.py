"""Vouchers bought by a reseller were paid by the purchase invoice: mark them sold by it, so
that they are never sold or counted again (isp.voucher.sale_move_id, is_sold). Batches print
in the company's default card layout."""


def migrate(cr, version):
    cr.execute(
        """
        UPDATE isp_voucher v
           SET sale_move_id = p.invoice_id, is_sold = TRUE, date_sold = p.date
          FROM isp_reseller_purchase p
         WHERE p.batch_id = v.batch_id AND p.invoice_id IS NOT NULL
           AND v.sale_move_id IS NULL
        """
    )
    cr.execute(
        """
        UPDATE isp_voucher_batch b
           SET card_layout = COALESCE(c.isp_voucher_card_layout, 'a4_30')
          FROM res_company c
         WHERE c.id = b.company_id AND b.card_layout IS NULL
        """
    )
