{
    "name": "ISP Operator Platform",
    "summary": "Many ISPs on one installation: operator sign-up and approval, platform plans "
    "invoiced to operators and paid through Pesapal, isolation, platform dashboard",
    "version": "19.0.1.0.0",
    "category": "Services",
    "website": "https://github.com/isp-billing-suite/isp-billing-suite",
    "author": "ISP Billing Suite contributors",
    "license": "AGPL-3",  # it depends on isp_mikrotik (AGPL-3)
    "installable": True,
    "depends": [
        "isp_billing",
        "isp_mpesa",
        "isp_sms",
        "isp_hotspot",
        "isp_mikrotik",
        "website",
        "portal",
    ],
    "data": [
        "security/isp_platform_security.xml",
        "security/isp_platform_operator_security.xml",
        "security/ir.model.access.csv",
        "security/isp_platform_isolation_security.xml",
        "data/isp_platform_plan_data.xml",
        "data/isp_platform_subscription_data.xml",
        "data/isp_platform_application_data.xml",
        "views/isp_platform_plan_views.xml",
        "views/isp_platform_subscription_views.xml",
        "views/isp_platform_dashboard_views.xml",
        "views/isp_platform_application_views.xml",
        "views/isp_platform_signup_templates.xml",
        "views/isp_platform_operator_views.xml",
        "views/isp_platform_menus.xml",
    ],
    "demo": ["demo/isp_platform_plan_demo.xml"],
    "assets": {
        "web.assets_backend": [
            "isp_platform/static/src/banner/platform_banner.js",
            "isp_platform/static/src/banner/platform_banner.xml",
        ],
    },
}
