from odoo import api, fields, models

from .operator_access import (
    check_company_move,
    compute_operator_fields,
    operator_field,
    split_operator_values,
    write_operator_fields,
)

# operator field -> isp_mpesa's credential field (base.group_system)
OPERATOR_FIELDS = {
    "isp_op_daraja_consumer_key": "daraja_consumer_key",
    "isp_op_daraja_consumer_secret": "daraja_consumer_secret",
    "isp_op_daraja_passkey": "daraja_passkey",
    "isp_op_clickpesa_client_id": "clickpesa_client_id",
    "isp_op_clickpesa_api_key": "clickpesa_api_key",
    "isp_op_clickpesa_checksum_key": "clickpesa_checksum_key",
    "isp_op_pesapal_consumer_key": "pesapal_consumer_key",
    "isp_op_pesapal_consumer_secret": "pesapal_consumer_secret",
}


class PaymentProvider(models.Model):
    """The operator administrator enters its own company's Daraja / ClickPesa / Pesapal
    credentials (``operator_access``); the API and callback URLs stay the platform's."""

    _inherit = "payment.provider"

    isp_op_daraja_consumer_key = operator_field(fields.Char, "Consumer Key")
    isp_op_daraja_consumer_secret = operator_field(fields.Char, "Consumer Secret")
    isp_op_daraja_passkey = operator_field(fields.Char, "Passkey")
    isp_op_clickpesa_client_id = operator_field(fields.Char, "Client ID")
    isp_op_clickpesa_api_key = operator_field(fields.Char, "API Key")
    isp_op_clickpesa_checksum_key = operator_field(fields.Char, "Checksum Key")
    isp_op_pesapal_consumer_key = operator_field(fields.Char, "Pesapal Consumer Key")
    isp_op_pesapal_consumer_secret = operator_field(fields.Char, "Pesapal Consumer Secret")

    @api.depends()
    def _compute_isp_operator_fields(self):
        mapping = {k: v for k, v in OPERATOR_FIELDS.items() if v in self._fields}
        compute_operator_fields(self, mapping)

    def write(self, vals):
        check_company_move(self, vals)
        vals, targets = split_operator_values(self, OPERATOR_FIELDS, vals)
        result = super().write(vals) if vals else True
        write_operator_fields(self, super(PaymentProvider, self.sudo()).write, targets)
        return result
