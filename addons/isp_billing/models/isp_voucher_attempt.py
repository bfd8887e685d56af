from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from ..exceptions import IspVoucherRefused

RESULTS = [
    ("unknown", "Unknown Code"),
    ("used", "Already Used"),
    ("expired", "Expired"),
    ("void", "Void"),
    ("blocked", "Blocked (too many attempts)"),
]
# results that count towards the limit ("blocked" is logged, not counted: a blocked caller is
# free again once its failures leave the window)
COUNTED = ("unknown", "used", "expired", "void")


class IspVoucherAttempt(models.Model):
    """A failed voucher redemption, kept to stop brute force: failures are counted per phone
    and per MAC from the requester's address, and per address (a limit of its own), over the
    company's window. ``ip`` is the requester's address (the HTTP client's, else the
    device's). Malformed codes
    are not recorded: the check character refuses them before any lookup and guessing them
    tells nothing."""

    _name = "isp.voucher.attempt"
    _description = "ISP Voucher Failed Attempt"
    _order = "id desc"
    _rec_name = "code"

    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    code = fields.Char(readonly=True)
    voucher_id = fields.Many2one("isp.voucher", readonly=True, ondelete="set null")
    phone = fields.Char(readonly=True)
    mac = fields.Char(string="MAC Address", readonly=True)
    ip = fields.Char(string="IP Address", readonly=True)
    result = fields.Selection(RESULTS, required=True, readonly=True)

    _company_phone_idx = models.Index("(company_id, phone, create_date)")
    _company_mac_idx = models.Index("(company_id, mac, create_date) WHERE mac IS NOT NULL")
    _company_ip_idx = models.Index("(company_id, ip, create_date) WHERE ip IS NOT NULL")
    _create_date_idx = models.Index("(create_date)")

    @api.model
    def _record(self, company, phone, mac, ip, code, result, voucher=None):
        attempt = (
            self.sudo()
            .with_company(company)
            .create(
                {
                    "company_id": company.id,
                    "phone": phone,
                    "mac": mac,
                    "ip": ip,
                    "code": code,
                    "result": result,
                    "voucher_id": voucher.id if voucher else False,
                }
            )
        )
        attempt.flush_recordset()
        return attempt

    @api.model
    def _count_failures(self, company, phone, mac, ip):
        """Counted failures in the company's window: {"phone": n, "mac": n, "ip": n}.

        ``ip`` is the requester's address. The phone's and the MAC's failures are counted
        from that address only: whoever types someone else's number (or claims their MAC)
        from elsewhere cannot lock them out. Without an address (a back-office call) they
        are counted from anywhere."""
        since = fields.Datetime.now() - timedelta(minutes=company.isp_voucher_window_minutes)
        self.flush_model()
        self.env.cr.execute(
            SQL(
                """
                SELECT count(*) FILTER (WHERE phone = %(phone)s AND %(from_ip)s),
                       count(*) FILTER (WHERE mac = %(mac)s AND %(from_ip)s),
                       count(*) FILTER (WHERE ip = %(ip)s)
                  FROM isp_voucher_attempt
                 WHERE company_id = %(company)s
                   AND create_date >= %(since)s
                   AND result IN %(counted)s
                   AND (phone = %(phone)s OR mac = %(mac)s OR ip = %(ip)s)
                """,
                phone=phone,
                mac=mac,
                ip=ip,
                from_ip=SQL("ip = %s", ip) if ip else SQL("TRUE"),
                company=company.id,
                since=since,
                counted=COUNTED,
            )
        )
        by_phone, by_mac, by_ip = self.env.cr.fetchone()
        return {"phone": by_phone, "mac": by_mac, "ip": by_ip}

    @api.model
    def _check_limit(self, company, phone, mac, ip, code, phone_owner=False):
        """Raise IspVoucherRefused "blocked" (and log a "blocked" attempt) when the phone or
        the MAC reached the company's limit of failed attempts in its window (from the
        requester's address ``ip``), or the address its own limit (higher: behind a hotspot
        router's NAT many customers share an address). ``phone_owner``: the requester
        proved owning the phone (signed in with its SMS code): the phone's count, which
        others could have run up, does not stop its owner."""
        limit, ip_limit = company.isp_voucher_max_failures, company.isp_voucher_max_failures_ip
        if limit <= 0 and ip_limit <= 0:
            return
        failures = self._count_failures(company, phone, mac, ip)
        by_phone = 0 if phone_owner else failures["phone"]
        if not (0 < limit <= max(by_phone, failures["mac"]) or 0 < ip_limit <= failures["ip"]):
            return
        self._record(company, phone, mac, ip, code, "blocked")
        raise IspVoucherRefused(
            self.env._(
                "Too many wrong voucher codes from this phone or device. Try again in "
                "%(minutes)s minutes.",
                minutes=company.isp_voucher_window_minutes,
            ),
            "blocked",
        )

    @api.autovacuum
    def _gc_expired(self, limit=10000):
        """Delete a batch of attempts older than their company's retention; returns
        (deleted, whether more are left) for ir.autovacuum to call again."""
        domain = self.env["res.company"]._isp_retention_domain(
            "create_date", "isp_voucher_attempt_retention_days"
        )
        records = self.sudo().search(domain, limit=limit, order="id")
        records.unlink()
        return len(records), len(records) == limit
