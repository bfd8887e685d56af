import re

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

HEX12 = re.compile(r"^[0-9A-F]{12}$")
DEVICE_TYPES = [
    ("phone", "Phone"),
    ("tablet", "Tablet"),
    ("computer", "Computer"),
    ("tv", "TV / Media"),
    ("other", "Other"),
]
# (pattern in a name staff or the customer gave, type): the type of a device whose user agent
# says nothing, first match wins
NAME_TYPE_HINTS = [
    (re.compile(r"ipad|tablet|tab\b|kindle", re.I), "tablet"),
    (re.compile(r"iphone|phone|simu|galaxy|redmi|tecno|infinix|itel", re.I), "phone"),
    (re.compile(r"\btv\b|roku|chromecast|playstation|xbox", re.I), "tv"),
    (re.compile(r"laptop|desktop|\bpc\b|computer|macbook|kompyuta", re.I), "computer"),
]

# Reading a browser's User-Agent: what kind of device it is, and the maker of an Android one.
# (Werkzeug 2.1 dropped its parser; Odoo's vendored copy tells the platform only, not phone
# from tablet nor the maker, and the ua-parser libraries are not dependencies.) Rules are
# tried in order, first match wins: feature phones and TVs before Android and Linux (their
# agents name those too), iPhone / iPad before Mac ("like Mac OS X"), ChromeOS before Linux.
UA_KINDS = [
    ("feature_phone", "phone", re.compile(r"kaios|j2me|midp|series ?40|s40ovibrowser", re.I)),
    (
        "tv",
        "tv",
        re.compile(
            r"smart-?tv|\btizen\b.*\btv\b|web0s|webos.*tv|netcast|bravia|hbbtv|android tv|"
            r"googletv|\baft[a-z]{1,4}\b|\bcrkey\b|roku",
            re.I,
        ),
    ),
    ("console", "tv", re.compile(r"playstation|xbox|nintendo", re.I)),
    ("windows_phone", "phone", re.compile(r"windows phone|windows mobile|iemobile", re.I)),
    ("ipad", "tablet", re.compile(r"\bipad\b", re.I)),
    ("iphone", "phone", re.compile(r"\biphone\b", re.I)),
    ("ipod", "other", re.compile(r"\bipod\b", re.I)),
    ("kindle", "tablet", re.compile(r"\bkindle\b|\bsilk/|\bkf[a-z]{2,4}\b", re.I)),
    (
        "android_phone",
        "phone",
        re.compile(r"android.*\bmobile\b|\bmobile\b.*android|\bdalvik/", re.I),
    ),
    ("android_tablet", "tablet", re.compile(r"android", re.I)),
    ("chromebook", "computer", re.compile(r"\bcros\b", re.I)),
    ("windows", "computer", re.compile(r"windows nt|\bwin64\b|\bwin32\b|\bwow64\b", re.I)),
    ("mac", "computer", re.compile(r"macintosh|mac os x|\bmacos\b", re.I)),
    ("linux", "computer", re.compile(r"\blinux\b|\bx11\b|ubuntu|fedora", re.I)),
]
# makers of Android (and KaiOS) devices, from the model code or the browser in the agent
UA_BRANDS = [
    ("Samsung", re.compile(r"\bsamsung|\bsm-[a-z]\d|\bgt-[a-z]?\d|\bsgh-|\bsch-", re.I)),
    ("Tecno", re.compile(r"\btecno\b", re.I)),
    ("Infinix", re.compile(r"\binfinix\b", re.I)),
    ("itel", re.compile(r"\bitel\b", re.I)),
    ("Xiaomi", re.compile(r"\bredmi\b|\bxiaomi|\bpoco|\bmiuibrowser|\bmi \d|\bm2\d{3}", re.I)),
    ("Huawei", re.compile(r"\bhuawei", re.I)),
    ("Honor", re.compile(r"\bhonor\b", re.I)),
    ("OPPO", re.compile(r"\boppo\b|\bcph\d{4}\b", re.I)),
    ("realme", re.compile(r"\brealme|\brmx\d{4}\b", re.I)),
    ("vivo", re.compile(r"\bvivo\b", re.I)),
    ("OnePlus", re.compile(r"\boneplus", re.I)),
    ("Google", re.compile(r"\bpixel\b", re.I)),
    ("Nokia", re.compile(r"\bnokia", re.I)),
    ("Motorola", re.compile(r"\bmoto|\bmotorola", re.I)),
    ("Sony", re.compile(r"\bxperia|\bsony", re.I)),
    ("LG", re.compile(r"\blg[-_ ]|\blm-[a-z]\d", re.I)),
    ("Lenovo", re.compile(r"\blenovo", re.I)),
    ("Amazon", re.compile(r"\bkindle\b|\bsilk/|\bkf[a-z]{2,4}\b", re.I)),
]
BRANDED_KINDS = ("android_phone", "android_tablet", "feature_phone", "tv", "kindle")
# a name longer than this is cut (what the customer may type on the captive page or /my)
NAME_MAX = 40


def parse_user_agent(user_agent):
    """What a browser's User-Agent says of its device: ``(kind, device_type, brand)``.

    ``kind`` is a key of ``IspDevice._isp_kind_labels()`` or None when the agent is empty or
    unknown; ``device_type`` one of DEVICE_TYPES; ``brand`` the maker of an Android (KaiOS,
    TV) device when the agent names it, else None."""
    text = (user_agent or "")[:512]
    kind, device_type = next(
        ((k, t) for k, t, pattern in UA_KINDS if pattern.search(text)), (None, "other")
    )
    if not kind:
        return None, "other", None
    brand = None
    if kind in BRANDED_KINDS:
        brand = next((name for name, pattern in UA_BRANDS if pattern.search(text)), None)
    if kind == "kindle":
        brand = None  # "Kindle" already says it
    return kind, device_type, brand


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
    _rec_names_search = ["name", "mac"]
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
    name = fields.Char(
        string="Device Name",
        help="What the customer sees: given when the device is registered from the browser's "
        'user agent ("Android phone (Samsung)", "iPhone 2"), else "Device" and the end '
        "of its MAC address; the customer can rename it on the captive page and in /my.",
    )
    name_auto = fields.Boolean(
        string="Automatic Name",
        readonly=True,
        help="The name was made from the user agent or the MAC address, not given by the "
        "customer or staff: a later visit with a user agent may name the device better.",
    )
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
            kind, device_type, _brand = parse_user_agent(device.user_agent)
            if not kind:
                device_type = next(
                    (t for pattern, t in NAME_TYPE_HINTS if pattern.search(device.name or "")),
                    "other",
                )
            device.device_type = device_type

    @api.depends("name", "mac")
    def _compute_display_name(self):
        for device in self:
            device.display_name = device.name or device.mac or ""

    # ------------------------------------------------------------------ names

    def _isp_kind_labels(self):
        """The readable name of each kind of device ``parse_user_agent`` tells, in the
        environment's language."""
        return {
            "feature_phone": self.env._("Feature phone"),
            "tv": self.env._("Smart TV"),
            "console": self.env._("Game console"),
            "windows_phone": self.env._("Windows phone"),
            "ipad": self.env._("iPad"),
            "iphone": self.env._("iPhone"),
            "ipod": self.env._("iPod"),
            "kindle": self.env._("Kindle"),
            "android_phone": self.env._("Android phone"),
            "android_tablet": self.env._("Android tablet"),
            "chromebook": self.env._("Chromebook"),
            "windows": self.env._("Windows PC"),
            "mac": self.env._("Mac"),
            "linux": self.env._("Linux PC"),
        }

    @api.model
    def _isp_name_from_user_agent(self, user_agent, mac=None, number=1):
        """A readable name for the device of this user agent: "Android phone (Samsung)",
        "iPhone", "Windows PC"; ``number`` > 1 numbers it ("Android phone 2 (Samsung)").
        An unknown or missing agent gives "Device", followed by the end of the MAC address
        when there is one ("Device (21:D4)"), so that two unknown devices are told apart."""
        kind, _device_type, brand = parse_user_agent(user_agent)
        if kind:
            label = self._isp_kind_labels()[kind]
            detail = brand
        else:
            label = self.env._("Device")
            detail = mac and mac[-5:]
        if number > 1:
            label = f"{label} {number}"
        if detail:
            return self.env._("%(kind)s (%(detail)s)", kind=label, detail=detail)
        return label

    @api.model
    def _isp_new_name(self, user_agent, mac, taken):
        """The name of a new device of this user agent, numbered so that it is not one of
        ``taken`` (the customer's other devices' names): "iPhone", then "iPhone 2"..."""
        for number in range(1, 1000):
            name = self._isp_name_from_user_agent(user_agent, mac, number)
            if name not in taken:
                return name
        return mac or self.env._("Device")

    @api.model
    def _isp_taken_names(self, partner_ids):
        """{partner id: set of its devices' names (removed ones too)}."""
        taken = {partner_id: set() for partner_id in partner_ids}
        if partner_ids:
            for row in (
                self.with_context(active_test=False)
                .sudo()
                .search_read([("partner_id", "in", list(partner_ids))], ["partner_id", "name"])
            ):
                if row["name"]:
                    taken[row["partner_id"][0]].add(row["name"])
        return taken

    def _isp_fill_names(self):
        """Name the devices of ``self`` that have no name (devices registered before names
        came: from their stored user agent, else "Device" and the end of the MAC address),
        numbered per customer, each in its customer's language."""
        devices = self.filtered(lambda d: not d.name)
        taken = self._isp_taken_names(set(devices.partner_id.ids))
        for device in devices.sorted("id"):
            lang = device.partner_id.lang or self.env.lang
            name = device.with_context(lang=lang)._isp_new_name(
                device.user_agent, device.mac, taken[device.partner_id.id]
            )
            taken[device.partner_id.id].add(name)
            device.write({"name": name, "name_auto": True})

    @api.model
    def _isp_clean_name(self, name):
        """A name the customer typed, trimmed; a UserError when it is empty."""
        name = " ".join(str(name or "").split())[:NAME_MAX].strip()
        if not name:
            raise UserError(self.env._("Give the device a name."))
        return name

    def _isp_rename(self, name):
        """The customer (or staff) names this device. Callers check it is theirs."""
        self.ensure_one()
        self.write({"name": self._isp_clean_name(name), "name_auto": False})
        return True

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
        # a device created without a name is named after its user agent, numbered among
        # the customer's devices ("Android phone 2")
        unnamed = [vals for vals in vals_list if not vals.get("name") and vals.get("partner_id")]
        taken = self._isp_taken_names({vals["partner_id"] for vals in unnamed})
        for vals in unnamed:
            vals["name"] = self._isp_new_name(
                vals.get("user_agent"), vals.get("mac"), taken[vals["partner_id"]]
            )
            vals["name_auto"] = True
            taken[vals["partner_id"]].add(vals["name"])
        return super().create(vals_list)

    def write(self, vals):
        if "mac" in vals:
            vals["mac"] = self._normalize_mac(vals["mac"])
        if "name" in vals and "name_auto" not in vals:
            vals["name_auto"] = False  # named by staff
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
            vals = {"last_seen": now, "ip": ip or device.ip}
            if user_agent and not device.user_agent:
                vals["user_agent"] = user_agent
                # seen by the router first ("Device (21:D4)"): its browser tells what it is
                if device.name_auto:
                    vals.update(self._isp_auto_name_vals(partner, user_agent, mac, device))
            device.write(vals)
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
            "user_agent": user_agent or device.user_agent,
        }
        if name:
            vals["name"] = name
        elif device.name_auto and user_agent and not device.user_agent:
            vals.update(self._isp_auto_name_vals(partner, user_agent, mac, device))
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

    @api.model
    def _isp_auto_name_vals(self, partner, user_agent, mac, device):
        """Values naming ``device`` (already registered, named automatically) after
        ``user_agent``, numbered among ``partner``'s other devices."""
        taken = self._isp_taken_names({partner.id})[partner.id] - {device.name}
        return {"name": self._isp_new_name(user_agent, mac, taken), "name_auto": True}

    def action_remove(self):
        """Customers and staff free a device slot by archiving the device."""
        self.write({"active": False})
        return True
