from datetime import timedelta

from odoo import api, fields, models
from odoo.fields import Domain

SEGMENTS = [
    ("expired_7d", "Expired in the last 7 days"),
    ("active_pppoe", "Active PPPoE"),
    ("active_hotspot", "Active hotspot"),
    ("active", "Active (any service)"),
]


class ResPartner(models.Model):
    _inherit = "res.partner"

    isp_sms_failure_date = fields.Datetime(
        string="Last SMS Failure", readonly=True, copy=False, index="btree_not_null"
    )
    isp_sms_failure_reason = fields.Char(string="SMS Failure Reason", readonly=True, copy=False)
    isp_sms_segment = fields.Selection(
        SEGMENTS,
        string="ISP Segment",
        compute="_compute_isp_sms_segment",
        search="_search_isp_sms_segment",
        help="Customer segments for SMS campaigns, evaluated when the campaign is sent.",
    )

    isp_sms_pay_hint = fields.Char(
        string="How to Pay (SMS text)",
        compute="_compute_isp_sms_pay_hint",
        help="For SMS asking the customer to pay: ' Pay by M-Pesa Paybill <number>, account "
        "<account number>.' in the customer's language when the company has a Paybill / Till "
        "number, else empty.",
    )

    @api.depends("isp_account_number", "is_isp_customer", "company_id.isp_paybill_number")
    @api.depends_context("lang")
    def _compute_isp_sms_pay_hint(self):
        for partner in self:
            details = partner._isp_payment_details()
            partner.isp_sms_pay_hint = (
                " "
                + self.env._(
                    "Pay by M-Pesa Paybill %(paybill)s, account %(account)s.",
                    paybill=details["isp_paybill_number"],
                    account=details["isp_account_number"],
                )
                if details["isp_paybill_number"]
                else ""
            )

    def _compute_isp_sms_segment(self):
        # Only meant for searching (mailing filters); a customer may be in several segments.
        self.isp_sms_segment = False

    @api.model
    def _isp_segment_subscription_domain(self, segment):
        if segment == "expired_7d":
            since = fields.Datetime.now() - timedelta(days=7)
            return Domain("state", "=", "expired") & Domain("date_expiry", ">=", since)
        if segment == "active_pppoe":
            return Domain("state", "=", "active") & Domain("service_type", "=", "pppoe")
        if segment == "active_hotspot":
            return Domain("state", "=", "active") & Domain("service_type", "=", "hotspot")
        return Domain("state", "=", "active")

    def _search_isp_sms_segment(self, operator, value):
        if operator not in ("=", "in"):
            return NotImplemented
        segments = [value] if operator == "=" else list(value)
        subscription_domain = Domain.OR(
            self._isp_segment_subscription_domain(segment) for segment in segments
        )
        return (
            Domain("is_isp_customer", "=", True)
            & Domain("company_id", "in", self.env.companies.ids)
            & Domain("isp_subscription_ids", "any", subscription_domain)
        )

    @api.model
    def _isp_sms_reseller_domain(self, resellers):
        """The "customers of these resellers" segment: the ISP customers who redeemed their
        voucher codes (a mailing domain, evaluated when the campaign is sent)."""
        return [
            ("is_isp_customer", "=", True),
            ("isp_voucher_reseller_ids", "in", resellers.commercial_partner_id.ids),
        ]

    def action_isp_sms_reseller_campaign(self):
        """A draft SMS campaign (Odoo's SMS marketing) to this reseller's customers."""
        self.ensure_one()
        mailing = self.env["mailing.mailing"].create(
            {
                "subject": self.env._("Customers of %(reseller)s", reseller=self.display_name),
                "mailing_type": "sms",
                "mailing_model_id": self.env["ir.model"]._get_id("res.partner"),
                "mailing_domain": repr(self._isp_sms_reseller_domain(self)),
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "mailing.mailing",
            "res_id": mailing.id,
            "view_mode": "form",
            "context": {"default_mailing_type": "sms"},
        }

    def _isp_sms_record_failure(self, reason):
        """Show a final SMS failure on these customers (field + chatter note)."""
        customers = self.filtered("is_isp_customer")
        if not customers:
            return
        customers.sudo().write(
            {"isp_sms_failure_date": fields.Datetime.now(), "isp_sms_failure_reason": reason}
        )
        for partner in customers.sudo():
            partner.message_post(
                body=self.env._("SMS not delivered: %(reason)s", reason=reason),
                message_type="comment",
                subtype_xmlid="mail.mt_note",
            )
