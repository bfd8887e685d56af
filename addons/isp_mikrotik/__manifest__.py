{
    "name": "ISP MikroTik Routers",
    "summary": "Keep MikroTik hotspot users and PPPoE secrets in sync with ISP billing",
    "version": "19.0.1.0.0",
    "category": "Services",
    "website": "https://github.com/isp-billing-suite/isp-billing-suite",
    "author": "ISP Billing Suite contributors",
    "license": "AGPL-3",
    "installable": True,
    "depends": ["isp_billing"],
    "external_dependencies": {"python": ["librouteros"]},
}
