import base64
import logging
from unittest.mock import patch

from odoo.tests import tagged

from odoo.addons.isp_billing.tests.common import captured_logs
from odoo.addons.isp_sms.models.sms_sms import MAX_ATTEMPTS
from odoo.addons.isp_sms.tools.sms_api_africastalking import SmsApiAfricasTalking
from odoo.addons.isp_sms.tools.sms_api_nextsms import SmsApiNextSms
from odoo.addons.sms.tools.sms_api import SmsApi

from .common import AT_API_KEY, NEXTSMS_PASSWORD, IspSmsCase


@tagged("post_install", "-at_install")
class TestGateway(IspSmsCase):
    def _queue(self, numbers, body="Hello from the ISP", company=None):
        return (
            self.env["sms.sms"]
            .sudo()
            .create(
                [
                    {
                        "number": number,
                        "body": body,
                        "isp_company_id": (company or self.company).id,
                    }
                    for number in numbers
                ]
            )
        )

    def test_api_class_per_company(self):
        self.assertIs(self.company._get_sms_api_class(), SmsApiNextSms)
        self.company.isp_sms_gateway_id = self.at_gateway
        self.assertIs(self.company._get_sms_api_class(), SmsApiAfricasTalking)
        other = self.env["res.company"].create({"name": "IAP operator"})
        self.assertIs(other._get_sms_api_class(), SmsApi)
        sms = self._queue(["+255712000001"], company=other)
        apis = [type(api) for api, _sms in sms._split_by_api()]
        self.assertEqual(apis, [SmsApi], "companies without a gateway keep Odoo's IAP")

    def test_queue_of_two_companies(self):
        """One run of sms's queue cron sends each company's SMS through its own gateway."""
        other = self.env["res.company"].create({"name": "Other ISP"})
        self.at_gateway.company_id = other
        other.isp_sms_gateway_id = self.at_gateway
        mine = self._queue(["+255712000001"])
        theirs = self._queue(["+255712000002"], company=other)
        self._run_sms_queue()
        self.assertEqual((mine + theirs).mapped("state"), ["pending", "pending"])
        self.assertEqual([a["to"] for a in self.nextsms.accepted], ["255712000001"])
        self.assertEqual([a["to"] for a in self.at.accepted], ["+255712000002"])

    def test_credentials_encrypted_at_rest(self):
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT nextsms_password_encrypted FROM isp_sms_gateway WHERE id = %s",
            [self.gateway.id],
        )
        stored = self.env.cr.fetchone()[0]
        self.assertTrue(stored)
        self.assertNotIn(NEXTSMS_PASSWORD, stored)
        self.assertEqual(self.gateway._isp_secret("nextsms_password"), NEXTSMS_PASSWORD)

    def test_nextsms_single_and_multi(self):
        one = self._queue(["+255712000001"])
        self._run_sms_queue()
        request = self.nextsms.requests[-1]
        self.assertEqual(request["path"], "/api/sms/v1/text/single")
        expected = base64.b64encode(f"kitonga:{NEXTSMS_PASSWORD}".encode()).decode()
        self.assertEqual(request["headers"]["Authorization"], f"Basic {expected}")
        self.assertEqual(one.state, "pending")
        self.assertEqual(self.nextsms.accepted[0]["to"], "255712000001")
        self.assertEqual(self.nextsms.accepted[0]["from"], "KITONGA")

        many = self._queue(["+255712000002", "+255712000003", "+255712000004"], body="Batch")
        self._run_sms_queue()
        self.assertEqual(self.nextsms.requests[-1]["path"], "/api/sms/v1/text/multi")
        self.assertEqual(set(many.mapped("state")), {"pending"})
        self.assertEqual(len(self.nextsms.accepted), 4)

    def test_nextsms_test_mode(self):
        self.gateway.nextsms_test_mode = True
        sms = self._queue(["+255712000001"])
        self._run_sms_queue()
        self.assertEqual(self.nextsms.requests[-1]["path"], "/api/sms/v1/test/text/single")
        self.assertTrue(self.nextsms.accepted[0]["test"])
        self.assertEqual(sms.state, "pending")

    def _assert_retried_once(self, failure):
        sms = self._queue(["+255712000001", "+255712000002"])
        self.nextsms.fail_next(failure)
        self._run_sms_queue()
        self.assertEqual(set(sms.mapped("state")), {"process"}, "to be retried, not failed")
        self.assertEqual(set(sms.mapped("isp_attempts")), {1})
        self.assertTrue(all(s.isp_retry_at > self._now() for s in sms))
        self.assertFalse(self.nextsms.accepted)
        requests_before = len(self.nextsms.requests)
        self._run_sms_queue()  # not due yet: the gateway is left alone
        self.assertEqual(len(self.nextsms.requests), requests_before)
        self._make_due(sms)
        self._run_sms_queue()
        self.assertEqual(set(sms.mapped("state")), {"pending"})
        self._run_sms_queue()
        self.assertEqual(
            sorted(a["to"] for a in self.nextsms.accepted),
            ["255712000001", "255712000002"],
            "each SMS reached the gateway exactly once",
        )

    def test_http_5xx_retried_later_without_duplicates(self):
        self._assert_retried_once("http503")

    def test_timeout_retried_later_without_duplicates(self):
        with self._real_timeouts():
            self._assert_retried_once("timeout")

    def test_retries_give_up(self):
        sms = self._queue(["+255712000001"])
        for _attempt in range(MAX_ATTEMPTS):
            self.nextsms.fail_next("http500")
            self._make_due(sms)
            self._run_sms_queue()
        self.assertEqual(sms.state, "error")
        self.assertEqual(sms.failure_type, "sms_server")
        self.assertIn("HTTP 500", sms.isp_failure_reason)

    def test_rejected_number_recorded(self):
        partner = self._customer("+255712000014")
        sms = self._queue([partner.phone])
        sms.partner_id = partner
        self.nextsms.reject["255712000014"] = "REJECTED_DESTINATION"
        self._run_sms_queue()
        self.assertEqual(sms.state, "error")
        self.assertEqual(sms.failure_type, "sms_number_format")
        self.assertIn("REJECTED_DESTINATION", sms.isp_failure_reason)
        self.assertTrue(partner.isp_sms_failure_date)
        self.assertIn("REJECTED_DESTINATION", partner.isp_sms_failure_reason)

    def test_failure_types(self):
        cases = {
            "REJECTED_NOT_ENOUGH_CREDITS": "sms_credit",
            "REJECTED_DND": "sms_blacklist",
            "REJECTED_NETWORK": "sms_not_allowed",
            "REJECTED_FLOODING_FILTER": "sms_rejected",
            "REJECTED_SENDER": "sms_acc",
        }
        numbers = {name: f"+2557120001{i:02d}" for i, name in enumerate(cases)}
        for name, number in numbers.items():
            self.nextsms.reject[number[1:]] = name
        sms = self._queue(list(numbers.values()))
        self._run_sms_queue()
        by_number = {s.number: s.failure_type for s in sms}
        self.assertEqual({name: by_number[number] for name, number in numbers.items()}, cases)

    def test_wrong_credentials(self):
        self.gateway.nextsms_password = "wrong"
        sms = self._queue(["+255712000001"])
        self._run_sms_queue()
        self.assertEqual((sms.state, sms.failure_type), ("error", "sms_acc"))
        self.assertFalse(self.nextsms.accepted)

    def test_africastalking(self):
        self.company.isp_sms_gateway_id = self.at_gateway
        self.at.reject["+255712000009"] = 406
        ok, blacklisted = self._queue(["+255712000001", "+255712000009"])
        self._run_sms_queue()
        request = self.at.requests[-1]
        self.assertEqual(request["headers"]["apiKey"], AT_API_KEY)
        self.assertEqual(ok.state, "pending")
        self.assertEqual(self.at.accepted[0]["to"], "+255712000001")
        self.assertEqual((blacklisted.state, blacklisted.failure_type), ("error", "sms_blacklist"))

    def test_africastalking_5xx_retried(self):
        self.company.isp_sms_gateway_id = self.at_gateway
        sms = self._queue(["+255712000001"])
        self.at.fail_next("http502")
        self._run_sms_queue()
        self.assertEqual(sms.state, "process")
        self._make_due(sms)
        self._run_sms_queue()
        self.assertEqual(sms.state, "pending")
        self.assertEqual(len(self.at.accepted), 1)

    def test_send_test_sms_button(self):
        self.gateway.test_number = "+255712000001"
        action = self.gateway.action_send_test_sms()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("Sent", self.gateway.last_test_result)
        self.assertEqual(len(self.nextsms.accepted), 1)

        self.gateway.nextsms_password = "wrong"
        action = self.gateway.action_send_test_sms()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("refused the credentials", action["params"]["message"])

        self.gateway.nextsms_password = NEXTSMS_PASSWORD
        self.nextsms.fail_next("http503")
        # other tests (committed fixtures) may have left SMS in the queue: look at new ones only
        queued = [("state", "in", ["outgoing", "process"])]
        queued_before = self.env["sms.sms"].sudo().search(queued)
        action = self.gateway.action_send_test_sms()
        self.assertIn("unavailable (HTTP 503)", action["params"]["message"])
        self.assertFalse(
            self.env["sms.sms"].sudo().search(queued) - queued_before,
            "a test SMS is never retried",
        )

    def test_balance(self):
        action = self.gateway.action_check_balance()
        self.assertIn("SMS left", action["params"]["message"])

    def test_credentials_never_logged(self):
        debug = dict.fromkeys(["", "odoo", "odoo.addons"], logging.DEBUG)
        sql_log = logging.getLogger("odoo.sql_db")
        with captured_logs(debug) as records, patch.object(sql_log, "disabled", True):
            self._queue(["+255712000001"])
            self._run_sms_queue()
            self.nextsms.fail_next("http500")
            sms = self._queue(["+255712000002"])
            self._run_sms_queue()
            self.nextsms.fail_next("timeout")
            self._make_due(sms)
            with self._real_timeouts():
                self._run_sms_queue()
            self.company.isp_sms_gateway_id = self.at_gateway
            self._queue(["+255712000003"])
            self._run_sms_queue()
            self.at_gateway.at_api_key = "bad-key-not-secret"
            self._queue(["+255712000004"])
            self._run_sms_queue()
            self.gateway.test_number = "+255712000005"
            self.gateway.action_send_test_sms()
        text = "\n".join(records)
        self.assertIn("NextSMS", text, "the sends were logged")
        basic = base64.b64encode(f"kitonga:{NEXTSMS_PASSWORD}".encode()).decode()
        for secret in (NEXTSMS_PASSWORD, AT_API_KEY, basic):
            self.assertNotIn(secret, text)
