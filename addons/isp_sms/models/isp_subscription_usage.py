"""Usage-threshold SMS: one SMS per period when a customer has used the company's share of the
data cap (80 % by default)."""

import calendar
import math

from odoo import api, fields, models

from .isp_subscription import isp_sms_guard

TEMPLATE_USAGE_ALERT = "isp_sms.sms_template_isp_usage_alert"


class IspSubscription(models.Model):
    _inherit = "isp.subscription"  # pylint: disable=consider-merging-classes-inherited

    isp_usage_alert_key = fields.Char(
        string="Data Use Alert Sent For",
        copy=False,
        readonly=True,
        help="The period (its start), data cap and threshold of the last data use SMS: one "
        "per period and cap. A new period or more data bought allows the next one.",
    )
    isp_sms_usage_percent = fields.Integer(
        string="Data Used (%, SMS text)", compute="_compute_isp_sms_usage"
    )
    isp_sms_data_cap = fields.Char(string="Data Cap (SMS text)", compute="_compute_isp_sms_usage")
    isp_sms_data_left = fields.Char(string="Data Left (SMS text)", compute="_compute_isp_sms_usage")
    isp_sms_buy_url = fields.Char(
        string="Where to Buy (SMS text)", compute="_compute_isp_sms_usage"
    )

    @api.depends("data_cap_mb", "data_used_mb", "service_type")
    def _compute_isp_sms_usage(self):
        for subscription in self:
            cap = subscription.data_cap_mb
            subscription.isp_sms_usage_percent = (
                min(math.floor(subscription.data_used_mb * 100 / cap), 100) if cap else 0
            )
            subscription.isp_sms_data_cap = self._sms_data_text(cap)
            subscription.isp_sms_data_left = self._sms_data_text(subscription.data_left_mb)
            base = subscription.get_base_url().rstrip("/")
            # hotspot customers buy on the captive page, PPPoE customers in the portal
            path = "/hotspot" if subscription.service_type == "hotspot" else "/my/subscriptions"
            subscription.isp_sms_buy_url = f"{base}{path}"

    @api.model
    def _sms_data_text(self, megabytes):
        """'5 GB', '1.5 GB', '850 MB' (a GB is 1024 MB, as the data caps count)."""
        megabytes = max(megabytes or 0.0, 0.0)
        if megabytes >= 1024:
            return f"{round(megabytes / 1024, 1):g} GB"
        return f"{math.floor(megabytes)} MB"

    def _usage_alert_key(self):
        """This period's and cap's key: the alert is sent once for it."""
        self.ensure_one()
        start = calendar.timegm(self.date_start.timetuple()) if self.date_start else 0
        return f"p{start}:c{self.data_cap_mb}:t{self.company_id.isp_usage_alert_percent}"

    # ------------------------------------------------------------------ hook

    def _data_usage_changed(self, previous):
        """Override of isp_billing's hook: queue the data use SMS of the subscriptions that
        reached their company's threshold."""
        result = super()._data_usage_changed(previous)
        isp_sms_guard(self, "data use SMS", self._sms_usage_alerts)
        return result

    def _sms_usage_alerts(self):
        """One SMS per subscription, period and cap when the data used reaches the company's
        share of the cap while some is left (at the cap, the suspension notice or the
        fair-use slow-down speak). Batch-aware; the key written makes a second poll, or a
        duplicate call, send nothing."""
        due = self.env["isp.subscription"]
        for subscription in self.sudo():
            threshold = subscription.company_id.isp_usage_alert_percent
            cap = subscription.data_cap_mb
            if (
                threshold <= 0
                or not cap
                or subscription.state != "active"
                or subscription.data_used_mb * 100 < cap * threshold
                or subscription.data_used_mb >= cap
                or subscription.isp_usage_alert_key == subscription._usage_alert_key()
            ):
                continue
            due |= subscription
        if not due:
            return {}
        # claimed first: a concurrent poll updating the same rows waits, then finds the key
        for subscription in due:
            subscription.isp_usage_alert_key = subscription._usage_alert_key()
        return due._sms_post(TEMPLATE_USAGE_ALERT)
