import re

from odoo import api, fields, models
from odoo.exceptions import ValidationError

HEX12 = re.compile(r"^[0-9A-F]{12}$")
DEVICE_TYPES = [
    ("phone", "Phone"),
    ("tablet", "Tablet"),
    ("computer", "Computer"),
    ("tv", "TV / Media"),
    ("other", "Other"),
]
# (pattern in the user agent or host name, type), first match wins
TYPE_HINTS = [
    (re.compile(r"ipad|tablet|tab\b|kindle|silk", re.I), "tablet"),
    (
        re.compile(r"iphone|android.*mobile|mobile|phone|galaxy|redmi|tecno|infinix|itel", re.I),
        "phone",
    ),
    (re.compile(r"smart-?tv|roku|tizen|webos|firetv|chromecast|playstation|xbox", re.I), "tv"),
    (
        re.compile(r"windows|macintosh|mac os|x11|linux|cros|laptop|desktop|\bpc\b|macbook", re.I),
        "computer",
    ),
    (re.compile(r"android", re.I), "phone"),
]


def normalize_mac(value):
    """'aa-bb-cc-dd-ee-ff', 'aabb.ccdd.eeff' or 'aabbccddeeff' → 'AA:BB:CC:DD:EE:FF'.
    Returns None when the value is not a unicast MAC address."""
    digits = re.sub(r"[\s:.\-]", "", value or "").upper()
    if not HEX12.match(digits):
        return None
    if int(digits[0:2], 16) & 1:  # multicast / broadcast: never a client device
        return None
    if digits == "000000000000":
        return None
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def is_randomized_mac(mac):
    """A locally administered (randomised) MAC has 2, 6, A or E as its second hex digit."""
    return bool(mac) and mac[1] in "26AE"


class IspDevice(models.Model):
    _name = "isp.device"
    _description = "ISP Customer Device"
    _order = "last_seen desc, id desc"
    _rec_name = "mac"
    _check_company_auto = True

    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        ondelete="cascade",
        check_company=True,
        domain="[('is_isp_customer', '=', True)]",
    )
    mac = fields.Char(string="MAC Address", required=True, index=True)
    ip = fields.Char(string="IP Address")
    name = fields.Char(string="Device Name")
    user_agent = fields.Char()
    device_type = fields.Selection(
        DEVICE_TYPES,
        compute="_compute_device_type",
        store=True,
        readonly=False,
        string="Type",
    )
    is_randomized_mac = fields.Boolean(
        string="Randomised MAC",
        compute="_compute_is_randomized_mac",
        store=True,
        help="Phones use a private MAC per network (2, 6, A or E as second hex digit): the "
        "customer may come back with another one and sign in again by phone.",
    )
    first_seen = fields.Datetime(default=fields.Datetime.now, readonly=True)
    last_seen = fields.Datetime(default=fields.Datetime.now)
    active = fields.Boolean(default=True)

    _partner_mac_unique = models.Constraint(
        "UNIQUE(partner_id, mac)", "This device is already registered for this customer."
    )

    @api.depends("user_agent", "name")
    def _compute_device_type(self):
        for device in self:
            text = f"{device.user_agent or ''} {device.name or ''}"
            device.device_type = next(
                (kind for pattern, kind in TYPE_HINTS if pattern.search(text)), "other"
            )

    @api.depends("mac")
    def _compute_is_randomized_mac(self):
        for device in self:
            device.is_randomized_mac = is_randomized_mac(device.mac)

    @api.model
    def _normalize_mac(self, value):
        mac = normalize_mac(value)
        if not mac:
            raise ValidationError(
                self.env._(
                    "%(value)r is not a device MAC address (six pairs of hex digits, "
                    "e.g. AA:BB:CC:DD:EE:FF).",
                    value=value,
                )
            )
        return mac

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if "mac" in vals:
                vals["mac"] = self._normalize_mac(vals["mac"])
        return super().create(vals_list)

    def write(self, vals):
        if "mac" in vals:
            vals["mac"] = self._normalize_mac(vals["mac"])
        if vals.get("active"):
            for partner in self.filtered(lambda d: not d.active).partner_id:
                limit = partner._isp_effective_device_limit()
                reactivated = self.filtered(lambda d, p=partner: d.partner_id == p and not d.active)
                if len(partner.isp_device_ids) + len(reactivated) > limit:
                    raise ValidationError(
                        self.env._(
                            "%(partner)s may have %(limit)s devices at once; remove one first.",
                            partner=partner.display_name,
                            limit=limit,
                        )
                    )
        return super().write(vals)

    @api.model
    def _isp_register(self, partner, mac, ip=None, name=None, user_agent=None):
        """Register (or refresh) ``partner``'s device, within the customer's device limit.

        Every outcome is written to the access log. Returns a dict with ``granted`` (bool),
        ``reason`` (code), ``message`` (text for the customer), ``device`` (isp.device) and
        ``log`` (isp.access.log).
        """
        partner.ensure_one()
        mac = self._normalize_mac(mac)
        Log = self.env["isp.access.log"]
        # One registration per customer at a time, so two devices racing for the last slot
        # cannot both get it.
        partner._isp_lock()
        device = self.with_context(active_test=False).search(
            [("partner_id", "=", partner.id), ("mac", "=", mac)], limit=1
        )
        now = fields.Datetime.now()
        if device.active:
            device.write({"last_seen": now, "ip": ip or device.ip})
            log = Log._log(True, "known_device", partner, device=device, mac=mac, ip=ip)
            return {
                "granted": True,
                "reason": "known_device",
                "message": "",
                "device": device,
                "log": log,
            }
        limit = partner._isp_effective_device_limit()
        count = self.search_count([("partner_id", "=", partner.id)])
        if count >= limit:
            message = self.env._(
                "You already have %(count)s devices, the most allowed at once (%(limit)s). "
                "Remove one to add this device.",
                count=count,
                limit=limit,
            )
            log = Log._log(False, "device_limit", partner, mac=mac, ip=ip, message=message)
            return {
                "granted": False,
                "reason": "device_limit",
                "message": message,
                "device": self.browse(),
                "log": log,
            }
        vals = {
            "last_seen": now,
            "ip": ip,
            "name": name or device.name,
            "user_agent": user_agent or device.user_agent,
        }
        if device:
            device.write(dict(vals, active=True))
        else:
            device = self.create(
                dict(
                    vals,
                    partner_id=partner.id,
                    mac=mac,
                    company_id=partner.company_id.id or self.env.company.id,
                )
            )
        log = Log._log(True, "new_device", partner, device=device, mac=mac, ip=ip)
        return {
            "granted": True,
            "reason": "new_device",
            "message": "",
            "device": device,
            "log": log,
        }

    def action_remove(self):
        """Customers and staff free a device slot by archiving the device."""
        self.write({"active": False})
        return True
