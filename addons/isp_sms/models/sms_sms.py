from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models

from ..tools.sms_api import RETRY, SUCCESS, IspSmsApi

# minutes to wait before attempt n + 1 after a transient gateway error (5xx, timeout, ...)
RETRY_DELAYS = [1, 5, 15, 60]
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# result states that are the customer's number's fault: shown on the customer
CUSTOMER_FAILURES = {
    "wrong_number_format",
    "sms_number_missing",
    "isp_rejected",
    "isp_blacklisted",
    "isp_not_allowed",
    "isp_invalid_destination",
}


class SmsSms(models.Model):
    """The ISP gateways plugged into Odoo's SMS queue the way sms_twilio plugs Twilio: per
    company API objects (``_split_by_api``), provider ids kept on the trackers for delivery
    reports (``_handle_call_result_hook``). A transient gateway error puts the SMS in state
    ``process`` until its retry time (``isp_retry_at``), when sms's queue cron takes it again."""

    _inherit = "sms.sms"

    failure_type = fields.Selection(
        selection_add=[
            ("sms_rejected", "Rejected"),
            ("sms_invalid_destination", "Invalid Destination"),
            ("sms_not_allowed", "Not Allowed"),
            ("sms_not_delivered", "Not Delivered"),
            ("sms_expired", "Expired"),
        ]
    )
    isp_company_id = fields.Many2one(
        "res.company",
        string="Sending Company",
        ondelete="set null",
        help="Company whose SMS gateway sends this SMS (when it has no chatter message).",
    )
    isp_attempts = fields.Integer(string="Attempts", readonly=True, copy=False)
    isp_retry_at = fields.Datetime(
        string="Retry At", readonly=True, copy=False, index="btree_not_null"
    )
    isp_failure_reason = fields.Char(string="Gateway Answer", readonly=True, copy=False)

    def _get_sms_company(self):
        """Override of sms to send SMS without a chatter message (login codes, campaigns)
        through their own company."""
        companies = self.mail_message_id.record_company_id | self.isp_company_id
        return companies or super()._get_sms_company()

    def _split_by_api(self):
        """Override of sms to send each company's SMS through its ISP gateway, if any (one API
        object per company); the others go on to Odoo's choice (IAP, Twilio)."""
        others = self.browse()
        for company, company_sms in self.grouped(lambda sms: sms._get_sms_company()).items():
            gateway = company.sudo().isp_sms_gateway_id
            if gateway.active:
                yield gateway._get_sms_api(), company_sms
            else:
                others |= company_sms
        if others:
            yield from super(SmsSms, others)._split_by_api()

    def _get_send_batch_size(self):
        """Override of sms to hand the ISP gateways batches of their own size."""
        gateways = self and self._get_sms_company().sudo().isp_sms_gateway_id
        if gateways and all(gateways.mapped("active")):
            return min(gateways.mapped("batch_size"))
        return super()._get_send_batch_size()

    def _send(self, unlink_failed=False, unlink_sent=True, raise_exception=False):
        """Override of sms to send a batch of several companies (sms's queue cron) through
        each company's API."""
        if self.env.context.get("sms_api"):
            return super()._send(unlink_failed, unlink_sent, raise_exception)
        for sms_api, sms in self._split_by_api():
            for batch_ids in sms._split_batch():
                self.browse(batch_ids).with_context(sms_api=sms_api)._send(
                    unlink_failed, unlink_sent, raise_exception
                )
        return True

    @api.model
    def _process_queue(self):
        """Override of sms's queue cron to queue again the SMS whose retry time has come."""
        self.search(
            [("state", "=", "process"), ("isp_retry_at", "<=", fields.Datetime.now())]
        ).write({"state": "outgoing", "isp_retry_at": False})
        return super()._process_queue()

    def resend_failed(self):
        """Override of sms to give SMS resent by hand their automatic retries again."""
        self.filtered(lambda sms: sms.state == "error").isp_attempts = 0
        return super().resend_failed()

    def _handle_call_result_hook(self, results):
        """Override of sms to keep the ISP gateways' answers (``_isp_handle_results``)."""
        sms_api = self.env.context.get("sms_api")
        if isinstance(sms_api, IspSmsApi):
            self._isp_handle_results(sms_api._gateway(), results)
        return super()._handle_call_result_hook(results)

    def _isp_handle_results(self, gateway, results):
        """Keep each gateway answer; store provider message ids on the trackers (sms.sms
        rows are purged after sending); send transient failures again later with a growing
        delay; show failures caused by the number on the customer."""
        by_uuid = self.grouped("uuid")
        retry = self.browse()
        customer_failures = defaultdict(lambda: self.env["sms.sms"])
        for result in results:
            sms = by_uuid.get(result.get("uuid"))
            if not sms:
                continue
            state = result.get("state")
            if result.get("failure_reason"):
                sms.isp_failure_reason = result["failure_reason"]
            if state == SUCCESS:
                if result.get("isp_message_id") and sms.sms_tracker_id:
                    sms.sms_tracker_id.write(
                        {
                            "isp_gateway_id": gateway.id,
                            "isp_message_id": result["isp_message_id"],
                            "isp_dlr_pending": True,
                        }
                    )
            elif state == RETRY:
                retry |= sms
            elif state in CUSTOMER_FAILURES:
                customer_failures[result.get("failure_reason") or state] |= sms
        exhausted = retry
        if not self.env.context.get("isp_sms_no_retry"):
            exhausted = retry.filtered(lambda s: s.isp_attempts + 1 >= MAX_ATTEMPTS)
            (retry - exhausted)._isp_schedule_retry()
        for sms in exhausted:
            sms.isp_attempts += 1
        for reason, sms in customer_failures.items():
            sms.partner_id._isp_sms_record_failure(reason)

    def _isp_schedule_retry(self):
        if not self:
            return
        now = fields.Datetime.now()
        for attempts, sms in self.grouped("isp_attempts").items():
            sms.write(
                {
                    "state": "process",
                    "failure_type": False,
                    "to_delete": False,
                    "isp_attempts": attempts + 1,
                    "isp_retry_at": now + timedelta(minutes=RETRY_DELAYS[attempts]),
                }
            )
        self.sms_tracker_id._action_update_from_sms_state("process")
        cron = self.env.ref("sms.ir_cron_sms_scheduler_action")
        cron._trigger(at=min(self.mapped("isp_retry_at")))
