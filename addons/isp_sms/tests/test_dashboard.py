from odoo.tests import tagged

from .common import IspSmsCase


@tagged("post_install", "-at_install")
class TestSmsDashboard(IspSmsCase):
    """isp_sms's figures on isp_billing's dashboard: the customers' SMS notifications sent
    and failed in the dashboard's period through the gateway (simulator), the queue, the
    failing customers."""

    def _cards(self):
        data = (
            self.env["isp.dashboard"]
            .with_context(allowed_company_ids=self.company.ids)
            .get_dashboard_data()
        )
        section = next(s for s in data["sections"] if s["key"] == "sms")
        return {card["key"]: card for card in section["cards"]}

    def test_sent_failed_and_queued_today(self):
        ok = self._customer("+255712300101")
        bad = self._customer("+255712300102")
        self.nextsms.reject["255712300102"] = "REJECTED_DESTINATION"
        self._fulfil(ok, self.daily, "DASH-SMS-1")
        self._fulfil(bad, self.daily, "DASH-SMS-2")
        cards = self._cards()
        # each first purchase: a confirmation (chatter) and the login SMS, both waiting
        self.assertEqual(cards["sms_queued"]["value"], 4)
        self.assertEqual(cards["sms_sent"]["value"], 0)
        self.assertEqual(cards["sms_failed"]["value"], 0)
        self._run_sms_queue()
        self.assertEqual(len(self.nextsms.accepted), 2)
        cards = self._cards()
        self.assertEqual(cards["sms_queued"]["value"], 0)
        self.assertEqual(cards["sms_sent"]["value"], 1)
        self.assertEqual(cards["sms_failed"]["value"], 1)
        self.assertEqual(cards["sms_failing_customers"]["value"], 1)
        Notification = self.env["mail.notification"]
        failed = Notification.search(cards["sms_failed"]["action"]["domain"])
        self.assertEqual(failed.res_partner_id, bad)
        sent = Notification.search(cards["sms_sent"]["action"]["domain"])
        self.assertEqual(sent.res_partner_id, ok)
        failing = self.env["res.partner"].search(cards["sms_failing_customers"]["action"]["domain"])
        self.assertEqual(failing, bad)
