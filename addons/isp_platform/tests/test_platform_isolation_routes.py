"""Every HTTP route of the suite is accounted for in the isolation between operators: a
route added without an entry here fails, so its author says how it keeps operators apart
(and tests it: most entries name the test of test_platform_isolation_http.py)."""

from odoo.tests import TransactionCase, tagged

HTTP_TESTS = "test_platform_isolation_http"
# route → how it keeps one operator's data from another's
ROUTES = {
    # captive page and JSON API: the website's company decides everything
    "/hotspot": f"website's company; {HTTP_TESTS}.test_each_website_sells_its_own_bundles_only",
    "/hotspot/pay": "website's company: bundle must be sellable by it (as /api/initiate-payment/)",
    "/hotspot/wait": "the session's own payment, of the website's company",
    "/hotspot/voucher": "website's company: isp.voucher._redeem(company=) (as the API)",
    "/hotspot/receipt": "website's company: receipt claims look up that company's payments",
    "/hotspot/signin": "website's company's customers only; neutral answer",
    "/hotspot/signin/verify": "codes are per company (isp.hotspot.login.code company rule)",
    "/hotspot/signout": "the session only",
    "/hotspot/status": "the signed-in customer of the website's company",
    "/hotspot/device/remove": "the signed-in customer's own devices",
    "/hotspot/device/rename": "the signed-in customer's own devices",
    "/api/<path:path>": "404 JSON for unknown API paths",
    "/api/bundles/": f"{HTTP_TESTS}.test_each_website_sells_its_own_bundles_only",
    "/api/initiate-payment/": f"{HTTP_TESTS}.test_each_website_sells_its_own_bundles_only",
    "/api/payment-status/<string:reference>/": "token or session, and tx.company_id must be the "
    "website's company (404 otherwise)",
    "/api/verify-access/": "website's company's customers",
    "/api/user-status/<string:phone>/": "signed-in customer's own number, or an API key of a "
    "user of the website's company",
    "/api/devices/<string:phone>/": "as /api/user-status/",
    "/api/devices/remove/": "as /api/user-status/",
    "/api/login-code/": "website's company's customers only; neutral answer",
    "/api/login/": "codes per company",
    "/api/vouchers/redeem/": f"{HTTP_TESTS}.test_each_website_sells_its_own_bundles_only",
    "/api/receipts/claim/": "website's company's payments",
    "/api/vouchers/generate/": f"{HTTP_TESTS}.test_api_key_of_a_works_on_a_only",
    "/api/vouchers/": f"{HTTP_TESTS}.test_api_key_of_a_works_on_a_only",
    "/api/health/": "no data",
    "/api/openapi.json": "no data",
    # portal
    "/my/subscriptions": f"{HTTP_TESTS}.test_portal_customer_of_a_sees_nothing_of_b",
    "/my/subscriptions/page/<int:page>": "as /my/subscriptions",
    "/my/subscriptions/<int:subscription_id>": f"{HTTP_TESTS}."
    "test_portal_customer_of_a_sees_nothing_of_b",
    "/my/subscriptions/<int:subscription_id>/change_plan": f"{HTTP_TESTS}."
    "test_portal_customer_of_a_sees_nothing_of_b",
    "/my/subscriptions/<int:subscription_id>/device/<int:device_id>/rename": "portal rule on "
    "the subscription (404), the device must be the subscription's",
    "/my/subscriptions/receipt": "the user's partner's company's payments and bundles",
    "/my/reseller": f"{HTTP_TESTS}.test_reseller_of_a_cannot_open_batches_of_b",
    "/my/reseller/buy": f"{HTTP_TESTS}.test_reseller_of_a_cannot_open_batches_of_b",
    "/my/reseller/topup": "the reseller's own company's payment details",
    "/my/reseller/batches": f"{HTTP_TESTS}.test_reseller_of_a_cannot_open_batches_of_b",
    "/my/reseller/batches/page/<int:page>": "as /my/reseller/batches",
    "/my/reseller/batches/<int:batch_id>": f"{HTTP_TESTS}."
    "test_reseller_of_a_cannot_open_batches_of_b",
    "/my/reseller/batches/<int:batch_id>/download/<string:file_format>": f"{HTTP_TESTS}."
    "test_reseller_of_a_cannot_open_batches_of_b",
    "/my/reseller/customers": "portal rule: the reseller's own vouchers' customers, masked",
    "/my/reseller/sales": "portal rule: the reseller's own purchases",
    "/web/login/phone": "website's company's customers only; neutral answer",
    "/web/login/phone/code": "codes per company (isp.portal.login.code company rule)",
    # downloads of the back office
    "/isp_mikrotik/router/<int:router_id>/setup.rsc": f"{HTTP_TESTS}.test_router_scripts_of_b",
    "/isp_mikrotik/router/<int:router_id>/login.html": f"{HTTP_TESTS}.test_router_scripts_of_b",
    "/isp_radius/freeradius.zip": f"{HTTP_TESTS}.test_radius_downloads_of_b",
    "/isp_radius/nas/<int:nas_id>/routeros.rsc": f"{HTTP_TESTS}.test_radius_downloads_of_b",
    # providers' callbacks: the transaction / provider / gateway named by an unguessable
    # token carries its company; nothing is read back to the caller
    "/payment/daraja/callback/<string:token>": "per-transaction token",
    "/payment/daraja/c2b/<string:token>/<any(validation,confirmation):kind>": "per-provider "
    "token: the payment is booked in that provider's company",
    "/payment/clickpesa/webhook": "checksum per provider; ClickPesa's status answer decides",
    "/api/clickpesa-webhook/": "as /payment/clickpesa/webhook",
    "/payment/isp_mpesa/push": "transaction access token",
    "/payment/pesapal/ipn/<int:provider_id>/<string:token>": "per-provider token; "
    "GetTransactionStatus decides",
    "/payment/pesapal/return": "settles the named transaction by GetTransactionStatus, "
    "then redirects to Odoo's /payment/status (the session's own transactions)",
    "/isp_sms/africastalking/<int:gateway_id>/<string:token>": "per-gateway token",
    # the platform
    "/isp_platform/pay": "test_platform_isolation_orm.test_platform_records_of_b_and_dashboard "
    "(current company's own subscription only)",
    "/platform/signup": "creates an application only, shows nothing stored",
}


@tagged("post_install", "-at_install")
class TestPlatformIsolationRoutes(TransactionCase):
    def test_every_route_of_the_suite_is_accounted_for(self):
        routes = set()
        IrHttp = self.env["ir.http"]
        modules = sorted(self.env.registry._init_modules)
        for url, endpoint in IrHttp._generate_routing_rules(
            modules, converters=IrHttp._get_converters()
        ):
            func = getattr(endpoint, "original_endpoint", None) or endpoint
            if (getattr(func, "__module__", "") or "").startswith("odoo.addons.isp_"):
                routes.add(url)
        self.assertIn("/my/subscriptions", routes, "the routing map was read")
        missing = sorted(routes - set(ROUTES))
        self.assertFalse(
            missing,
            "routes without an isolation entry (add one to ROUTES, with its test): "
            + ", ".join(missing),
        )
