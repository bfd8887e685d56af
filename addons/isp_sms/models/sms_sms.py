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

    # ------------------------------------------------------------------ company / API

    def _get_sms_company(self):
        if len(self) > 1:
            companies = self.env["res.company"]
            for sms in self:
                companies |= sms._get_sms_company()
            return companies
        return self.isp_company_id or super()._get_sms_company()

    def _split_by_api(self):
        """Companies with an ISP gateway send through it (one API object per company);
        the others go on to Odoo's choice (IAP, Twilio). SMS waiting for a retry are left
        out until their time comes."""
        now = fields.Datetime.now()
        sms_by_company = defaultdict(lambda: self.env["sms.sms"])
        for sms in self:
            if sms.isp_retry_at and sms.isp_retry_at > now:
                continue
            sms_by_company[sms._get_sms_company()] += sms
        todo_via_super = self.browse()
        for company, company_sms in sms_by_company.items():
            gateway = company.sudo().isp_sms_gateway_id
            if gateway.active:
                yield gateway._isp_sms_api(), company_sms
            else:
                todo_via_super |= company_sms
        if todo_via_super:
            yield from super(SmsSms, todo_via_super)._split_by_api()

    def _get_send_batch_size(self):
        gateways = self._get_sms_company().sudo().isp_sms_gateway_id if self else None
        if gateways and all(gateways.mapped("active")):
            return min(gateways.mapped("batch_size"))
        return super()._get_send_batch_size()

    def _send(self, unlink_failed=False, unlink_sent=True, raise_exception=False):
        # Without an API in the context (the queue cron), sms.sms picks one from a single
        # company: group by company and API first, so mixed batches work.
        if self.env.context.get("sms_api"):
            return super()._send(
                unlink_failed=unlink_failed,
                unlink_sent=unlink_sent,
                raise_exception=raise_exception,
            )
        for sms_api, sms in self._split_by_api():
            for batch_ids in sms._split_batch():
                super(SmsSms, self.browse(batch_ids).with_context(sms_api=sms_api))._send(
                    unlink_failed=unlink_failed,
                    unlink_sent=unlink_sent,
                    raise_exception=raise_exception,
                )
        return True

    @api.model
    def _process_queue(self):
        """sms's queue cron, leaving out SMS whose retry time has not come (otherwise they
        would be picked first at every run and block the queue)."""
        domain = [
            ("state", "=", "outgoing"),
            ("to_delete", "!=", True),
            "|",
            ("isp_retry_at", "=", False),
            ("isp_retry_at", "<=", fields.Datetime.now()),
        ]
        batch_size = self._get_send_batch_size()
        records = self.search(domain, limit=batch_size, order="id").try_lock_for_update()
        if not records:
            return
        records._send(unlink_failed=False, unlink_sent=True, raise_exception=False)
        self.env["ir.cron"]._commit_progress(
            len(records),
            remaining=self.search_count(domain) if len(records) == batch_size else 0,
        )

    def resend_failed(self):
        self.filtered(lambda sms: sms.state == "error").write(
            {"isp_retry_at": False, "isp_attempts": 0}
        )
        return super().resend_failed()

    # ------------------------------------------------------------------ results

    def _handle_call_result_hook(self, results):
        sms_api = self.env.context.get("sms_api")
        if isinstance(sms_api, IspSmsApi):
            self._isp_handle_results(sms_api, results)
        return super()._handle_call_result_hook(results)

    def _isp_handle_results(self, sms_api, results):
        """Keep each gateway answer; store provider message ids on the trackers (sms.sms
        rows are purged after sending); queue transient failures again with a growing
        delay; show failures caused by the number on the customer."""
        gateway = sms_api._isp_gateway()
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
        if retry:
            if self.env.context.get("isp_sms_no_retry"):
                exhausted = retry
            else:
                exhausted = retry.filtered(lambda s: s.isp_attempts + 1 >= MAX_ATTEMPTS)
                (retry - exhausted)._isp_schedule_retry()
            for sms in exhausted:
                sms.isp_attempts += 1
        for reason, sms in customer_failures.items():
            sms.partner_id._isp_sms_record_failure(reason)

    def _isp_schedule_retry(self):
        now = fields.Datetime.now()
        first = None
        for attempts, sms in self.grouped("isp_attempts").items():
            retry_at = now + timedelta(minutes=RETRY_DELAYS[min(attempts, len(RETRY_DELAYS) - 1)])
            sms.write(
                {
                    "state": "outgoing",
                    "failure_type": False,
                    "to_delete": False,
                    "isp_attempts": attempts + 1,
                    "isp_retry_at": retry_at,
                }
            )
            first = min(first or retry_at, retry_at)
        self.sms_tracker_id._action_update_from_sms_state("outgoing")
        self.env.ref("sms.ir_cron_sms_scheduler_action")._trigger(at=first)
