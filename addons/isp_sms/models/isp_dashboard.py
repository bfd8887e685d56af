from odoo import api, models

SENT_STATUSES = ["pending", "sent"]
FAILED_STATUSES = ["exception", "bounce"]


class IspDashboard(models.AbstractModel):
    """SMS on the ISP dashboard: notifications sent and failed in the dashboard's period
    (the chatter SMS of customers and subscriptions: confirmations, reminders, expiry), the
    queue, and the customers whose last SMS failed."""

    _inherit = "isp.dashboard"

    @api.model
    def _dashboard_sections(self, ctx):
        """Override of isp_billing's dashboard to add the SMS section."""
        sections = super()._dashboard_sections(ctx)
        if self.env["mail.notification"].has_access("read"):
            sections.append(self._section_sms(ctx))
        return sections

    @api.model
    def _section_sms(self, ctx):
        Notification = self.env["mail.notification"]
        period = [
            ("notification_type", "=", "sms"),
            ("mail_message_id.date", ">=", ctx["period_from"]),
            ("mail_message_id.record_company_id", "in", ctx["companies"].ids),
        ]
        by_status = dict(Notification._read_group(period, ["notification_status"], ["__count"]))
        sent = [*period, ("notification_status", "in", SENT_STATUSES)]
        failed = [*period, ("notification_status", "in", FAILED_STATUSES)]
        window = ctx["window"]
        failing_customers = [
            *ctx["company_domain"],
            ("is_isp_customer", "=", True),
            ("isp_sms_failure_date", "!=", False),
        ]
        cards = [
            self._card(
                "sms_sent",
                self.env._("SMS sent"),
                sum(by_status.get(status, 0) for status in SENT_STATUSES),
                self._action(
                    self.env._("SMS sent (%(window)s)", window=window), "mail.notification", sent
                ),
                tone="success",
                window=window,
            ),
            self._card(
                "sms_failed",
                self.env._("SMS failed"),
                sum(by_status.get(status, 0) for status in FAILED_STATUSES),
                self._action(
                    self.env._("SMS failed (%(window)s)", window=window),
                    "mail.notification",
                    failed,
                ),
                tone="danger",
                window=window,
            ),
            self._card(
                "sms_failing_customers",
                self.env._("Customers whose last SMS failed"),
                self.env["res.partner"].search_count(failing_customers),
                self._action(
                    self.env._("Customers whose last SMS failed"), "res.partner", failing_customers
                ),
                tone="warning",
                window=self._now_label(),
            ),
        ]
        Sms = self.env["sms.sms"]
        if Sms.has_access("read"):
            queued = [
                ("state", "in", ["outgoing", "process"]),
                ("to_delete", "=", False),
                "|",
                ("isp_company_id", "in", ctx["companies"].ids),
                ("mail_message_id.record_company_id", "in", ctx["companies"].ids),
            ]
            cards.append(
                self._card(
                    "sms_queued",
                    self.env._("SMS waiting to be sent"),
                    Sms.search_count(queued),
                    self._action(self.env._("SMS waiting to be sent"), "sms.sms", queued),
                    window=self._now_label(),
                )
            )
        return {"key": "sms", "title": self.env._("SMS"), "sequence": 80, "cards": cards}
