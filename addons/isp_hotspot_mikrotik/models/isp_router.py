"""Server-side hotspot login for the captive page: a paid customer's device logged in on the
router through its RouterOS API (moved from isp_mikrotik)."""

from librouteros.exceptions import LibRouterosError, TrapError

from odoo import fields, models

from odoo.addons.isp_mikrotik import routeros


class IspRouter(models.Model):
    _inherit = "isp.router"

    def _hotspot_login(self, subscription, ip, mac):
        """Log the client at ``ip``/``mac`` in on this router as ``subscription``'s user
        (``/ip/hotspot/active/login``), provisioning the user first if the queue has not done
        it yet. Returns ``{"ok": bool, "state": str, "message": str}``, ``state`` being:

        - ``online``: the router accepted the login (only then ``ok``);
        - ``pending``: the router cannot be reached; the subscription's sync job stays queued
          and the access follows when the router answers (the page tries again);
        - ``refused``: the subscription or the router says no (device limit, the router
          refused the user); ``message`` says why in plain words.

        Every outcome is in the access log."""
        self.ensure_one()
        subscription.ensure_one()
        Log = self.env["isp.access.log"]
        partner = subscription.partner_id

        def refused(reason, message, detail=None):
            Log._log(False, reason, partner, mac=mac, ip=ip, message=detail or message)
            return {"ok": False, "state": "refused", "message": message}

        pending = {
            "ok": False,
            "state": "pending",
            "message": self.env._(
                "Your access is paid. The router cannot be reached right now: this device "
                "is connected as soon as it answers."
            ),
        }

        if subscription.state != "active" or subscription.service_type != "hotspot":
            reason = (
                subscription.state
                if subscription.state in ("expired", "suspended")
                else ("no_subscription")
            )
            return refused(
                reason, self.env._("This subscription is not an active hotspot subscription.")
            )
        if subscription.company_id != self.company_id or not self.service_hotspot:
            return refused(
                "invalid_request", self.env._("This router does not serve this subscription.")
            )
        subscription_sudo = subscription.sudo()
        Job = self.env["isp.router.job"].sudo()
        if self._backing_off():
            # known unreachable and not to be contacted yet: no connection (each would hold
            # a server worker up to the timeout) and nothing new to log; the job queue
            # brings the user there when the router answers
            Job._enqueue(subscription_sudo, reason="retry", routers=self)
            return pending
        try:
            with self._api_client() as client:
                result = self.env["isp.router.reconciler"]._sync(self, client, subscription_sudo)
                if result.errors:
                    # the router refused the user or its profile: the queue retries it and
                    # records the router's answer on the router for the staff
                    Job._enqueue(subscription_sudo, reason="retry", routers=self)
                    detail = "; ".join(result.errors.values())
                    return refused(
                        "other",
                        self.env._(
                            "Your payment is recorded, but the router could not switch your "
                            "access on (%(reason)s). We are trying again; if this lasts, "
                            "please contact us.",
                            reason=detail,
                        ),
                    )
                return self._hotspot_login_device(client, subscription_sudo, ip, mac)
        except (routeros.RouterError, LibRouterosError, OSError) as exc:
            # unreachable (or the API login refused): the job queue brings the user there
            Job._enqueue(subscription_sudo, reason="retry", routers=self)
            reason = getattr(exc, "message", None) or routeros.describe(exc, self.host, self.port)
            Log._log(False, "other", partner, mac=mac, ip=ip, message=reason)
            return pending

    def _backing_off(self):
        """True while this router is known unreachable (offline, or its API login refused)
        and its backoff (``next_retry``) is not over: not to be contacted yet."""
        self.ensure_one()
        router = self.sudo()
        return bool(
            router.state in ("offline", "auth_error")
            and router.next_retry
            and router.next_retry > fields.Datetime.now()
        )

    def _hotspot_login_device(self, client, subscription, ip, mac):
        """``/ip/hotspot/active/login`` of the provisioned user for the device; see
        :meth:`_hotspot_login`."""
        partner = subscription.partner_id
        Log = self.env["isp.access.log"]
        props = {"user": subscription.login, "password": subscription.password or "", "ip": ip}
        if mac:
            props["mac-address"] = mac
        try:
            client.command(routeros.HOTSPOT_ACTIVE, "login", **props)
        except TrapError as exc:
            answer = str(exc)
            if answer == "already logged in" and self._logged_in_as(client, ip, subscription):
                return {"ok": True, "state": "online", "message": self.env._("You are online.")}
            if answer == "no more sessions are allowed for user":
                reason = "device_limit"
                message = self.env._(
                    "Your bundle is already in use on as many devices as it allows at once. "
                    "Disconnect one of them, or remove it from your devices, then try again."
                )
            elif answer == "already logged in":
                reason = "other"
                message = self.env._("This device is signed in on the router with another login.")
            else:
                reason = "other"
                message = self.env._("The router refused the login: %(reason)s", reason=answer)
            Log._log(False, reason, partner, mac=mac, ip=ip, message=answer)
            return {"ok": False, "state": "refused", "message": message}
        if mac:
            self.env["isp.device"].sudo()._isp_register(partner, mac, ip=ip)
        return {"ok": True, "state": "online", "message": self.env._("You are online.")}

    @staticmethod
    def _logged_in_as(client, ip, subscription):
        rows = client.print(routeros.HOTSPOT_ACTIVE, [".id", "user"], where=[f"?=address={ip}"])
        return any(routeros.text(row.get("user")) == subscription.login for row in rows)
