{
    "name": "ISP Hotspot: Sign-in Codes by SMS",
    "summary": "Bridge: the captive page's one-time sign-in codes sent by SMS through isp_sms",
    "version": "19.0.1.0.0",
    "category": "Website",
    "website": "https://github.com/isp-billing-suite/isp-billing-suite",
    "author": "ISP Billing Suite contributors",
    "license": "LGPL-3",
    "installable": True,
    "auto_install": True,
    "depends": ["isp_hotspot", "isp_sms"],
}
