{
    "name": "ISP Hotspot Captive Page",
    "summary": "Captive page and JSON API on the Odoo website for hotspot customers",
    "version": "19.0.1.0.1",
    "category": "Website",
    "website": "https://github.com/isp-billing-suite/isp-billing-suite",
    "author": "ISP Billing Suite contributors",
    "license": "LGPL-3",
    "installable": True,
    "depends": ["isp_billing", "website", "payment", "portal"],
    "data": [
        "security/ir.model.access.csv",
        "security/isp_hotspot_security.xml",
        "views/isp_hotspot_templates.xml",
        "views/website_templates.xml",
        "views/res_config_settings_views.xml",
    ],
    "demo": ["demo/isp_hotspot_demo.xml"],
}
