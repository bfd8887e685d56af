"""Isolation between operators through the ORM (what RPC reaches): every model of the suite,
the Odoo models the suite keeps operators' data in, credentials, reports and figures.

Data-driven: a new ``isp.*`` model is checked without being listed here. A stored model with
a ``company_id`` must have a multi-company record rule; one without must have a rule (e.g.
its creator only) or be listed in ``NO_RULE_NEEDED`` with the reason."""

import base64
import io
import json

import openpyxl

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .isolation_common import IsolationCase

# Stored ``isp.*`` models that need no record rule: (why, whether an operator's users may
# read them). Everything else needs one. The test checks the second part with the ACLs.
NO_RULE_NEEDED = {
    "isp.platform.plan": (
        "the platform's catalogue: every operator reads the plans to choose one (their "
        "company is the platform company, which invoices them); only the platform owner "
        "writes them (ACL)",
        True,
    ),
    "isp.platform.operator.report": (
        "the platform dashboard's figures per operator: platform owner only (ACL)",
        False,
    ),
}

# Odoo's models the suite keeps an operator's data in, with the suite's records in them.
ODOO_MODELS = (
    "res.partner",
    "product.template",
    "product.product",
    "account.move",
    "account.move.line",
    "account.payment",
    "account.journal",
    "payment.provider",
    "payment.transaction",
    "ir.attachment",
)

# Fields holding a credential in clear (computed) or encrypted, per model.
CREDENTIAL_FIELDS = {
    "payment.provider": (
        "daraja_consumer_key",
        "daraja_consumer_key_encrypted",
        "daraja_consumer_secret",
        "daraja_consumer_secret_encrypted",
        "daraja_passkey",
        "daraja_passkey_encrypted",
        "daraja_token_encrypted",
        "clickpesa_api_key",
        "clickpesa_api_key_encrypted",
        "clickpesa_client_id",
        "clickpesa_checksum_key",
        "daraja_c2b_key",
    ),
    "isp.sms.gateway": (
        "at_api_key",
        "at_api_key_encrypted",
        "nextsms_password",
        "nextsms_password_encrypted",
        "at_delivery_report_url",
    ),
    "isp.router": ("password", "password_encrypted", "setup_token_hash"),
    "isp.radius.nas": ("secret", "secret_encrypted"),
}


def suite_models(env):
    """Every stored model of the suite (``isp.*``, neither abstract nor a SQL view's
    reporting model without table rows of its own)."""
    return sorted(
        name
        for name, model in env.registry.items()
        if name.startswith("isp.") and not model._abstract
    )


@tagged("post_install", "-at_install")
class TestPlatformIsolationOrm(IsolationCase):
    def _a_users(self):
        a = self.ops["a"]
        return {name: a[name] for name in ("admin", "staff", "portal", "reseller")}

    def _records_of_b(self, model):
        """Company B's records of ``model``: all rows of B's company when the model has a
        company, else those the fixture made for B."""
        Model = self.env[model].sudo().with_context(active_test=False)
        if model == "res.partner":
            # customers, portal users and resellers; internal users' partners are Odoo's
            # shared contacts (partner_share False), see the report
            b = self.ops["b"]
            return b["customer"] | b["portal_partner"] | b["reseller_partner"]
        if model == "ir.attachment":
            return self.ops["b"]["attachment"] | self.ops["b"]["invoice_attachment"]
        field = Model._fields.get("company_id")
        if field is not None and field.store:
            return Model.search([("company_id", "=", self.ops["b"]["company"].id)])
        records = Model.browse()
        for value in self.ops["b"].values():
            if hasattr(value, "_name") and value._name == model:
                records |= value
        return records

    # ------------------------------------------------------------------ rules exist

    def test_every_suite_model_has_a_rule(self):
        """A model of the suite without an isolating rule fails here (catches isp_radius,
        isp_platform and any later module forgetting theirs)."""
        Rule = self.env["ir.rule"].sudo()
        missing = []
        for model in suite_models(self.env):
            Model = self.env[model]
            if model in NO_RULE_NEEDED:
                continue
            rules = Rule.search([("model_id.model", "=", model), ("active", "=", True)])
            # a rule an operator's users are subject to: global (groups' rules only widen
            # what global ones allow, so the isolation must be global)
            global_rules = rules.filtered(lambda r: not r.groups)
            company = Model._fields.get("company_id")
            if company is not None and company.store:
                isolating = global_rules.filtered(
                    lambda r: ("company_id" in r.domain_force and "company_ids" in r.domain_force)
                    or ("create_uid" in r.domain_force and "user.id" in r.domain_force)
                )
                if not isolating:
                    missing.append(f"{model}: no global multi-company (or creator) rule")
            elif not global_rules:
                missing.append(f"{model}: no company field and no global rule")
        self.assertFalse(missing, "\n".join(missing))
        # the exempted models are as open as their reason says, no more
        for model, (_why, operators_read) in NO_RULE_NEEDED.items():
            if model not in self.env.registry:
                continue
            for role, user in self._a_users().items():
                with self.subTest(model=model, user=role):
                    Model = self.env_of(user)[model]
                    may_read = operators_read and role in ("admin", "staff")
                    self.assertEqual(Model.has_access("read"), may_read)
                    for operation in ("write", "create", "unlink"):
                        self.assertFalse(Model.has_access(operation))

    # ------------------------------------------------------------------ records

    def test_no_user_of_a_reaches_a_record_of_b(self):
        models = [*suite_models(self.env), *ODOO_MODELS]
        checked = []
        for model in models:
            records = self._records_of_b(model)
            if not records:
                continue
            checked.append(model)
            for role, user in self._a_users().items():
                env = self.env_of(user)
                with self.subTest(model=model, user=role):
                    Model = env[model].with_context(active_test=False)
                    try:
                        found = Model.search([("id", "in", records.ids)])
                    except AccessError:
                        found = Model.browse()
                    self.assertFalse(found, f"{role} of A finds {model} {found.ids} of B")
                    for operation in ("read", "write", "unlink"):
                        with self.assertRaises(AccessError, msg=f"{role} may {operation}"):
                            records.with_env(env).check_access(operation)
                    with self.assertRaises(AccessError):
                        records.with_env(env).read(["display_name"])
        # the fixture reaches the main models: a broken fixture cannot make this pass
        for model in (
            "isp.subscription",
            "isp.purchase",
            "isp.voucher",
            "isp.voucher.batch",
            "isp.device",
            "isp.access.log",
            "isp.counter.sale",
            "isp.mpesa.callback",
            "isp.mpesa.c2b",
            "isp.sms.gateway",
            "payment.provider",
            "payment.transaction",
            "account.move",
            "ir.attachment",
            "res.partner",
            "product.template",
            "isp.payment.refund",
            "isp.mpesa.c2b.assign",
        ):
            self.assertIn(model, checked)

    def test_a_cannot_choose_company_b_in_its_context(self):
        """Naming B in allowed_company_ids (or with_company) is refused by Odoo, not
        silently widened to B's records."""
        a, b = self.ops["a"], self.ops["b"]
        for role, user in self._a_users().items():
            for context in (
                {"allowed_company_ids": [a["company"].id, b["company"].id]},
                {"allowed_company_ids": [b["company"].id]},
            ):
                env = self.env(user=user, context=context)
                for model in ("isp.subscription", "res.partner", "product.template"):
                    with self.subTest(user=role, context=context, model=model):
                        with self.assertRaises(AccessError):
                            env[model].search([]).mapped("display_name")
            with self.subTest(user=role, how="with_company"):
                env = self.env_of(user)
                with self.assertRaises(AccessError):
                    env["isp.subscription"].with_company(b["company"]).search([])

    def test_a_cannot_create_records_in_company_b(self):
        a, b = self.ops["a"], self.ops["b"]
        env = self.env_of(a["admin"])
        attempts = (
            ("product.template", {"name": "Forged", "is_isp_bundle": True}),
            ("res.partner", {"name": "Forged", "is_isp_customer": True}),
            ("isp.voucher.batch", {"name": "FORGED", "quantity": 1, "bundle_id": b["product"].id}),
            ("isp.subscription", {"partner_id": b["customer"].id, "bundle_id": b["product"].id}),
            ("isp.device", {"partner_id": b["customer"].id, "mac": "00:11:22:33:44:FF"}),
        )
        for model, values in attempts:
            with self.subTest(model=model):
                self._assert_create_refused(env[model], {**values, "company_id": b["company"].id})
        # nor link its own records to B's (a subscription of A for B's customer or bundle)
        for values in (
            {"partner_id": b["customer"].id, "bundle_id": a["product"].id},
            {"partner_id": a["customer"].id, "bundle_id": b["product"].id},
        ):
            with self.subTest(values=values):
                self._assert_create_refused(env["isp.subscription"], values)

    def _assert_create_refused(self, Model, values):
        try:
            with self.cr.savepoint():
                record = Model.create(values)
                record.flush_recordset()
        except (AccessError, UserError, ValidationError):
            return
        self.fail(f"{Model._name} created in another company: {values}")

    # ------------------------------------------------------------------ credentials

    def test_credentials_of_b_are_not_readable(self):
        b = self.ops["b"]
        records = {
            "payment.provider": b["provider"],
            "isp.sms.gateway": b["gateway"],
            "isp.router": b.get("router"),
            "isp.radius.nas": b.get("nas"),
        }
        for role, user in self._a_users().items():
            env = self.env_of(user)
            for model, record in records.items():
                if not record:
                    continue
                names = [f for f in CREDENTIAL_FIELDS[model] if f in record._fields]
                for name in names:
                    with self.subTest(user=role, model=model, field=name):
                        with self.assertRaises(AccessError):
                            record.with_env(env).read([name])
                        try:
                            found = env[model].search_read([("id", "=", record.id)], [name])
                        except AccessError:
                            found = []
                        self.assertFalse(found)
        # the records hold them indeed (the fixture is not empty)
        self.assertEqual(b["provider"].daraja_consumer_key, "key-b-SECRET")
        self.assertEqual(b["gateway"].at_api_key, "atkey-b-SECRET")

    # ------------------------------------------------------------------ reports

    def _suite_reports(self):
        data = (
            self.env["ir.model.data"]
            .sudo()
            .search([("model", "=", "ir.actions.report"), ("module", "=like", "isp\\_%")])
        )
        reports = self.env["ir.actions.report"].browse(data.mapped("res_id"))
        # Odoo's invoice the suite's customers get
        return reports | self.env.ref("account.account_invoices")

    def test_reports_of_b_cannot_be_rendered_by_a(self):
        reports = self._suite_reports()
        self.assertGreaterEqual(len(reports), 4, reports.mapped("report_name"))
        for report in reports:
            records = self._records_of_b(report.model)
            self.assertTrue(records, f"no record of B for report {report.report_name}")
            for role in ("admin", "staff"):
                env = self.env_of(self.ops["a"][role])
                with (
                    self.subTest(report=report.report_name, user=role),
                    self.assertRaises(AccessError),
                ):
                    env["ir.actions.report"]._render_qweb_html(report.report_name, records.ids)

    # ------------------------------------------------------------------ figures

    def test_dashboard_and_revenue_show_a_only(self):
        a, b = self.ops["a"], self.ops["b"]
        env = self.env_of(a["admin"])
        data = json.dumps(env["isp.dashboard"].get_dashboard_data(), default=str)
        self.assertIn(a["customer"].name, data)
        for marker in (b["customer"].name, b["name"], b["bundle"].name):
            self.assertNotIn(marker, data)
        kpis = json.dumps(env["isp.dashboard"].get_kpi_data(), default=str)
        self.assertNotIn(b["name"], kpis)
        # naming B's company is refused
        forged = self.env(
            user=a["admin"],
            context={"allowed_company_ids": [a["company"].id, b["company"].id]},
        )
        with self.assertRaises(AccessError):
            forged["isp.dashboard"].get_dashboard_data()
        with self.assertRaises(AccessError):
            forged["isp.dashboard"].get_kpi_data()
        # the revenue analysis
        rows = env["isp.revenue.report"].search([])
        self.assertTrue(rows)
        self.assertEqual(rows.company_id, a["company"])
        grouped = env["isp.revenue.report"]._read_group([], ["company_id"], ["__count"])
        self.assertEqual([company for company, _count in grouped], [a["company"]])

    # ------------------------------------------------------------------ shared settings

    def test_shared_records_are_the_platforms(self):
        """Odoo's records shared by every company (currencies, global rates and payment
        terms, e-mail templates, units, categories, tags) cannot be changed by an operator
        for all the others; its own company's ones and what it made itself it can."""
        a = self.ops["a"]
        env = self.env_of(a["admin"])
        shared = [
            (self.env.ref("base.KES"), {"symbol": "Forged"}),
            (self.env.ref("account.account_payment_term_30days"), {"name": "Forged"}),
            (self.env.ref("account.email_template_edi_invoice"), {"subject": "Pay to 0700"}),
            (self.env.ref("uom.product_uom_unit"), {"name": "Forged"}),
            (self.env.ref("product.product_category_goods"), {"name": "Forged"}),
            (self.env.ref("isp_platform.product_platform_subscription"), {"name": "Forged"}),
            (self.env.ref("account.generic_tax_report"), {"name": "Forged"}),
            (self.env["account.report.line"].search([], limit=1), {"name": "Forged"}),
            (
                self.env.ref("account.account_payment_term_30days").line_ids[:1],
                {"nb_days": 1},
            ),
            (self.env.ref("base.state_au_1"), {"name": "Forged"}),
            (self.env.ref("web.report_layout_standard"), {"name": "Forged"}),
            (
                self.env.ref("isp_platform.product_platform_subscription").product_tmpl_id,
                {"list_price": 1.0},
            ),
        ]
        rate = self.env["res.currency.rate"].create(
            {"currency_id": self.env.ref("base.KES").id, "rate": 100.0, "company_id": False}
        )
        shared.append((rate, {"rate": 1.0}))
        for record, values in shared:
            with self.subTest(record=record):
                self.assertTrue(record.exists())
                with self.assertRaises(AccessError), self.cr.savepoint():
                    record.with_env(env).write(values)
                    record.with_env(env).flush_recordset()
                with self.assertRaises(AccessError), self.cr.savepoint():
                    record.with_env(env).unlink()
        # its own: a payment term and a template of its own, its company's rates, a
        # product it made without a company
        product = env["product.template"].create({"name": "Alpha router", "company_id": False})
        product.write({"list_price": 10.0})
        term = env["account.payment.term"].create(
            {"name": "Alpha 7 days", "company_id": a["company"].id}
        )
        term.write({"name": "Alpha 10 days"})
        template = env["mail.template"].create(
            {
                "name": "Alpha notice",
                "model_id": self.env.ref("isp_billing.model_isp_subscription").id,
            }
        )
        template.write({"subject": "Hello"})
        own_rate = env["res.currency.rate"].create(
            {"currency_id": self.env.ref("base.KES").id, "rate": 120.0}
        )
        self.assertEqual(own_rate.company_id, a["company"])
        own_rate.write({"rate": 121.0})
        # the platform's administrator still manages the shared ones
        platform = self.env(user=self.env.ref("base.user_admin"))
        self.env.ref("account.account_payment_term_30days").with_env(platform).write(
            {"note": "30 days"}
        )
        rate.with_env(platform).write({"rate": 101.0})

    # ------------------------------------------------------------------ the platform

    def test_platform_records_of_b_and_dashboard(self):
        """Each operator's platform subscription (invoiced by the platform company) is its
        own: A's Subscription screen and pay link carry nothing of B's; the platform's
        dashboard, plans and applications are the platform owner's."""
        a, b = self.ops["a"], self.ops["b"]
        platform = self.env.company
        product = self.env["product.product"].create(
            {"name": "Platform plan (isolation)", "type": "service", "company_id": platform.id}
        )
        plan = self.env["isp.platform.plan"].create(
            {
                "name": "Isolation plan",
                "company_id": platform.id,
                "price": 30000,
                "product_id": product.id,
            }
        )
        Sub = self.env["isp.platform.subscription"]
        subs = {}
        for key, op in self.ops.items():
            partner = self.env["res.partner"].create(
                {"name": f"{op['name']} (operator)", "company_id": platform.id}
            )
            subs[key] = Sub._create_for_operator(op["company"], partner, plan)
        self.assertTrue(subs["b"].invoice_ids)
        env = self.env_of(a["admin"])
        values = json.dumps(env["isp.platform.subscription"]._operator_screen_values(), default=str)
        self.assertNotIn(b["name"], values)
        for invoice in subs["b"].invoice_ids:
            self.assertNotIn(f'"id": {invoice.id},', values)
        url = env["isp.platform.subscription"]._operator_pay_url()
        self.assertIn(f"/my/invoices/{subs['a'].invoice_ids[0].id}", url)
        # B's invoice by id: not A's to pay
        with self.assertRaises(UserError):
            env["isp.platform.subscription"]._operator_pay_url(subs["b"].invoice_ids[0].id)
        # the records themselves
        for role, user in self._a_users().items():
            user_env = self.env_of(user)
            with self.subTest(user=role):
                try:
                    found = user_env["isp.platform.subscription"].search([])
                except AccessError:
                    found = Sub.browse()
                self.assertNotIn(subs["b"], found)
                with self.assertRaises(AccessError):
                    subs["b"].with_env(user_env).read(["name"])
                with self.assertRaises(AccessError):
                    subs["b"].invoice_ids.with_env(user_env).read(["name"])
                for model in ("isp.platform.operator.report", "isp.platform.application"):
                    with self.assertRaises(AccessError):
                        user_env[model].search([])
                with self.assertRaises(AccessError):
                    user_env["isp.platform.dashboard"].action_open()
                with self.assertRaises(AccessError):
                    plan.with_env(user_env).write({"price": 1})

    def test_revenue_workbook_of_a_has_nothing_of_b(self):
        """The revenue export (XLSX) covers A's company only, also when B's company is put
        in its company list."""
        a, b = self.ops["a"], self.ops["b"]
        env = self.env_of(a["admin"])
        for companies in (None, b["company"], a["company"] | b["company"]):
            with self.subTest(companies=companies and companies.ids):
                values = {"company_ids": [(6, 0, companies.ids)]} if companies else {}
                try:
                    export = env["isp.revenue.export"].create(values)
                    export.action_export()
                except AccessError:
                    continue
                book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(export.file)))
                cells = " ".join(
                    str(cell)
                    for sheet in book.worksheets
                    for row in sheet.iter_rows(values_only=True)
                    for cell in row
                    if cell is not None
                )
                self.assertIn(a["name"], cells)
                self.assertNotIn(b["name"], cells)
                self.assertNotIn(b["customer"].name, cells)
