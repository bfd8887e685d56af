import json
from datetime import timedelta

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools.constants import GC_UNLINK_LIMIT

from .. import const


def mask(value, key=None):
    """Personal data masked (phone numbers keep their last 3 digits)."""
    if isinstance(value, dict):
        if value.get("Name") in const.PERSONAL_KEYS and "Value" in value:
            return dict(value, Value=mask(value["Value"], value["Name"]))  # Daraja's Item list
        return {k: mask(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    if key in const.PERSONAL_KEYS and value not in (None, ""):
        text = str(value)
        return "*" * max(len(text) - 3, 3) + text[-3:] if len(text) > 6 else "***"
    return value


class IspMpesaCallback(models.Model):
    """A verified callback, webhook or status answer of a mobile money transaction, masked,
    for the back-office (what the provider said and when)."""

    _name = "isp.mpesa.callback"
    _description = "Mobile Money Notification"
    _order = "id desc"

    transaction_id = fields.Many2one(
        "payment.transaction", required=True, index=True, ondelete="cascade", readonly=True
    )
    # precomputed: part of the INSERT, not an UPDATE after it
    company_id = fields.Many2one(related="transaction_id.company_id", store=True, precompute=True)
    kind = fields.Selection(
        [("callback", "Callback"), ("webhook", "Webhook"), ("status", "Status Query")],
        required=True,
        readonly=True,
    )
    result = fields.Char(readonly=True, help="Result code and description, or status.")
    receipt = fields.Char(readonly=True, help="MpesaReceiptNumber / paymentReference.")
    amount = fields.Float(
        string="Amount Reported",
        readonly=True,
        help="The amount the provider says was paid (Daraja's callback, ClickPesa's "
        "collectedAmount). Daraja's status query reports none.",
    )
    remote_addr = fields.Char(string="From", readonly=True)
    payload = fields.Text(readonly=True, help="As received, personal data masked.")

    @api.model
    def _record(self, tx, kind, payload, remote_addr=None, data=None):
        """Keep what the provider said of ``tx`` (``data``: the payment data read from
        ``payload``, when it is not ``payload`` itself), personal data masked."""
        data = data or payload or {}
        if tx.provider_code == "daraja":
            code = data.get("ResultCode")
            result = f"{code} {data.get('ResultDesc') or ''}".strip() if code is not None else ""
            receipt = data.get("MpesaReceiptNumber")
            # the amount of a Daraja status row is ours, not reported: not kept as reported
            amount = data.get("Amount") if kind != "status" else None
        else:
            inner = data.get("data") if isinstance(data.get("data"), dict) else data
            result = " ".join(str(x) for x in (data.get("event"), inner.get("status")) if x)
            receipt = inner.get("paymentReference")
            amount = inner.get("collectedAmount")
        try:
            amount = float(amount) if amount not in (None, "") else False
        except (TypeError, ValueError):
            amount = False
        return self.sudo().create(
            {
                "transaction_id": tx.id,
                "kind": kind,
                "result": result[:200] or False,
                "receipt": receipt or False,
                "amount": amount,
                "remote_addr": remote_addr or False,
                "payload": json.dumps(mask(payload), indent=1, sort_keys=True, default=str),
            }
        )

    @api.autovacuum
    def _gc_expired(self):
        """Delete the notifications older than their provider's retention, a batch per call
        (the autovacuum calls again while some remain). The transactions, their payments and
        receipt numbers stay."""
        now = fields.Datetime.now()
        providers = (
            self.env["payment.provider"]
            .sudo()
            .with_context(active_test=False)
            .search([("code", "in", list(const.PROVIDER_CODES))])
        )
        domain = Domain.OR(
            [
                ("transaction_id.provider_id", "=", provider.id),
                ("create_date", "<", now - timedelta(days=provider.isp_callback_retention_days)),
            ]
            for provider in providers
        )
        expired = self.sudo().search(domain, limit=GC_UNLINK_LIMIT)
        expired.unlink()
        return len(expired), len(expired) == GC_UNLINK_LIMIT  # done, remaining
