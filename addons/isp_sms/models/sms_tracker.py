from odoo import fields, models

from ..tools.sms_api_nextsms import NEXTSMS_DLR_GROUPS


class SmsTracker(models.Model):
    _inherit = "sms.tracker"

    isp_gateway_id = fields.Many2one("isp.sms.gateway", string="Gateway", ondelete="set null")
    isp_message_id = fields.Char(string="Gateway Message ID", index="btree_not_null")
    isp_dlr_pending = fields.Boolean(string="Awaiting Delivery Report")
    isp_dlr_checked_at = fields.Datetime(string="Report Checked At")
    isp_dlr_status = fields.Char(string="Delivery Report")

    # NextSMS polling reads only the messages still waiting for a report.
    _isp_dlr_pending_idx = models.Index("(id) WHERE isp_dlr_pending IS TRUE")

    def _isp_partners(self):
        partners = self.mail_notification_id.res_partner_id
        traces = self.mailing_trace_id.filtered(lambda t: t.model == "res.partner")
        partners |= self.env["res.partner"].browse(traces.mapped("res_id")).exists()
        return partners

    def _isp_apply_status(self, sms_state, provider_error, final, reason):
        """Apply a gateway delivery status: ``sms_state`` ('pending' sent / 'sent'
        delivered) for a success, else ``provider_error`` (rejected, not_delivered,
        expired, ...) with ``reason``; ``final`` when no other report will follow."""
        sms = self.env["sms.sms"].sudo().search([("uuid", "in", self.mapped("sms_uuid"))])
        status = reason or provider_error or sms_state
        if provider_error:
            self.with_context(sms_known_failure_reason=reason)._action_update_from_provider_error(
                provider_error
            )
            sms.filtered(lambda s: s.state not in ("sent", "error")).write(
                {"state": "error", "failure_type": f"sms_{provider_error}"}
            )
        else:
            self._action_update_from_sms_state(sms_state)
            sms.filtered(lambda s: s.state not in ("sent", "error")).write({"state": sms_state})
        self.write({"isp_dlr_pending": not final, "isp_dlr_status": status})
        if final:
            partners = self._isp_partners() | sms.partner_id
            if provider_error:
                partners._isp_sms_record_failure(reason or provider_error)
            else:
                partners.filtered("isp_sms_failure_date").write(
                    {"isp_sms_failure_date": False, "isp_sms_failure_reason": False}
                )
        return True

    def _isp_poll_nextsms_report(self, api_obj, session):
        self.ensure_one()
        report = api_obj.fetch_report(session, self.isp_message_id)
        self.isp_dlr_checked_at = fields.Datetime.now()
        if report is None:
            return False
        group, name, description = report
        if group not in NEXTSMS_DLR_GROUPS:
            return False
        state, error, final = NEXTSMS_DLR_GROUPS[group]
        reason = f"NextSMS: {name} ({description})" if error else False
        return self._isp_apply_status(state, error, final, reason)
