"""What a subscription's changes tell the NAS through RFC 5176: its open RADIUS sessions are
disconnected when it stops being active (or its login or PPPoE address changes), and given
the new rate (CoA) when its rate changes while active (another bundle, fair use starting or
ending), or the new Session-Timeout (CoA) when its period is extended while online. Only
queued here (isp.radius.request): the billing transaction never waits for a NAS."""

from odoo import models

# the fields a subscription's rate depends on (isp.subscription._isp_radius_coa_rates)
RATE_FIELDS = frozenset({"bundle_id", "data_cap_mb", "data_used_mb"})
# what the NAS gives only at login (PPPoE's static address or pool, isp_radius_radreply)
RECONNECT_FIELDS = frozenset({"radius_framed_ip", "radius_framed_pool"})


class IspSubscription(models.Model):
    _inherit = "isp.subscription"  # pylint: disable=consider-merging-classes-inherited

    def _isp_radius_coa_rates(self):
        """(upload, download) kbit/s this subscription should have now: its bundle's, or the
        bundle's fair-use rates once its data cap is reached (as FreeRADIUS answers at login:
        isp_radius_user_v)."""
        self.ensure_one()
        template = self.bundle_id.product_tmpl_id
        if self.fair_use_active:
            return template._isp_fair_use_rates()
        return template.isp_upload_kbps, template.isp_download_kbps

    def _isp_radius_login_address(self):
        """What the NAS gives this subscription only at login: its PPPoE static address or
        pool (isp_radius_radreply)."""
        self.ensure_one()
        return tuple(self[name] for name in sorted(RECONNECT_FIELDS))

    def write(self, vals):
        if not (RATE_FIELDS | RECONNECT_FIELDS | {"login", "date_expiry"}) & vals.keys():
            return super().write(vals)
        Request = self.env["isp.radius.request"].sudo()
        active = self.filtered(lambda s: s.state == "active")
        if "login" in vals:
            # the sessions are under the old login, which no longer logs in: found now
            renamed = active.filtered(lambda s: s.login != vals["login"])
            Request._queue_disconnect(renamed, self.env._("Login changed"))
        before = {sub.id: sub._isp_radius_coa_rates() for sub in active}
        expiries = {sub.id: sub.date_expiry for sub in active}
        addresses = {}
        if RECONNECT_FIELDS & vals.keys():
            addresses = {sub.id: sub._isp_radius_login_address() for sub in active}
        result = super().write(vals)
        active = active.filtered(lambda s: s.state == "active")
        moved = active.filtered(
            lambda s: s.id in addresses and s._isp_radius_login_address() != addresses[s.id]
        )
        if moved:
            Request._queue_disconnect(moved, self.env._("Address changed: applied at reconnection"))
        changed = active.filtered(lambda s: s._isp_radius_coa_rates() != before[s.id])
        if changed:
            Request._queue_coa(changed, self.env._("Rate changed (bundle or fair use)"))
        # (a session re-rated or reconnecting gets its new Session-Timeout that way)
        extended = (active - changed - moved).filtered(
            lambda s: s.date_expiry and expiries[s.id] and s.date_expiry > expiries[s.id]
        )
        if extended:
            Request._queue_extension(extended, self.env._("Period extended"))
        return result

    def _state_changed(self, previous_states):
        result = super()._state_changed(previous_states)
        Request = self.env["isp.radius.request"].sudo()
        stopped = self.filtered(lambda s: s.state != "active")
        if stopped:
            labels = dict(self._fields["state"]._description_selection(self.env))
            for state, subscriptions in stopped.grouped("state").items():
                Request._queue_disconnect(
                    subscriptions,
                    self.env._("Subscription %(state)s", state=labels[state].lower()),
                )
        resumed = self - stopped
        if resumed:
            Request._cancel_pending_disconnect(
                resumed, self.env._("The subscription is active again.")
            )
        return result
