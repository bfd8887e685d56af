"""Issue #18 end to end, over real HTTP against the strict simulators: an ISP signs up on the
platform's page, the platform owner approves it, the new operator pays the platform's invoice
through the platform's Pesapal, enters its own M-Pesa account and sells a bundle to its own
customer through Daraja: each payment lands in the right company's journal, and neither
company sees the other's money."""

import requests
from lxml import html

from odoo import fields
from odoo.tests import tagged
from odoo.tests.common import HttpCase, get_db_name

from odoo.addons.isp_hotspot.tests.common import csrf
from odoo.addons.isp_mpesa.tests.common import SECRETS
from odoo.addons.isp_mpesa.tests.test_pesapal import PESAPAL_SECRETS, PesapalCase
from odoo.addons.isp_platform.tests.test_platform_approval_common import (
    PlatformApprovalMixin,
)

OPERATOR_EMAIL = "owner@mombasa-hotspot.example"
OPERATOR_PASSWORD = "Mombasa-Hotspot-2026"


@tagged("post_install", "-at_install")
class TestPlatformEndToEnd(PlatformApprovalMixin, PesapalCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._platform_setup()  # plan of the main company (TZS), a platform owner
        cls.platform_pesapal = cls._provider(
            "isp_mpesa.payment_provider_pesapal",
            cls.platform,
            {
                "pesapal_consumer_key": PESAPAL_SECRETS["consumer_key"],
                "pesapal_consumer_secret": PESAPAL_SECRETS["consumer_secret"],
                "pesapal_base_url": cls.pesapal_sim.url,
                "is_published": True,
            },
        )

    def _sign_up(self):
        """The public sign-up page, as a browser: the form, its CSRF token, the post."""
        page = HttpCase.url_open(self, "/platform/signup")
        self.assertEqual(page.status_code, 200)
        self.env.flush_all()
        response = HttpCase.url_open(
            self,
            "/platform/signup",
            data={
                "csrf_token": csrf(page.text),
                "business_name": "Mombasa Hotspot",
                "contact_name": "Halima Said",
                "email": OPERATOR_EMAIL,
                "phone": "0722 111 222",
                "country_id": str(self.env.ref("base.ke").id),
                "currency_id": "",
                "plan_id": str(self.plan.id),
                "domain": "",
            },
            method="POST",
        )
        self.env.invalidate_all()
        self.assertEqual(response.status_code, 200, response.text[-2000:])
        return self.env["isp.platform.application"].search([("email", "=", OPERATOR_EMAIL)])

    def _pay_platform_invoice(self, invoice):
        """The operator's administrator, signed in, opens the invoice's pay link, chooses
        Pesapal and pays on Pesapal's page; the IPN reaches this Odoo."""
        self.authenticate(OPERATOR_EMAIL, OPERATOR_PASSWORD)
        page = self.url_open(invoice.get_portal_url())
        self.assertEqual(page.status_code, 200)
        self.assertIn(f'data-provider-id="{self.platform_pesapal.id}"', page.text)
        self.assertNotIn(f'data-provider-id="{self.pesapal.id}"', page.text)
        values, tx = self._portal_transaction(invoice, self.platform_pesapal)
        form = html.fromstring(values["redirect_form_html"])
        inputs = {i.get("name"): i.get("value") for i in form.iter("input")}
        with self._served():
            paid = requests.post(
                f"{self.pesapal_sim.root}/pesapaliframe/PesapalIframe3/Pay",
                data={**inputs, "outcome": "complete"},
                headers={"X-Odoo-Database": get_db_name()},
                cookies=self.opener.cookies,
                timeout=60,
            )
        self.assertEqual(paid.status_code, 200)
        return tx

    def _operator_daraja(self, company, admin):
        """The operator's administrator enters its own M-Pesa account on the provider the
        approval made for it (disabled until now)."""
        daraja = self.env["payment.provider"].search(
            [("code", "=", "daraja"), ("company_id", "=", company.id)]
        )
        self.assertEqual(len(daraja), 1)
        self.assertEqual(daraja.state, "disabled")
        daraja.with_user(admin).with_context(allowed_company_ids=company.ids).write(
            {
                "isp_op_daraja_consumer_key": SECRETS["consumer_key"],
                "isp_op_daraja_consumer_secret": SECRETS["consumer_secret"],
                "isp_op_daraja_passkey": SECRETS["passkey"],
                "daraja_shortcode": "174379",
            }
        )
        # where requests go is the system administrator's (the simulator, this test server)
        daraja.write(
            {
                "state": "test",
                "daraja_base_url": self.daraja_sim.url,
                "isp_callback_base_url": self.base_url(),
                "isp_request_timeout": 10,
                "isp_push_limit": 0,
            }
        )
        daraja._isp_ensure_journal()
        return daraja

    def test_sign_up_to_first_sale_money_in_each_journal(self):
        # 1. sign-up (public page) and approval by the platform owner
        application = self._sign_up()
        self.assertEqual(application.state, "pending")
        application.with_user(self.owner).with_context(
            allowed_company_ids=self.platform.ids
        ).action_approve()
        operator = application.company_id
        self.assertEqual(operator.currency_id, self.kes)
        self.assertEqual(application.state, "approved")
        admin = application.user_id
        self.assertEqual(admin.company_ids, operator)
        admin.sudo().password = OPERATOR_PASSWORD

        # 2. the operator pays the platform's first invoice through the platform's Pesapal
        subscription = self.env["isp.platform.subscription"].search(
            [("operator_company_id", "=", operator.id)]
        )
        invoice = subscription.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(
            (invoice.company_id, invoice.partner_id, invoice.amount_untaxed, invoice.currency_id),
            (self.platform, application.partner_id, 25000.0, self.platform.currency_id),
        )
        due = invoice.amount_total  # the plan's price and the platform company's sales tax
        platform_tx = self._pay_platform_invoice(invoice)
        self.assertEqual(platform_tx.state, "done", platform_tx.state_message)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        platform_payment = self.env["account.payment"].search(
            [("payment_transaction_id", "=", platform_tx.id)]
        )
        self.assertEqual(len(platform_payment), 1)
        self.assertEqual(platform_payment.journal_id, self.platform_pesapal.journal_id)
        self.assertEqual(
            (platform_payment.company_id, platform_payment.amount), (self.platform, due)
        )
        self.assertEqual(subscription.state, "active")

        # 3. the operator sells a bundle to its own customer through its own Daraja account
        daraja = self._operator_daraja(operator, admin)
        bundle = self.env["product.product"].search(
            [
                ("company_id", "=", operator.id),
                ("is_isp_bundle", "=", True),
                ("isp_service_type", "=", "hotspot"),
            ],
            order="list_price",
            limit=1,
        )
        self.assertTrue(bundle, "the approval gave the operator its bundles")
        price = bundle._isp_customer_price(company=operator)[0]
        tx = (
            self.env["payment.transaction"]
            .sudo()
            .create(
                {
                    "provider_id": daraja.id,
                    "payment_method_id": self.pm_mpesa.id,
                    "reference": "HS-E2E-0001",
                    "amount": price,
                    "currency_id": self.kes.id,
                    "partner_id": self.env.ref("base.public_partner").id,
                    "operation": "online_direct",
                    "isp_bundle_id": bundle.id,
                }
            )
        )
        self._push(tx, phone="0733 444 555")
        self.assertEqual(self._daraja_callback(tx).status_code, 200)
        self.assertEqual(tx.state, "done", tx.state_message)
        customer = tx.isp_purchase_id.partner_id
        self.assertEqual(customer.company_id, operator)
        self.assertEqual(customer.isp_subscription_ids.state, "active")
        self.assertGreater(customer.isp_subscription_ids.date_expiry, fields.Datetime.now())
        self._run_invoicing()
        sale_payment = self.env["account.payment"].search([("payment_transaction_id", "=", tx.id)])
        self.assertEqual(len(sale_payment), 1)
        self.assertEqual(sale_payment.journal_id, daraja.journal_id)
        self.assertEqual(
            (sale_payment.company_id, sale_payment.amount, sale_payment.currency_id),
            (operator, price, self.kes),
        )
        self.assertEqual(sale_payment.journal_id.code[:5], "MPESA")
        self.assertIn(tx.invoice_ids.payment_state, ("paid", "in_payment"))

        # 4. each company's money is in its own books, and only there
        self.assertNotEqual(daraja.journal_id.company_id, self.platform)
        self.assertEqual(self.platform_pesapal.journal_id.company_id, self.platform)
        op_env = self.env(user=admin, context={"allowed_company_ids": operator.ids})
        self.assertEqual(
            op_env["account.payment"].search([]).mapped("journal_id"), daraja.journal_id
        )
        self.assertFalse(op_env["account.move"].search([("id", "=", invoice.id)]))
