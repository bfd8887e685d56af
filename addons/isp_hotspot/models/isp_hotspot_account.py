"""The signed-in customer: sign-in by SMS code, access of a device, status and devices."""

import re

from odoo import api, fields, models
from odoo.exceptions import UserError


class IspHotspotAccount(models.AbstractModel):
    _name = "isp.hotspot.account"
    _description = "ISP Hotspot: Customer Account"

    @api.model
    def _send_code(self, company, phone, client_ip=None):
        """Send a one-time sign-in code to a known customer. Unknown numbers get the same
        answer (no way to probe who is a customer)."""
        e164 = self._phone(company, phone)
        self._rate("code_phone", e164)
        self._rate("code_ip", client_ip, company)
        partner = self._customer(company, e164)
        if partner:
            self.env["isp.hotspot.login.code"]._issue(partner)
        elif not self.env["isp.hotspot.login.code"]._can_deliver():
            raise UserError(
                self.env._("Sign-in by SMS is not available here. Use a voucher or buy a bundle.")
            )
        return e164

    @api.model
    def _check_code(self, company, phone, code, client_ip=None):
        """The customer when ``code`` is right, else a UserError."""
        self._rate("signin_ip", client_ip, company)
        partner = self._customer(company, phone)
        if not partner or not self.env["isp.hotspot.login.code"]._verify(partner, code):
            raise UserError(self.env._("This code is wrong or has expired. Ask for a new one."))
        return partner

    @api.model
    def _active_subscription(self, partner):
        return partner.isp_subscription_ids.filtered(
            lambda s: s.state == "active" and s.service_type == "hotspot"
        ).sorted("date_expiry", reverse=True)[:1]

    @api.model
    def _verify_access(self, partner, mac, ip=None, user_agent=None):
        """Grant or deny ``partner``'s device; every outcome is in the access log. Returns
        ``{"granted", "reason", "message"}``."""
        Log = self.env["isp.access.log"]
        mac = self._mac(mac, required=True)
        ip = self._ip(ip)
        if not partner:
            message = self.env._("No customer has this phone number.")
            Log._log(False, "unknown_customer", mac=mac, ip=ip, message=message)
            return {"granted": False, "reason": "unknown_customer", "message": message}
        subscription = self._active_subscription(partner)
        if not subscription:
            latest = partner.isp_subscription_ids.filtered(
                lambda s: s.service_type == "hotspot"
            ).sorted("date_expiry", reverse=True)[:1]
            reason = latest.state if latest.state in ("expired", "suspended") else "no_subscription"
            message = {
                "expired": self.env._("Your bundle has expired. Buy a bundle to reconnect."),
                "suspended": self.env._("Your access is suspended. Please contact us."),
            }.get(reason, self.env._("You have no active bundle. Buy one to connect."))
            Log._log(False, reason, partner, mac=mac, ip=ip, message=message)
            return {"granted": False, "reason": reason, "message": message}
        if (
            subscription.data_cap_mb
            and subscription.data_used_mb >= subscription.data_cap_mb
            and not subscription.fair_use_active  # slowed down after the cap, not cut off
        ):
            message = self.env._("You have used all the data of your bundle.")
            Log._log(False, "data_cap", partner, mac=mac, ip=ip, message=message)
            return {"granted": False, "reason": "data_cap", "message": message}
        result = self.env["isp.device"]._isp_register(partner, mac, ip=ip, user_agent=user_agent)
        return {
            "granted": result["granted"],
            "reason": result["reason"],
            "message": result["message"],
        }

    @api.model
    def _customer_status(self, partner):
        partner.ensure_one()
        subscriptions = partner.isp_subscription_ids.filtered(
            lambda s: s.service_type == "hotspot" and s.state != "cancelled"
        ).sorted("date_expiry", reverse=True)
        active = subscriptions.filtered(lambda s: s.state == "active")[:1]
        return {
            "phone": partner.phone,
            "name": partner.name,
            "active": bool(active),
            "access_until": fields.Datetime.to_string(active.date_expiry) if active else None,
            "time_left": active.time_left or "" if active else "",
            "bundle": active.bundle_id.name if active else None,
            "data_cap_mb": active.data_cap_mb if active else 0,
            "data_used_mb": active.data_used_mb if active else 0.0,
            "data_left_mb": active.data_left_mb if active else 0.0,
            "slowed": bool(active.fair_use_active),
            # no active bundle: how the latest one ended ('expired', 'suspended' or None)
            "lapsed": None if active else self._lapsed_state(subscriptions[:1]),
            "device_limit": partner._isp_effective_device_limit(),
            "subscriptions": [
                {
                    "reference": s.name,
                    "bundle": s.bundle_id.name,
                    "state": s.state,
                    "expires": fields.Datetime.to_string(s.date_expiry) if s.date_expiry else None,
                }
                for s in subscriptions[:5]
            ],
            "devices": self._devices(partner),
        }

    @api.model
    def _lapsed_state(self, subscription):
        return subscription.state if subscription.state in ("expired", "suspended") else None

    @api.model
    def _lapsed_message(self, company, partner, params):
        """ "Your bundle has expired" for the buy page, or False: when the router's hand-off
        says the login reached its limit ($(error)), when the signed-in customer's latest
        hotspot bundle lapsed, or when the device the router names ($(mac)) is registered
        to a customer whose latest hotspot bundle lapsed. Generic text only: nothing tells
        whose device it is."""
        error = params.get("error") or ""
        if re.search(r"reached (uptime|traffic) limit", error):
            return self.env._("Your bundle has expired — buy a new one to reconnect.")
        if not partner and params.get("mac"):
            devices = (
                self.env["isp.device"]
                .sudo()
                .search([("mac", "=", params["mac"]), ("company_id", "=", company.id)])
            )
            partners = devices.partner_id
            # a device several customers registered tells nothing
            partner = partners if len(partners) == 1 else partner
        if not partner:
            return False
        subscriptions = partner.sudo().isp_subscription_ids.filtered(
            lambda s: s.service_type == "hotspot" and s.state != "cancelled"
        )
        if subscriptions.filtered(lambda s: s.state == "active"):
            return False
        latest = subscriptions.sorted("date_expiry", reverse=True)[:1]
        return {
            "expired": self.env._("Your bundle has expired — buy a new one to reconnect."),
            "suspended": self.env._("Your access is suspended — buy a new bundle, or contact us."),
        }.get(self._lapsed_state(latest), False)

    @api.model
    def _devices(self, partner):
        return [
            {
                "mac": device.mac,
                "name": device.name or device.mac,
                "type": device.device_type,
                "randomized_mac": device.is_randomized_mac,
                "last_seen": fields.Datetime.to_string(device.last_seen)
                if device.last_seen
                else None,
            }
            for device in partner.isp_device_ids
        ]

    @api.model
    def _rename_device(self, partner, mac, name):
        """The signed-in customer names one of their own devices (found by MAC address among
        ``partner``'s devices only)."""
        mac = self._mac(mac, required=True)
        device = partner.isp_device_ids.filtered(lambda d: d.mac == mac)
        if not device:
            raise UserError(self.env._("This device is not registered on your account."))
        device._isp_rename(name)
        return device

    @api.model
    def _remove_device(self, partner, mac):
        mac = self._mac(mac, required=True)
        device = partner.isp_device_ids.filtered(lambda d: d.mac == mac)
        if not device:
            raise UserError(self.env._("This device is not registered on your account."))
        device.action_remove()
        return True
