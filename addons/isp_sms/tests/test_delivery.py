from urllib.parse import urlsplit

from odoo.tests import HttpCase, tagged

from .common import IspSmsCase

DELIVERED = {
    "groupId": 3,
    "groupName": "DELIVERED",
    "id": 5,
    "name": "DELIVERED_TO_HANDSET",
    "description": "Message delivered to handset",
}
UNDELIVERABLE = {
    "groupId": 2,
    "groupName": "UNDELIVERABLE",
    "id": 9,
    "name": "UNDELIVERABLE_NOT_DELIVERED",
    "description": "Message sent not delivered",
}


@tagged("post_install", "-at_install")
class TestDelivery(IspSmsCase, HttpCase):
    def _notified(self, phone, reference):
        """A customer confirmed by SMS through the company's gateway: (partner, tracker of
        the confirmation SMS; the credentials SMS, noted in the chatter, has its own)."""
        partner = self._customer(phone)
        self._fulfil(partner, self.daily, reference)
        self._run_sms_queue()
        tracker = self.env["sms.tracker"].search(
            [
                ("mail_notification_id.res_partner_id", "=", partner.id),
                ("mail_notification_id.mail_message_id.message_type", "=", "sms"),
                ("isp_message_id", "!=", False),
            ]
        )
        self.assertEqual(len(tracker), 1)
        self.assertTrue(tracker.isp_dlr_pending)
        self.assertEqual(tracker.mail_notification_id.notification_status, "pending")
        return partner, tracker

    def _post_report(self, path, **form):
        return self.url_open(path, data=form, allow_redirects=False)

    def test_africastalking_callback(self):
        self.company.isp_sms_gateway_id = self.at_gateway
        path = urlsplit(self.at_gateway.at_delivery_report_url).path
        partner, tracker = self._notified("+255712500001", "TX-D1")
        form = {"phoneNumber": partner.phone, "networkCode": "64002"}

        response = self._post_report(path, id=tracker.isp_message_id, status="Buffered", **form)
        self.assertEqual(response.status_code, 200)
        response = self._post_report(path, id=tracker.isp_message_id, status="Success", **form)
        self.assertEqual(response.status_code, 200)
        self.env.invalidate_all()
        self.assertEqual(tracker.mail_notification_id.notification_status, "sent")
        self.assertFalse(tracker.isp_dlr_pending)

        other, failed = self._notified("+255712500002", "TX-D2")
        response = self._post_report(
            path,
            id=failed.isp_message_id,
            status="Failed",
            failureReason="DeliveryFailure",
            phoneNumber=other.phone,
        )
        self.assertEqual(response.status_code, 200)
        self.env.invalidate_all()
        notification = failed.mail_notification_id
        self.assertEqual(notification.notification_status, "exception")
        self.assertEqual(notification.failure_type, "sms_not_delivered")
        self.assertIn("DeliveryFailure", other.isp_sms_failure_reason)
        self.assertIn("DeliveryFailure", other.message_ids[0].body)

    def test_africastalking_callback_refused(self):
        self.company.isp_sms_gateway_id = self.at_gateway
        path = urlsplit(self.at_gateway.at_delivery_report_url).path
        _partner, tracker = self._notified("+255712500003", "TX-D3")
        wrong = path.rsplit("/", 1)[0] + "/" + "0" * 64
        response = self._post_report(wrong, id=tracker.isp_message_id, status="Success")
        self.assertEqual(response.status_code, 404)
        nextsms_path = path.replace(f"/{self.at_gateway.id}/", f"/{self.gateway.id}/")
        response = self._post_report(nextsms_path, id=tracker.isp_message_id, status="Success")
        self.assertEqual(response.status_code, 404)
        response = self._post_report(path, id=tracker.isp_message_id, status="Whatever")
        self.assertEqual(response.status_code, 400)
        self.env.invalidate_all()
        self.assertEqual(tracker.mail_notification_id.notification_status, "pending")

    def _poll(self):
        reports = []
        with self._commit_patch(reports):
            self.env["isp.sms.gateway"]._cron_poll_reports()
        return reports

    def test_nextsms_polling(self):
        partner, tracker = self._notified("+255712500004", "TX-D4")
        other, failed = self._notified("+255712500005", "TX-D5")
        self._poll()  # no report yet: both stay pending
        self.assertTrue(tracker.isp_dlr_pending and failed.isp_dlr_pending)
        self.nextsms.reports[tracker.isp_message_id] = DELIVERED
        self.nextsms.reports[failed.isp_message_id] = UNDELIVERABLE
        # the credentials SMS are tracked too (their chatter notes show the delivery)
        credentials = self.env["sms.tracker"].search(
            [("isp_dlr_pending", "=", True), ("id", "not in", (tracker | failed).ids)]
        )
        self.assertEqual(
            credentials.mail_notification_id.mail_message_id.mapped("message_type"),
            ["notification", "notification"],
        )
        for credential in credentials:
            self.nextsms.reports[credential.isp_message_id] = DELIVERED
        reports = self._poll()
        self.assertEqual(
            credentials.mail_notification_id.mapped("notification_status"), ["sent", "sent"]
        )
        self.assertEqual(reports[-1], (0, 0))
        self.assertEqual(tracker.mail_notification_id.notification_status, "sent")
        self.assertEqual(failed.mail_notification_id.notification_status, "exception")
        self.assertEqual(failed.mail_notification_id.failure_type, "sms_not_delivered")
        self.assertIn("UNDELIVERABLE_NOT_DELIVERED", other.isp_sms_failure_reason)
        self.assertFalse(partner.isp_sms_failure_date)
        requests = len(self.nextsms.requests)
        self._poll()
        self.assertEqual(len(self.nextsms.requests), requests, "final reports are not polled")
