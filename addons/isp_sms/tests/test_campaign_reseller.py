from odoo.tests import tagged

from .common import IspSmsCase


@tagged("post_install", "-at_install")
class TestResellerCampaign(IspSmsCase):
    """The "a reseller's customers" segment: the customers who redeemed that reseller's
    codes, and nobody else."""

    def _reseller_batch(self, name, quantity=3):
        reseller = self.env["res.partner"].create(
            {"name": name, "isp_is_reseller": True, "company_id": self.company.id}
        )
        batch = self.env["isp.voucher.batch"].create(
            {"bundle_id": self.daily.id, "quantity": quantity, "reseller_id": reseller.id}
        )
        batch.action_generate()
        return reseller, batch.voucher_ids.mapped("code")

    def test_campaign_reaches_the_resellers_customers_only(self):
        reseller, codes = self._reseller_batch("Duka la Mama")
        other, other_codes = self._reseller_batch("Kibanda Shop")
        Voucher = self.env["isp.voucher"]
        Voucher._redeem(codes[0], "+255712610001")
        Voucher._redeem(codes[1], "+255712610002")
        Voucher._redeem(other_codes[0], "+255712610003")
        self._fulfil(self._customer("+255712610004"), self.daily, "TX-NOT-A-VOUCHER")
        mine = self.env["res.partner"].search([("phone", "in", ["+255712610001", "+255712610002"])])

        action = reseller.action_isp_sms_reseller_campaign()
        mailing = self.env["mailing.mailing"].browse(action["res_id"])
        self.assertEqual(mailing.mailing_type, "sms")
        self.assertEqual(set(mailing._get_recipients()), set(mine.ids))

        mailing.body_plaintext = "Karibu! New bundles at Duka la Mama."
        mailing.action_send_sms()
        self._run_sms_queue()
        sent = [a["to"] for a in self.nextsms.accepted if a["text"].startswith("Karibu!")]
        self.assertEqual(sorted(sent), ["255712610001", "255712610002"])
        self.assertEqual(set(mailing.mailing_trace_ids.mapped("res_id")), set(mine.ids))
        self.assertTrue(other)
