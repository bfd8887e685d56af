import ipaddress
import socket

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .operator_access import (
    check_company_move,
    compute_operator_fields,
    create_with_operator_fields,
    operator_field,
    split_operator_values,
    write_operator_fields,
)

LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
# operator field -> isp_mikrotik's connection field (base.group_system)
OPERATOR_FIELDS = {
    "isp_op_host": "host",
    "isp_op_port": "port",
    "isp_op_use_tls": "use_tls",
    "isp_op_tls_verify": "tls_verify",
    "isp_op_password": "password",
}


def _literal_address(host):
    """The IP address ``host`` is written as (also the forms the system resolver accepts:
    127.1, 2130706433, ::ffff:127.0.0.1), or None for a host name."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    if address.version == 6 and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


class IspRouter(models.Model):
    """The operator administrator adds its own company's routers: address, API port, TLS and
    API password (``operator_access``). This server connects to that address: an operator
    may not point it at this machine or at link-local (cloud metadata) addresses; private
    networks stay allowed (routers are often reached over a VPN). Host names are not
    resolved here: a name resolving to a loopback address is not caught."""

    _inherit = "isp.router"

    isp_op_host = operator_field(fields.Char, "Address")
    isp_op_port = operator_field(fields.Integer, "API Port")
    isp_op_use_tls = operator_field(fields.Boolean, "Use TLS (api-ssl)")
    isp_op_tls_verify = operator_field(fields.Boolean, "Check Certificate")
    isp_op_password = operator_field(fields.Char, "Password")

    @api.depends()
    def _compute_isp_operator_fields(self):
        compute_operator_fields(self, OPERATOR_FIELDS)

    @api.model
    def _check_operator_router_host(self, targets):
        """Refuse this machine's and link-local addresses given through the operator
        fields."""
        if "host" not in targets:
            return
        host = (targets["host"] or "").strip().strip("[]").lower()
        if host in LOCAL_NAMES or host.endswith(".localhost"):
            raise ValidationError(self.env._("A router cannot be at this server's address."))
        address = _literal_address(host)
        if address is not None and (
            address.is_loopback
            or address.is_link_local
            or address.is_unspecified
            or address.is_multicast
            or address.is_reserved
        ):
            raise ValidationError(
                self.env._(
                    "A router cannot be at %(host)s: choose the router's address.", host=host
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        if self.env.su or not any(OPERATOR_FIELDS.keys() & vals.keys() for vals in vals_list):
            return super().create(vals_list)
        return create_with_operator_fields(
            self,
            super(IspRouter, self.sudo()).create,
            vals_list,
            OPERATOR_FIELDS,
            check_targets=self._check_operator_router_host,
        )

    def write(self, vals):
        check_company_move(self, vals)
        vals, targets = split_operator_values(self, OPERATOR_FIELDS, vals)
        self._check_operator_router_host(targets)
        result = super().write(vals) if vals else True
        write_operator_fields(self, super(IspRouter, self.sudo()).write, targets)
        return result
