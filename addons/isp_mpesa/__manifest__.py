{
    "name": "ISP Mobile Money Payments",
    "summary": "M-Pesa Daraja STK Push and ClickPesa USSD push as Odoo payment providers",
    "version": "19.0.1.0.0",
    "category": "Accounting/Payment Providers",
    "website": "https://github.com/isp-billing-suite/isp-billing-suite",
    "author": "ISP Billing Suite contributors",
    "license": "LGPL-3",
    "installable": True,
    "depends": ["isp_billing", "payment", "account_payment"],
}
