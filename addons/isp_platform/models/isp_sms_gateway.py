from odoo import api, fields, models

from .operator_access import (
    check_company_move,
    compute_operator_fields,
    create_with_operator_fields,
    operator_field,
    split_operator_values,
    write_operator_fields,
)

# operator field -> isp_sms's account field (base.group_system); the base URLs and the test
# path stay the platform's
OPERATOR_FIELDS = {
    "isp_op_nextsms_username": "nextsms_username",
    "isp_op_nextsms_password": "nextsms_password",
    "isp_op_nextsms_test_mode": "nextsms_test_mode",
    "isp_op_at_username": "at_username",
    "isp_op_at_api_key": "at_api_key",
    "isp_op_at_sandbox": "at_sandbox",
    "isp_op_at_delivery_report_url": "at_delivery_report_url",
}


class IspSmsGateway(models.Model):
    """The operator administrator creates its own company's SMS gateway and enters its
    account (``operator_access``)."""

    _inherit = "isp.sms.gateway"

    isp_op_nextsms_username = operator_field(fields.Char, "NextSMS Username")
    isp_op_nextsms_password = operator_field(fields.Char, "NextSMS Password")
    isp_op_nextsms_test_mode = operator_field(fields.Boolean, "NextSMS Test Mode")
    isp_op_at_username = operator_field(fields.Char, "Africa's Talking Username")
    isp_op_at_api_key = operator_field(fields.Char, "Africa's Talking API Key")
    isp_op_at_sandbox = operator_field(fields.Boolean, "Sandbox")
    isp_op_at_delivery_report_url = operator_field(
        fields.Char,
        "Delivery Report Callback URL",
        help="Paste this URL as the SMS delivery reports callback in the Africa's Talking "
        "dashboard. It holds a secret: keep it private.",
    )

    @api.depends()
    def _compute_isp_operator_fields(self):
        compute_operator_fields(self, OPERATOR_FIELDS)

    @api.model_create_multi
    def create(self, vals_list):
        # computed from the gateway's own key: shown, never written
        vals_list = [
            {k: v for k, v in vals.items() if k != "isp_op_at_delivery_report_url"}
            for vals in vals_list
        ]
        if self.env.su or not any(OPERATOR_FIELDS.keys() & vals.keys() for vals in vals_list):
            return super().create(vals_list)
        return create_with_operator_fields(
            self,
            super(IspSmsGateway, self.sudo()).create,
            vals_list,
            OPERATOR_FIELDS,
        )

    def write(self, vals):
        check_company_move(self, vals)
        vals = {k: v for k, v in vals.items() if k != "isp_op_at_delivery_report_url"}
        vals, targets = split_operator_values(self, OPERATOR_FIELDS, vals)
        result = super().write(vals) if vals else True
        write_operator_fields(self, super(IspSmsGateway, self.sudo()).write, targets)
        return result
