{
    "name": "ISP SMS Gateways",
    "summary": "NextSMS and Africa's Talking in Odoo's SMS stack for ISP notifications",
    "version": "19.0.1.0.0",
    "category": "Services",
    "website": "https://github.com/isp-billing-suite/isp-billing-suite",
    "author": "ISP Billing Suite contributors",
    "license": "LGPL-3",
    "installable": True,
    "depends": ["isp_billing", "sms"],
}
