"""What a subscription tells FreeRADIUS besides its bundle: a static PPPoE address or pool.

FreeRADIUS reads subscriptions through SQL views (isp.radius.schema): nothing is pushed, so the
views are (re)made here, after this model's own columns exist (an install adds them in this
model's ``_auto_init``, which runs after isp.radius.schema's ``init``)."""

import ipaddress

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .isp_radius_nas import canonical_ip


class IspSubscription(models.Model):
    _inherit = "isp.subscription"

    radius_framed_ip = fields.Char(
        string="Static IP Address",
        copy=False,
        tracking=True,
        help="PPPoE over RADIUS: the fixed IPv4 address the NAS gives this customer "
        "(Framed-IP-Address). Empty: an address from the pool.",
    )
    radius_framed_pool = fields.Char(
        string="Address Pool",
        tracking=True,
        help="PPPoE over RADIUS: the NAS's IP pool this customer's address comes from "
        "(Framed-Pool). Empty: the NAS's own PPPoE pool.",
    )

    _radius_framed_ip_unique = models.UniqueIndex(
        "(company_id, radius_framed_ip) WHERE radius_framed_ip IS NOT NULL",
        "This static IP address is already given to another subscription.",
    )

    @api.constrains("radius_framed_ip", "service_type")
    def _check_radius_framed_ip(self):
        for subscription in self.filtered("radius_framed_ip"):
            try:
                address = ipaddress.ip_address(subscription.radius_framed_ip)
            except ValueError as exc:
                raise ValidationError(
                    self.env._(
                        "%(address)s is not an IP address.",
                        address=subscription.radius_framed_ip,
                    )
                ) from exc
            if address.version != 4 or address.is_multicast or address.is_unspecified:
                raise ValidationError(
                    self.env._(
                        "%(address)s cannot be a customer's address: give a unicast IPv4 "
                        "address (Framed-IP-Address is IPv4).",
                        address=subscription.radius_framed_ip,
                    )
                )
            if subscription.service_type != "pppoe":
                raise ValidationError(
                    self.env._("A static IP address is given to PPPoE subscriptions only.")
                )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._radius_normalize(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._radius_normalize(vals)
        return super().write(vals)

    @api.model
    def _radius_normalize(self, vals):
        """One spelling per address and pool, so the unique index and the NAS see the same."""
        for name in ("radius_framed_ip", "radius_framed_pool"):
            if name in vals:
                vals[name] = (vals[name] or "").strip() or False
        if vals.get("radius_framed_ip"):
            vals["radius_framed_ip"] = canonical_ip(vals["radius_framed_ip"])

    def init(self):
        result = super().init()
        self.env["isp.radius.schema"]._create_views()
        return result
