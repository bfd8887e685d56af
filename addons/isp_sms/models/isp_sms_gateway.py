import logging

import requests

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import consteq
from odoo.tools.misc import hmac as hmac_tool
from odoo.tools.urls import urljoin

from ..tools.sms_api_africastalking import SmsApiAfricasTalking
from ..tools.sms_api_nextsms import SmsApiNextSms

_logger = logging.getLogger(__name__)

API_CLASSES = {"nextsms": SmsApiNextSms, "africastalking": SmsApiAfricasTalking}
DLR_TOKEN_SCOPE = "isp_sms.africastalking.dlr"


class IspSmsGateway(models.Model):
    """One SMS gateway account of a company (NextSMS or Africa's Talking).

    A company sends through it when it is the company's ``isp_sms_gateway_id``; companies
    without one keep Odoo's own choice (IAP, or Twilio with sms_twilio).
    """

    _name = "isp.sms.gateway"
    _description = "ISP SMS Gateway"
    _inherit = ["isp.secret.mixin"]
    _order = "company_id, sequence, id"
    _check_company_auto = True
    _isp_secret_fields = {
        "nextsms_password": "nextsms_password_encrypted",
        "at_api_key": "at_api_key_encrypted",
    }

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    provider = fields.Selection(
        [("nextsms", "NextSMS"), ("africastalking", "Africa's Talking")],
        required=True,
        default="nextsms",
    )
    sender_id = fields.Char(
        string="Sender ID", help="The sender name registered with the gateway (e.g. KITONGA)."
    )
    timeout = fields.Integer(
        string="Timeout (s)", default=10, help="Seconds to wait for the gateway's answer."
    )
    batch_size = fields.Integer(
        default=100, help="Messages handed to the gateway per request batch."
    )
    # NextSMS
    nextsms_username = fields.Char(string="NextSMS Username", groups="base.group_system")
    nextsms_password_encrypted = fields.Char(copy=False, groups="base.group_system")
    nextsms_password = fields.Char(
        string="NextSMS Password",
        compute="_compute_isp_secrets",
        inverse="_inverse_isp_secrets",
        groups="base.group_system",
    )
    # Where the credentials go (base URLs, the test path appended to the base URL, the
    # switches between them) belongs to the credentials' group: an ISP manager who could
    # set it and press Send test SMS would send the password or API key to any address.
    nextsms_base_url = fields.Char(
        string="NextSMS Base URL",
        default="https://messaging-service.co.tz",
        groups="base.group_system",
    )
    nextsms_test_mode = fields.Boolean(
        string="NextSMS Test Mode",
        groups="base.group_system",
        help="Send to the test endpoint: nothing is delivered.",
    )
    nextsms_test_path = fields.Char(
        string="NextSMS Test Endpoint",
        default="/api/sms/v1/test/text/single",
        groups="base.group_system",
    )
    # Africa's Talking
    at_username = fields.Char(string="Africa's Talking Username", groups="base.group_system")
    at_api_key_encrypted = fields.Char(copy=False, groups="base.group_system")
    at_api_key = fields.Char(
        string="Africa's Talking API Key",
        compute="_compute_isp_secrets",
        inverse="_inverse_isp_secrets",
        groups="base.group_system",
    )
    at_sandbox = fields.Boolean(string="Sandbox", groups="base.group_system")
    at_base_url = fields.Char(
        string="Africa's Talking Base URL",
        default="https://api.africastalking.com",
        groups="base.group_system",
    )
    at_sandbox_base_url = fields.Char(
        string="Africa's Talking Sandbox URL",
        default="https://api.sandbox.africastalking.com",
        groups="base.group_system",
    )
    at_delivery_report_url = fields.Char(
        string="Delivery Report Callback URL",
        compute="_compute_at_delivery_report_url",
        groups="base.group_system",
        help="Paste this URL as the SMS delivery reports callback in the Africa's Talking "
        "dashboard. It holds a secret: keep it private.",
    )
    test_number = fields.Char(help="Mobile number for a test SMS.")
    last_test_result = fields.Text(readonly=True, copy=False)

    _timeout_positive = models.Constraint(
        "CHECK(timeout > 0 AND timeout <= 120)", "The timeout must be between 1 and 120 seconds."
    )
    _batch_size_positive = models.Constraint(
        "CHECK(batch_size > 0 AND batch_size <= 1000)",
        "The batch size must be between 1 and 1000.",
    )

    @api.depends("provider")
    def _compute_at_delivery_report_url(self):
        for gateway in self:
            gateway.at_delivery_report_url = (
                urljoin(
                    gateway.get_base_url(),
                    f"/isp_sms/africastalking/{gateway.id}/{gateway._dlr_token()}",
                )
                if gateway.id and gateway.provider == "africastalking"
                else False
            )

    def _dlr_token(self):
        self.ensure_one()
        return hmac_tool(self.env(su=True), DLR_TOKEN_SCOPE, self.id)

    def _check_dlr_token(self, token):
        self.ensure_one()
        return bool(token) and consteq(self._dlr_token(), token)

    # ------------------------------------------------------------------ API

    def _get_sms_api(self):
        """An SMS API object bound to this gateway (whether or not the company uses it)."""
        self.ensure_one()
        api_obj = API_CLASSES[self.provider](self.env, gateway=self)
        api_obj._set_company(self.company_id)
        return api_obj

    def action_send_test_sms(self):
        """Send one SMS through this gateway now, via Odoo's SMS queue, and say in plain
        words what happened."""
        self.ensure_one()
        if not self.test_number:
            raise UserError(self.env._("Enter a test number first."))
        sms = (
            self.env["sms.sms"]
            .sudo()
            .create(
                {
                    "number": self._phone_format(
                        number=self.test_number, country=self.company_id.country_id
                    )
                    or self.test_number,
                    "body": self.env._(
                        "Test SMS from %(company)s: the %(gateway)s gateway works.",
                        company=self.company_id.name,
                        gateway=self.name,
                    ),
                    "isp_company_id": self.company_id.id,
                }
            )
        )
        sms.with_context(isp_sms_no_retry=True, sms_api=self._get_sms_api())._send(
            unlink_failed=False, unlink_sent=False, raise_exception=False
        )
        if sms.state in ("pending", "sent"):
            message = self.env._(
                "Sent: %(gateway)s accepted the test SMS to %(number)s.",
                gateway=self.name,
                number=self.test_number,
            )
            kind = "success"
        else:
            reason = sms.isp_failure_reason or dict(
                sms._fields["failure_type"]._description_selection(self.env)
            ).get(sms.failure_type, sms.failure_type)
            message = self.env._(
                "Not sent: %(reason)s", reason=reason or self.env._("unknown error")
            )
            kind = "danger"
        sms.to_delete = True
        self.last_test_result = message
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Test SMS"),
                "message": message,
                "type": kind,
                "sticky": kind == "danger",
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_check_balance(self):
        self.ensure_one()
        if self.provider != "nextsms":
            raise UserError(self.env._("Only NextSMS reports a balance here."))
        try:
            with requests.Session() as session:
                balance = self._get_sms_api().balance(session)
        except (requests.exceptions.RequestException, ValueError) as exc:
            raise UserError(
                self.env._("NextSMS did not report the balance (%(error)s).", error=type(exc))
            ) from exc
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("SMS balance"),
                "message": self.env._("%(count)s SMS left.", count=balance),
                "type": "info",
            },
        }

    # ------------------------------------------------------------------ delivery reports

    def _apply_delivery_report(self, message_id, sms_state, provider_error, final, reason):
        """Apply one delivery report to the SMS trackers (notifications, mailing traces) and
        the SMS of ``message_id``; record final failures on the customer."""
        self.ensure_one()
        trackers = self.env["sms.tracker"].search(
            [("isp_gateway_id", "=", self.id), ("isp_message_id", "=", message_id)]
        )
        if not trackers:
            return False
        trackers._isp_apply_status(sms_state, provider_error, final, reason)
        return True

    @api.model
    def _cron_poll_reports(self, batch_size=200, max_age_days=3):
        """Pull NextSMS delivery reports of messages still waiting for one, each once per
        run, in committed batches; give up on messages older than ``max_age_days``."""
        Tracker = self.env["sms.tracker"]
        cutoff = fields.Datetime.subtract(fields.Datetime.now(), days=max_age_days)
        Tracker.search([("isp_dlr_pending", "=", True), ("create_date", "<", cutoff)]).write(
            {"isp_dlr_pending": False}
        )
        domain = [
            ("isp_dlr_pending", "=", True),
            ("isp_gateway_id.provider", "=", "nextsms"),
            ("isp_gateway_id.active", "=", True),
        ]
        cron = self.env["ir.cron"]
        last_id = 0
        while True:
            todo = domain + [("id", ">", last_id)]
            trackers = Tracker.search(todo, order="id", limit=batch_size)
            if not trackers:
                cron._commit_progress(0, remaining=0)
                break
            last_id = trackers[-1].id
            with requests.Session() as session:
                for gateway, gateway_trackers in trackers.grouped("isp_gateway_id").items():
                    api_obj = gateway._get_sms_api()
                    for tracker in gateway_trackers:
                        tracker._isp_poll_nextsms_report(api_obj, session)
            remaining = Tracker.search_count(domain + [("id", ">", last_id)])
            if not cron._commit_progress(len(trackers), remaining=remaining):
                break
        return True
