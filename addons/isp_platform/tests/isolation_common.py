"""Two operators side by side (issue #18, isolation): companies A (Tanzania, TZS) and B
(Kenya, KES), each with Odoo's generic chart of accounts, an operator administrator, an ISP
user, a portal customer and a portal reseller, a website on its own host name (A:
127.0.0.1, B: localhost) and data in every model of the suite: bundles, customers,
subscriptions, purchases, invoices, payments, vouchers and batches, devices, the access log,
counter sales, payment providers with credentials, transactions and their notifications,
Paybill payments, SMS gateways with credentials, routers with passwords (when isp_mikrotik is
installed), attachments and exports.

``cls.ops["a"]`` / ``cls.ops["b"]`` are dicts of those records; ``cls.env_of(user)`` is the
environment of a user in its own company, as Odoo's web client makes it."""

import base64
from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo import Command, fields
from odoo.tests import HttpCase, get_db_name, new_test_user
from odoo.tools import config

PASSWORD = "-iso-pass-1234"


class IsolationCase(HttpCase):
    """The two operators; tests read ``cls.ops``."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(
            patch.dict(
                config.options,
                {
                    "isp_credential_key": Fernet.generate_key().decode(),
                    # one database for the test server: the captive page keeps its state
                    # in the session, which requests naming a database do not have
                    "dbfilter": f"^{get_db_name()}$",
                },
            )
        )
        cls.env.ref("base.KES").active = True
        cls.ops = {
            "a": cls._operator("a", "Alpha Wi-Fi", "base.tz", "base.TZS", "127.0.0.1", "+2557"),
            "b": cls._operator("b", "Bravo Net", "base.ke", "base.KES", "localhost", "+2547"),
        }

    # ------------------------------------------------------------------ helpers

    @classmethod
    def env_of(cls, user, **context):
        """``user``'s environment in its own companies (as the web client sends them)."""
        return cls.env(user=user, context={"allowed_company_ids": user.company_ids.ids, **context})

    @classmethod
    def _user(cls, login, company, groups, **values):
        return new_test_user(
            cls.env,
            login=login,
            password=login + PASSWORD,
            groups=groups,
            company_id=company.id,
            company_ids=[Command.set(company.ids)],
            **values,
        )

    @classmethod
    def has_model(cls, model):
        return model in cls.env.registry

    # ------------------------------------------------------------------ one operator

    @classmethod
    def _operator(cls, key, name, country, currency, host, phone_prefix):
        env = cls.env
        company = env["res.company"].create(
            {
                "name": name,
                "country_id": env.ref(country).id,
                "currency_id": env.ref(currency).id,
            }
        )
        env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
        op = {"key": key, "company": company, "name": name}
        op["admin"] = cls._user(
            f"iso-admin-{key}",
            company,
            "base.group_user,isp_platform.group_isp_operator_admin,"
            "account.group_account_manager,product.group_product_manager",
        )
        op["staff"] = cls._user(f"iso-staff-{key}", company, "isp_billing.group_isp_user")
        op["website"] = env["website"].create(
            {
                "name": f"{name} site",
                "company_id": company.id,
                "domain": f"http://{host}:{cls.http_port()}",
            }
        )
        op["host"] = host
        admin_env = cls.env_of(op["admin"])
        staff_env = cls.env_of(op["staff"])
        # bundles (made by the operator's administrator: its company by default)
        bundle = admin_env["product.template"].create(
            {
                "name": f"{name} Daily bundle",
                "is_isp_bundle": True,
                "isp_service_type": "hotspot",
                "list_price": 1000,
                "isp_duration_value": 1,
                "isp_duration_unit": "days",
                "taxes_id": [Command.clear()],
            }
        )
        assert bundle.company_id == company, "a bundle belongs to its operator"
        op["bundle"] = bundle
        op["product"] = bundle.product_variant_id
        # customers, made by the ISP user
        op["customer"] = staff_env["res.partner"].create(
            {
                "name": f"{name} customer",
                "phone": f"{phone_prefix}12345678",
                "is_isp_customer": True,
            }
        )
        assert op["customer"].company_id == company, "a customer belongs to its operator"
        op["portal_partner"] = staff_env["res.partner"].create(
            {"name": f"{name} portal", "phone": f"{phone_prefix}12345679", "is_isp_customer": True}
        )
        op["portal"] = cls._user(
            f"iso-portal-{key}", company, "base.group_portal", partner_id=op["portal_partner"].id
        )
        op["reseller_partner"] = env["res.partner"].create(
            {
                "name": f"{name} reseller",
                "company_id": company.id,
                "isp_is_reseller": True,
                "email": f"reseller-{key}@example.com",
            }
        )
        op["reseller"] = cls._user(
            f"iso-reseller-{key}",
            company,
            "base.group_portal",
            partner_id=op["reseller_partner"].id,
        )
        Sub = staff_env["isp.subscription"]
        op["subscription"] = Sub.create(
            {"partner_id": op["portal_partner"].id, "bundle_id": op["product"].id}
        )
        # a counter sale, paid in cash: purchase, invoice, payment and an active subscription
        sale = staff_env["isp.counter.sale"].create(
            {"phone": op["customer"].phone, "bundle_id": op["product"].id, "payment_method": "cash"}
        )
        sale.action_confirm()
        op["counter_sale"] = sale
        op["purchase"] = env["isp.purchase"].search([("partner_id", "=", op["customer"].id)])
        op["invoice"] = env["account.move"].search(
            [("partner_id", "=", op["customer"].id), ("move_type", "=", "out_invoice")]
        )
        assert op["purchase"] and op["invoice"], "the counter sale booked the sale"
        # an invoice of the portal customer, posted
        op["portal_invoice"] = admin_env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": op["portal_partner"].id,
                "invoice_line_ids": [
                    Command.create(
                        {"product_id": op["product"].id, "quantity": 1, "price_unit": 1000}
                    )
                ],
            }
        )
        op["portal_invoice"].action_post()
        # devices and the access log
        op["device"] = staff_env["isp.device"].create(
            {"partner_id": op["customer"].id, "mac": f"00:11:22:33:44:{ord(key):02X}"}
        )
        op["log"] = (
            env["isp.access.log"].with_company(company)._log(True, "known_device", op["customer"])
        )
        # vouchers: a cash batch and a reseller's batch
        op["batch"] = admin_env["isp.voucher.batch"].create(
            {
                "name": f"ISO-{key.upper()}-1",
                "quantity": 3,
                "bundle_id": op["product"].id,
                "price": 1000,
            }
        )
        op["batch"].action_generate()
        op["reseller_batch"] = admin_env["isp.voucher.batch"].create(
            {
                "name": f"ISO-{key.upper()}-R",
                "quantity": 2,
                "bundle_id": op["product"].id,
                "price": 1000,
                "reseller_id": op["reseller_partner"].id,
            }
        )
        op["reseller_batch"].action_generate()
        op["vouchers"] = (op["batch"] | op["reseller_batch"]).voucher_ids
        # exports: files of the operator's administrator
        op["voucher_export_url"] = admin_env["isp.voucher.export"]._download(op["batch"], "csv")[
            "url"
        ]
        revenue = admin_env["isp.revenue.export"].create({})
        op["revenue_export_url"] = revenue.action_export()["url"]
        # a payment provider with its credentials (entered by the platform's administrator)
        provider = (
            env["payment.provider"]
            .with_company(company)
            .create(
                {
                    "name": f"M-Pesa {name}",
                    "code": "daraja",
                    "company_id": company.id,
                    "state": "disabled",
                    "daraja_shortcode": "174379",
                }
            )
        )
        provider.write(
            {
                "daraja_consumer_key": f"key-{key}-SECRET",
                "daraja_consumer_secret": f"secret-{key}-SECRET",
                "daraja_passkey": f"passkey-{key}-SECRET",
            }
        )
        op["provider"] = provider
        op["transaction"] = env["payment.transaction"].create(
            {
                "provider_id": provider.id,
                "payment_method_id": env.ref("payment.payment_method_unknown").id,
                "reference": f"ISO-{key.upper()}-TX",
                "amount": 1000,
                "currency_id": company.currency_id.id,
                "partner_id": op["customer"].id,
                "operation": "online_direct",
            }
        )
        op["callback"] = env["isp.mpesa.callback"]._record(
            op["transaction"], "status", {"ResultCode": "0", "ResultDesc": "ok"}
        )
        op["c2b"] = env["isp.mpesa.c2b"].create(
            {
                "provider_id": provider.id,
                "company_id": company.id,
                "trans_id": f"ISO{key.upper()}C2B01",
                "amount": 500,
                "currency_id": company.currency_id.id,
                "msisdn": op["customer"].phone,
            }
        )
        # wizards (transient records) of the operator's administrator
        wizards = cls.env_of(op["admin"], su=True)  # superuser mode keeps the user (create_uid)
        op["refund_wizard"] = wizards["isp.payment.refund"].create(
            {"transaction_id": op["transaction"].id, "note": f"refund {key}"}
        )
        op["c2b_wizard"] = wizards["isp.mpesa.c2b.assign"].create(
            {"c2b_id": op["c2b"].id, "partner_id": op["customer"].id}
        )
        # an SMS gateway with its credentials
        op["gateway"] = env["isp.sms.gateway"].create(
            {
                "name": f"AT {name}",
                "company_id": company.id,
                "provider": "africastalking",
                "at_username": f"user-{key}",
                "at_api_key": f"atkey-{key}-SECRET",
            }
        )
        # a router with its password
        if cls.has_model("isp.router"):
            op["router"] = env["isp.router"].create(
                {
                    "name": f"Router {name}",
                    "company_id": company.id,
                    "host": f"10.9.{ord(key)}.1",
                    "port": 8728,
                    "username": "isp-billing",
                    "password": f"router-{key}-SECRET",
                }
            )
        # a RADIUS NAS with its shared secret
        if cls.has_model("isp.radius.nas"):
            op["nas"] = env["isp.radius.nas"].create(
                {
                    "name": f"NAS {name}",
                    "company_id": company.id,
                    "address": f"10.8.{ord(key)}.1",
                    "secret": f"radius-{key}-SECRET",
                }
            )
        # attachments: on a subscription and on an invoice
        op["attachment"] = env["ir.attachment"].create(
            {
                "name": f"contract-{key}.txt",
                "res_model": "isp.subscription",
                "res_id": op["subscription"].id,
                "datas": base64.b64encode(f"CONTRACT-{key}-CONFIDENTIAL".encode()),
            }
        )
        op["invoice_attachment"] = env["ir.attachment"].create(
            {
                "name": f"invoice-{key}.txt",
                "res_model": "account.move",
                "res_id": op["invoice"].id,
                "datas": base64.b64encode(f"INVOICE-{key}-CONFIDENTIAL".encode()),
            }
        )
        op["secrets"] = [
            f"key-{key}-SECRET",
            f"secret-{key}-SECRET",
            f"passkey-{key}-SECRET",
            f"atkey-{key}-SECRET",
            f"router-{key}-SECRET",
            f"radius-{key}-SECRET",
        ]
        op["since"] = fields.Datetime.now()
        return op
