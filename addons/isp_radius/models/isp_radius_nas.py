"""A RADIUS client (NAS): a router that asks FreeRADIUS at each login and takes Disconnect
and CoA requests from Odoo."""

import ipaddress

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import config

from ..tools import freeradius_config, routeros_lines


def canonical_ip(text):
    """``text`` stripped, in the canonical spelling of its IP address when it is one (else as
    given: the constraints say why)."""
    text = (text or "").strip()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text


class IspRadiusNas(models.Model):
    _name = "isp.radius.nas"
    _description = "RADIUS NAS"
    _inherit = ["mail.thread", "isp.secret.mixin"]
    _order = "sequence, name, id"
    _check_company_auto = True

    _isp_secret_fields = {"secret": "secret_encrypted"}

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    # Where the secret's authenticators go (Disconnect / CoA) and whom FreeRADIUS trusts:
    # the secret's group's (system administrators), as isp_mikrotik's router host.
    address = fields.Char(
        required=True,
        tracking=True,
        groups="base.group_system",
        help="The NAS's IP address as FreeRADIUS sees it (the source of its Access-Requests, "
        "its NAS-IP-Address) and where Disconnect and CoA requests are sent.",
    )
    coa_port = fields.Integer(
        string="CoA Port",
        default=3799,
        required=True,
        tracking=True,
        groups="base.group_system",
        help="UDP port of the NAS's dynamic authorization server (RouterOS: /radius incoming).",
    )
    secret_encrypted = fields.Char(copy=False, groups="base.group_system")
    secret = fields.Char(
        compute="_compute_isp_secrets",
        inverse="_inverse_isp_secrets",
        groups="base.group_system",
        help="The RADIUS shared secret of this NAS. Stored encrypted; visible to system "
        "administrators only.",
    )
    nas_type = fields.Selection(
        [("mikrotik", "MikroTik RouterOS"), ("other", "Other (standard attributes)")],
        string="Type",
        default="mikrotik",
        required=True,
        help="MikroTik gets its vendor attributes (Mikrotik-Rate-Limit, Mikrotik-Total-Limit, "
        "Mikrotik-Address-List); other NAS the standard and WISPr equivalents.",
    )
    service_hotspot = fields.Boolean(string="Hotspot", default=True)
    service_pppoe = fields.Boolean(string="PPPoE")
    framed_pool = fields.Char(
        string="PPPoE Address Pool",
        help="Framed-Pool given to PPPoE customers without a static address: the name of an "
        "IP pool on the NAS (RouterOS: /ip pool).",
    )
    unpaid_access = fields.Boolean(
        string="Pay-Now Access for Expired Users",
        help="Expired customers are accepted into the unpaid address list (and pool) instead "
        "of being rejected: the NAS lets them reach only the captive page, where they can pay.",
    )
    unpaid_address_list = fields.Char(default="isp-unpaid")
    unpaid_pool = fields.Char(string="Unpaid Address Pool")
    note = fields.Text()

    _address_unique = models.Constraint(
        "UNIQUE(address)",
        "Another NAS already has this address: FreeRADIUS tells NAS apart by address.",
    )
    _coa_port_range = models.Constraint(
        "CHECK(coa_port > 0 AND coa_port < 65536)", "The CoA port must be between 1 and 65535."
    )

    @api.constrains("address")
    def _check_address(self):
        for nas in self.sudo():
            try:
                ipaddress.ip_address((nas.address or "").strip())
            except ValueError as exc:
                raise ValidationError(
                    self.env._(
                        "%(address)s is not an IP address. A NAS is known to FreeRADIUS by the "
                        "IP address its requests come from.",
                        address=nas.address,
                    )
                ) from exc

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._normalize_address(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._normalize_address(vals)
        return super().write(vals)

    @api.model
    def _normalize_address(self, vals):
        """One spelling per address (FreeRADIUS's %{Packet-Src-IP-Address}: '::1', not
        '0:0::1'), as the SQL views compare it as text."""
        if vals.get("address"):
            vals["address"] = canonical_ip(vals["address"])

    @api.model
    def _for_address(self, address):
        """The active NAS with this IP address (any company), or an empty recordset."""
        if not address:
            return self.browse()
        return self.sudo().search([("address", "=", str(address))], limit=1)

    # ------------------------------------------------------------------ configuration downloads

    def _check_system(self):
        """The configuration holds secrets (NAS secrets, the database password): system
        administrators only, whatever button or route asks."""
        if not self.env.su and not self.env.user.has_group("base.group_system"):
            raise AccessError(self.env._("Only system administrators may see RADIUS secrets."))

    @api.model
    def _visible_nas(self):
        """The active NAS of the companies the current user belongs to (record rules apply
        too): what one administrator may put into a FreeRADIUS configuration."""
        self._check_system()
        user = self.env.user
        nas = self.with_context(allowed_company_ids=user.company_ids.ids).search(
            [("company_id", "in", user.company_ids.ids)]
        )
        return nas

    @api.model
    def _radius_setting(self, key, default=False):
        return self.env["ir.config_parameter"].sudo().get_param(f"isp_radius.{key}") or default

    @api.model
    def _db_params(self, role=None, password=None):
        """How FreeRADIUS reaches this database: system parameters isp_radius.db_host and
        isp_radius.db_port, else Odoo's own db_host / db_port."""
        host = self._radius_setting("db_host") or config.get("db_host") or "localhost"
        port = self._radius_setting("db_port") or config.get("db_port") or 5432
        return {
            "host": host,
            "port": int(port),
            "dbname": self.env.cr.dbname,
            "user": role,
            "password": password,
        }

    def _client_entries(self):
        entries = []
        for nas in self.sudo():
            secret = nas._isp_secret("secret")
            if not secret:
                raise UserError(self.env._("NAS %(name)s has no shared secret yet.", name=nas.name))
            entries.append(
                {
                    "id": nas.id,
                    "name": nas.name,
                    "address": nas.address,
                    "secret": secret,
                    "company": nas.company_id.name,
                }
            )
        return entries

    def _freeradius_files(self, **options):
        """The configuration directory ({path: text}) for these NAS; ``options`` go to
        tools.freeradius_config.render_config (ports, run_dir, ...)."""
        self._check_system()
        schema = self.env["isp.radius.schema"].sudo()
        if not schema._db_role_exists():
            role, password = schema._db_role_ensure()
        else:
            role, password = schema._db_role_name(), schema._db_role_password()
        db = self._db_params(role, password)
        try:
            return freeradius_config.render_config(self._client_entries(), db, **options)
        except ValueError as exc:
            raise UserError(str(exc)) from exc

    @api.model
    def _freeradius_archive(self):
        """(zip bytes, file name) of the configuration for every NAS the user may see."""
        nas = self._visible_nas()
        if not nas:
            raise UserError(self.env._("There is no active NAS to configure FreeRADIUS for."))
        auth_port = int(self._radius_setting("auth_port", 1812))
        acct_port = int(self._radius_setting("acct_port", 1813))
        files = nas._freeradius_files(auth_port=auth_port, acct_port=acct_port)
        return freeradius_config.zip_config(files), f"freeradius-{self.env.cr.dbname}.zip"

    def _routeros_script(self):
        """The RouterOS lines that put this NAS in RADIUS mode."""
        self.ensure_one()
        self._check_system()
        server = self._radius_setting("server_address")
        if not server:
            raise UserError(
                self.env._(
                    "Set the address routers reach FreeRADIUS at first: system parameter "
                    "isp_radius.server_address (Settings > Technical > System Parameters)."
                )
            )
        return routeros_lines.render(
            name=self.name,
            server=server,
            secret=self.sudo()._isp_secret("secret") or "",
            hotspot=self.service_hotspot,
            pppoe=self.service_pppoe,
            coa_port=self.coa_port,
            auth_port=int(self._radius_setting("auth_port", 1812)),
            acct_port=int(self._radius_setting("acct_port", 1813)),
        )

    def action_download_freeradius_config(self):
        self._check_system()
        return {
            "type": "ir.actions.act_url",
            "url": "/isp_radius/freeradius.zip",
            "target": "download",
        }

    def action_download_routeros(self):
        self.ensure_one()
        self._check_system()
        return {
            "type": "ir.actions.act_url",
            "url": f"/isp_radius/nas/{self.id}/routeros.rsc",
            "target": "download",
        }

    def action_setup_database_access(self):
        """Create the read-limited database role FreeRADIUS connects as (or set a new
        password when the stored one cannot be read): download the configuration again
        afterwards."""
        self._check_system()
        schema = self.env["isp.radius.schema"].sudo()
        name, _password = schema._db_role_ensure()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": self.env._("Database access ready"),
                "message": self.env._(
                    "FreeRADIUS connects as %(role)s. Download the FreeRADIUS configuration "
                    "again and restart FreeRADIUS.",
                    role=name,
                ),
                "sticky": False,
            },
        }
