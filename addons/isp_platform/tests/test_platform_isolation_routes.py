"""Every HTTP route of the suite is accounted for in the isolation between operators: a
route added without an entry here fails, so its author says how it keeps operators apart
(and tests it: most entries name the test of test_platform_isolation_http.py)."""

from odoo.tests import TransactionCase, tagged

HTTP_TESTS = "test_platform_isolation_http"
MORE = "test_platform_isolation_http_more"
CALLBACKS = "test_platform_isolation_http_callbacks"
# route → how it keeps one operator's data from another's
ROUTES = {
    # captive page and JSON API: the website's company decides everything
    "/hotspot": f"website's company; {HTTP_TESTS}.test_each_website_sells_its_own_bundles_only",
    "/hotspot/pay": f"{MORE}.test_captive_payment_of_b_from_a",
    "/hotspot/wait": f"{MORE}.test_captive_payment_of_b_from_a",
    "/hotspot/voucher": f"{MORE}.test_voucher_and_receipt_of_b_from_a",
    "/hotspot/receipt": f"{MORE}.test_voucher_and_receipt_of_b_from_a",
    "/hotspot/signin": f"{MORE}.test_sign_in_codes_of_b_from_a",
    "/hotspot/signin/verify": f"{MORE}.test_sign_in_codes_of_b_from_a",
    "/hotspot/signout": "the session only",
    "/hotspot/status": f"{MORE}.test_session_of_b_customer_on_a_website",
    "/hotspot/device/remove": f"{MORE}.test_customer_of_a_aims_at_devices_of_b",
    "/hotspot/device/rename": f"{MORE}.test_customer_of_a_aims_at_devices_of_b",
    "/api/<path:path>": "404 JSON for unknown API paths",
    "/api/bundles/": f"{HTTP_TESTS}.test_each_website_sells_its_own_bundles_only",
    "/api/initiate-payment/": f"{HTTP_TESTS}.test_each_website_sells_its_own_bundles_only",
    "/api/payment-status/<string:reference>/": f"{MORE}.test_captive_payment_of_b_from_a",
    "/api/verify-access/": f"{MORE}.test_api_key_of_a_staff_on_customers_of_b",
    "/api/user-status/<string:phone>/": f"{MORE}.test_api_key_of_a_staff_on_customers_of_b",
    "/api/devices/<string:phone>/": f"{MORE}.test_session_of_b_customer_on_a_website",
    "/api/devices/remove/": f"{MORE}.test_customer_of_a_aims_at_devices_of_b",
    "/api/login-code/": f"{MORE}.test_sign_in_codes_of_b_from_a",
    "/api/login/": f"{MORE}.test_sign_in_codes_of_b_from_a",
    "/api/vouchers/redeem/": f"{HTTP_TESTS}.test_each_website_sells_its_own_bundles_only",
    "/api/receipts/claim/": f"{MORE}.test_voucher_and_receipt_of_b_from_a",
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
    "/my/subscriptions/<int:subscription_id>/device/<int:device_id>/rename": f"{CALLBACKS}."
    "test_portal_devices_and_receipt_of_b",
    "/my/subscriptions/receipt": f"{CALLBACKS}.test_portal_devices_and_receipt_of_b",
    "/my/reseller": f"{HTTP_TESTS}.test_reseller_of_a_cannot_open_batches_of_b",
    "/my/reseller/buy": f"{HTTP_TESTS}.test_reseller_of_a_cannot_open_batches_of_b",
    "/my/reseller/topup": f"{CALLBACKS}.test_reseller_of_a_topup_customers_sales",
    "/my/reseller/batches": f"{HTTP_TESTS}.test_reseller_of_a_cannot_open_batches_of_b",
    "/my/reseller/batches/page/<int:page>": "as /my/reseller/batches",
    "/my/reseller/batches/<int:batch_id>": f"{HTTP_TESTS}."
    "test_reseller_of_a_cannot_open_batches_of_b",
    "/my/reseller/batches/<int:batch_id>/download/<string:file_format>": f"{HTTP_TESTS}."
    "test_reseller_of_a_cannot_open_batches_of_b",
    "/my/reseller/customers": f"{CALLBACKS}.test_reseller_of_a_topup_customers_sales",
    "/my/reseller/sales": f"{CALLBACKS}.test_reseller_of_a_topup_customers_sales",
    "/web/login/phone": f"{CALLBACKS}.test_phone_sign_in_of_b_on_a_website",
    "/web/login/phone/code": f"{CALLBACKS}.test_phone_sign_in_of_b_on_a_website",
    # downloads of the back office
    "/isp_mikrotik/router/<int:router_id>/setup.rsc": f"{HTTP_TESTS}.test_router_scripts_of_b",
    "/isp_mikrotik/router/<int:router_id>/login.html": f"{HTTP_TESTS}.test_router_scripts_of_b",
    "/isp_radius/freeradius.zip": f"{HTTP_TESTS}.test_radius_downloads_of_b",
    "/isp_radius/nas/<int:nas_id>/routeros.rsc": f"{HTTP_TESTS}.test_radius_downloads_of_b",
    # providers' callbacks: the transaction / provider / gateway named by an unguessable
    # token carries its company; nothing is read back to the caller
    "/payment/daraja/callback/<string:token>": f"{CALLBACKS}."
    "test_daraja_callback_and_push_of_b_with_a_secrets",
    "/payment/daraja/c2b/<string:token>/<any(validation,confirmation):kind>": f"{CALLBACKS}."
    "test_c2b_confirmation_on_a_url_books_in_a_only",
    "/payment/clickpesa/webhook": f"{CALLBACKS}."
    "test_clickpesa_and_pesapal_notifications_of_b_with_a_secrets (its alias)",
    "/api/clickpesa-webhook/": f"{CALLBACKS}."
    "test_clickpesa_and_pesapal_notifications_of_b_with_a_secrets",
    "/payment/isp_mpesa/push": f"{CALLBACKS}.test_daraja_callback_and_push_of_b_with_a_secrets",
    "/payment/pesapal/ipn/<int:provider_id>/<string:token>": f"{CALLBACKS}."
    "test_clickpesa_and_pesapal_notifications_of_b_with_a_secrets",
    "/payment/pesapal/return": "settles the named transaction by GetTransactionStatus, "
    "then redirects to Odoo's /payment/status (the session's own transactions): "
    f"{CALLBACKS}.test_clickpesa_and_pesapal_notifications_of_b_with_a_secrets",
    "/isp_sms/africastalking/<int:gateway_id>/<string:token>": f"{CALLBACKS}."
    "test_sms_delivery_report_of_b_with_a_token",
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
