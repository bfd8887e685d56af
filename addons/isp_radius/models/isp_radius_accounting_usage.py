"""RADIUS accounting's effects: data use and caps (Disconnect / CoA queued), the devices
seen, stale sessions closed."""

import logging
from collections import defaultdict

import psycopg2

from odoo import api, fields, models
from odoo.tools import SQL

from odoo.addons.isp_billing.models.isp_device import normalize_mac

from .isp_radius_accounting import STALE_CAUSE

_logger = logging.getLogger(__name__)

# FreeRADIUS's Acct-Interim-Interval the suite gives (RouterOS interim-update=5m): a session
# with no update for STALE_INTERVALS of them is closed.
INTERIM_INTERVAL = 300
STALE_INTERVALS = 3
STALE_PARAM = "isp_radius.stale_session_seconds"


class IspRadiusAccounting(models.AbstractModel):
    _inherit = "isp.radius.accounting"

    # ------------------------------------------------------------------ usage and caps

    @api.model
    def _apply_usage(self, usage):
        """Add the batch's bytes to the subscriptions (once for the batch), then: over the cap
        without fair use → Disconnect queued; fair use crossed → CoA queued (new rate)."""
        if not usage:
            return
        Subscription = self.env["isp.subscription"].sudo()
        subscriptions = Subscription.browse(list(usage))
        before = {sub.id: sub.data_used_mb for sub in subscriptions}
        capped, slowed = Subscription._add_data_used(dict(usage))
        if capped:
            crossed = capped.filtered(lambda s: before[s.id] < s.data_cap_mb)
            self._log_data_cap(crossed)
            self._queue_disconnect(capped)
        if slowed:
            body = self.env._("Data cap reached: slowed down to the bundle's fair-use speed.")
            slowed._message_log_batch(bodies=dict.fromkeys(slowed.ids, body))
            self._queue_coa(slowed)

    @api.model
    def _log_data_cap(self, subscriptions):
        """The cap was crossed in this batch: a note on each subscription and a denied entry
        in the access log (as the router poll writes)."""
        if not subscriptions:
            return
        subscriptions._message_log_batch(
            bodies={
                sub.id: self.env._(
                    "Data cap of %(cap)s MB reached: the customer's RADIUS sessions are "
                    "disconnected and new logins refused.",
                    cap=sub.data_cap_mb,
                )
                for sub in subscriptions
            }
        )
        self.env["isp.access.log"].sudo().create(
            [
                {
                    "result": "denied",
                    "reason": "data_cap",
                    "message": self.env._("Data cap reached"),
                    "partner_id": sub.partner_id.id,
                    "company_id": sub.company_id.id,
                }
                for sub in subscriptions
            ]
        )

    @api.model
    def _queue_disconnect(self, subscriptions):
        self.env["isp.radius.request"].sudo()._queue_disconnect(
            subscriptions, self.env._("Data cap reached")
        )

    @api.model
    def _queue_coa(self, subscriptions):
        self.env["isp.radius.request"].sudo()._queue_coa(
            subscriptions, self.env._("Data cap reached: fair-use speed")
        )

    # ------------------------------------------------------------------ devices

    @api.model
    def _update_devices(self, seen):
        """The customers' devices seen in sessions that started or stopped in this batch
        ((partner id, MAC, IP, when)): a known device gets its last seen and IP; an unknown
        MAC is registered while the customer is under the device limit (as the router poll
        does), and left alone beyond it (RADIUS's Simultaneous-Use is the limit here: the
        session is not refused, there is nothing to log). Interim updates touch no device."""
        seen = [(p, normalize_mac(mac), ip, when) for p, mac, ip, when in seen]
        seen = [item for item in seen if item[1]]
        if not seen:
            return
        Device = self.env["isp.device"].sudo()
        partners = self.env["res.partner"].sudo().browse({item[0] for item in seen})
        known = {
            (device.partner_id.id, device.mac): device
            for device in Device.search_fetch(
                [("partner_id", "in", partners.ids)], ["partner_id", "mac", "last_seen", "ip"]
            )
        }
        counts = defaultdict(int)
        for partner_id, _mac in known:
            counts[partner_id] += 1
        for partner_id, mac, ip, when in seen:
            device = known.get((partner_id, mac))
            when = when or fields.Datetime.now()
            if device:
                vals = {}
                if not device.last_seen or device.last_seen < when:
                    vals["last_seen"] = when
                if ip and device.ip != ip:
                    vals["ip"] = ip
                if vals:
                    device.write(vals)
                continue
            partner = partners.browse(partner_id)
            if counts[partner_id] >= partner._isp_effective_device_limit():
                continue
            result = Device._isp_register(partner, mac, ip=ip)
            if result["device"]:
                known[(partner_id, mac)] = result["device"]
                counts[partner_id] += 1

    # ------------------------------------------------------------------ stale sessions

    @api.model
    def _stale_after(self):
        value = self.env["ir.config_parameter"].sudo().get_param(STALE_PARAM)
        try:
            seconds = int(value)
        except (TypeError, ValueError):
            seconds = 0
        return seconds if seconds > 0 else INTERIM_INTERVAL * STALE_INTERVALS

    @api.model
    def _close_stale_sessions(self):
        """Open radacct sessions with no update for longer than the stale delay are closed
        at their last update (FreeRADIUS's Simultaneous-Use counts open rows: a NAS that
        rebooted without Accounting-Off would otherwise keep its customers out). Their next
        ingestion marks the sessions stale. Returns the number closed."""
        try:
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    SQL(
                        """UPDATE radacct
                              SET acctstoptime = COALESCE(acctupdatetime, acctstarttime),
                                  acctterminatecause = %s
                            WHERE acctstoptime IS NULL
                              AND COALESCE(acctupdatetime, acctstarttime, now())
                                  < now() - make_interval(secs => %s)""",
                        STALE_CAUSE,
                        self._stale_after(),
                    )
                )
                count = self.env.cr.rowcount
        except psycopg2.errors.SerializationFailure:
            # FreeRADIUS updated one of these rows meanwhile (an Interim-Update at last):
            # the next run looks again
            _logger.info("RADIUS accounting: stale sessions not closed now (concurrent update)")
            return 0
        if count:
            _logger.info("RADIUS accounting: %s stale session(s) closed", count)
        return count
