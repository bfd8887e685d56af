from datetime import timedelta

from odoo.tests import tagged

from .common import IspSmsCase


@tagged("post_install", "-at_install")
class TestCampaign(IspSmsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partner_model = cls.env["ir.model"]._get("res.partner")

    def _expired(self, phone, days_ago):
        subscription = self._subscription(
            phone, self.daily, -timedelta(days=days_ago), timedelta(days=days_ago + 1)
        )
        subscription.write({"state": "expired"})
        return subscription.partner_id

    def _mailing(self, xmlid, **vals):
        segment = self.env.ref(xmlid)
        return self.env["mailing.mailing"].create(
            {
                "subject": "Come back",
                "mailing_type": "sms",
                "body_plaintext": "We miss you! 20% off any bundle this week.",
                "mailing_model_id": self.partner_model.id,
                "mailing_domain": segment.mailing_domain,
                **vals,
            }
        )

    def test_campaign_reaches_its_segment_only(self):
        recent = self._expired("+255712600001", 3)
        old = self._expired("+255712600002", 10)
        blacklisted = self._expired("+255712600003", 2)
        self.env["phone.blacklist"].sudo().add(blacklisted.phone)
        active = self._customer("+255712600004")
        self._fulfil(active, self.daily, "TX-ACTIVE")
        mailing = self._mailing("isp_sms.mailing_filter_isp_expired_7d")
        recipients = set(mailing._get_recipients())
        self.assertEqual(recipients, {recent.id, blacklisted.id})
        mailing.action_send_sms()
        self._run_sms_queue()
        campaign = [a for a in self.nextsms.accepted if a["text"].startswith("We miss you!")]
        self.assertEqual([a["to"] for a in campaign], [recent.phone[1:]])
        traces = mailing.mailing_trace_ids
        self.assertEqual(
            {t.res_id: t.trace_status for t in traces},
            {recent.id: "pending", blacklisted.id: "cancel"},
        )
        self.assertNotIn(old.id, traces.mapped("res_id"))

    def test_active_pppoe_segment_and_schedule(self):
        pppoe = self._customer("+255712600005")
        self._fulfil(pppoe, self.pppoe, "TX-PPPOE")
        hotspot = self._customer("+255712600006")
        self._fulfil(hotspot, self.daily, "TX-HOTSPOT")
        mailing = self._mailing(
            "isp_sms.mailing_filter_isp_active_pppoe",
            schedule_type="scheduled",
            schedule_date=self._now() - timedelta(minutes=1),
        )
        mailing.action_put_in_queue()
        with self._commit_patch():
            self.env["mailing.mailing"]._process_mass_mailing_queue()
        self._run_sms_queue()
        campaign = [a["to"] for a in self.nextsms.accepted if a["text"].startswith("We miss")]
        self.assertEqual(campaign, [pppoe.phone[1:]])

    def test_segment_other_company_excluded(self):
        other_company = self.env["res.company"].create({"name": "Other ISP"})
        other = self._customer("+255712600007", company=other_company)
        mine = self._customer("+255712600008")
        other_bundle = self.env["product.template"].create(
            {
                "name": "Other PPPoE",
                "is_isp_bundle": True,
                "isp_service_type": "pppoe",
                "list_price": 40000,
                "company_id": other_company.id,
            }
        )
        for partner, bundle in ((other, other_bundle.product_variant_id), (mine, self.pppoe)):
            self.env["isp.subscription"].create(
                {
                    "partner_id": partner.id,
                    "bundle_id": bundle.id,
                    "company_id": partner.company_id.id,
                }
            ).action_activate()
        found = (
            self.env["res.partner"]
            .with_context(allowed_company_ids=self.company.ids)
            .search([("isp_sms_segment", "=", "active_pppoe")])
        )
        self.assertIn(mine, found)
        self.assertNotIn(other, found)
