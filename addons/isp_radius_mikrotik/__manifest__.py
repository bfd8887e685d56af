{
    "name": "ISP RADIUS: MikroTik Routers",
    "summary": "Bridge: a MikroTik router provisioned through RADIUS instead of its API",
    "version": "19.0.1.0.0",
    "category": "Services",
    "website": "https://github.com/isp-billing-suite/isp-billing-suite",
    "author": "ISP Billing Suite contributors",
    # AGPL-3 like isp_mikrotik, which it depends on and whose RouterOS client it uses
    # (librouteros, GPL-2.0-or-later)
    "license": "AGPL-3",
    "installable": True,
    "auto_install": True,
    "depends": ["isp_radius", "isp_mikrotik"],
    "external_dependencies": {"python": ["librouteros", "pyrad"]},
    "data": ["views/isp_router_views.xml"],
}
