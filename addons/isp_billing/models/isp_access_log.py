from datetime import timedelta

from odoo import api, fields, models

REASONS = [
    ("active_subscription", "Active subscription"),
    ("known_device", "Known device"),
    ("new_device", "New device registered"),
    ("device_limit", "Device limit reached"),
    ("no_subscription", "No active subscription"),
    ("expired", "Subscription expired"),
    ("suspended", "Subscription suspended"),
    ("data_cap", "Data cap reached"),
    ("unknown_customer", "Unknown customer"),
    ("invalid_request", "Invalid request"),
    ("other", "Other"),
]


class IspAccessLog(models.Model):
    _name = "isp.access.log"
    _description = "ISP Access Log"
    _order = "date desc, id desc"
    _rec_name = "date"

    date = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, default=lambda self: self.env.company
    )
    result = fields.Selection(
        [("granted", "Granted"), ("denied", "Denied")], required=True, readonly=True
    )
    reason = fields.Selection(REASONS, required=True, readonly=True)
    message = fields.Char(readonly=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        readonly=True,
        index="btree_not_null",
        ondelete="cascade",
    )
    device_id = fields.Many2one(
        "isp.device", readonly=True, index="btree_not_null", ondelete="set null"
    )
    mac = fields.Char(string="MAC Address", readonly=True)
    ip = fields.Char(string="IP Address", readonly=True)

    # Time queries per company (lists, dashboards) and the retention sweep.
    _company_date_idx = models.Index("(company_id, date DESC)")
    _date_idx = models.Index("(date)")

    @api.model
    def _log(self, granted, reason, partner=None, device=None, mac=None, ip=None, message=None):
        """Write an entry. With the context key ``isp_access_log_quiet`` (seconds: the
        captive page's connect POST, which the page repeats while a router is unreachable)
        an entry identical to one of the last that many seconds (a known device: also its
        registration), with no entry of the other result for that customer and device
        since, is not written again: the earlier one is returned."""
        quiet = self.env.context.get("isp_access_log_quiet")
        if quiet and partner and mac:
            Log = self.sudo()
            result = "granted" if granted else "denied"
            same = Log.search(
                [
                    ("partner_id", "=", partner.id),
                    ("mac", "=", mac),
                    ("ip", "=", ip or False),
                    ("result", "=", result),
                    # a known device is what the device registered just before still is
                    (
                        "reason",
                        "in",
                        ["known_device", "new_device"] if reason == "known_device" else [reason],
                    ),
                    ("message", "=", message or False),
                    ("device_id", "=", device.id if device else False),
                    ("date", ">=", fields.Datetime.now() - timedelta(seconds=quiet)),
                ],
                order="id desc",
                limit=1,
            )
            if same and not Log.search_count(
                [
                    ("partner_id", "=", partner.id),
                    ("mac", "=", mac),
                    ("id", ">", same.id),
                    ("result", "!=", result),
                ],
                limit=1,
            ):
                return same
        return self.sudo().create(
            {
                "result": "granted" if granted else "denied",
                "reason": reason,
                "message": message,
                "partner_id": partner.id if partner else False,
                "device_id": device.id if device else False,
                "mac": mac,
                "ip": ip,
                "company_id": (
                    partner.company_id.id if partner and partner.company_id else self.env.company.id
                ),
            }
        )

    @api.autovacuum
    def _gc_expired(self, limit=5000):
        """Delete a batch of entries older than their company's retention; returns
        (deleted, whether more are left) for ir.autovacuum to call again."""
        domain = self.env["res.company"]._isp_retention_domain(
            "date", "isp_access_log_retention_days"
        )
        records = self.sudo().search(domain, limit=limit, order="date, id")
        records.unlink()
        return len(records), len(records) == limit
