{
    "name": "ISP Hotspot: MikroTik Router Login",
    "summary": "Bridge: the captive page logs paid devices in on the MikroTik router",
    "version": "19.0.1.0.0",
    "category": "Website",
    "website": "https://github.com/isp-billing-suite/isp-billing-suite",
    "author": "ISP Billing Suite contributors",
    # AGPL-3 like isp_mikrotik, which it depends on and whose RouterOS client it uses
    # (librouteros, GPL-2.0-or-later)
    "license": "AGPL-3",
    "installable": True,
    "auto_install": True,
    "depends": ["isp_hotspot", "isp_mikrotik"],
    "external_dependencies": {"python": ["librouteros"]},
}
