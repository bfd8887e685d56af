"""What approving an operator application creates, one small method per part so that other
parts of the platform and the tests can call them on their own."""

import logging

import pytz

from odoo import api, models
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tools import escape_psql

_logger = logging.getLogger(__name__)

# Providers an operator's customers pay through (copies of the platform's, disabled and
# without credentials until the operator enters its own). Codes not installed are skipped.
OPERATOR_PROVIDER_CODES = ("daraja", "clickpesa", "pesapal")
# The standard hotspot bundles given to an operator when the platform flags none of its own
# as operator defaults: (name, duration value, unit, {currency: price}). Other currencies:
# the USD price converted at today's rate.
STANDARD_BUNDLES = (
    ("1 Hour", 1, "hours", {"KES": 20, "TZS": 500, "UGX": 1000, "USD": 0.2}),
    ("1 Day", 1, "days", {"KES": 50, "TZS": 1000, "UGX": 2000, "USD": 0.5}),
    ("1 Week", 7, "days", {"KES": 250, "TZS": 5000, "UGX": 10000, "USD": 2.5}),
    ("1 Month", 1, "months", {"KES": 800, "TZS": 20000, "UGX": 40000, "USD": 8}),
)
GENERIC_CHART = "generic_coa"


class IspPlatformProvisioning(models.AbstractModel):
    _name = "isp.platform.provisioning"
    _description = "Platform: operator provisioning"

    @api.model
    def _provision(self, application):
        """Everything an approved operator gets (called as superuser by
        ``isp.platform.application.action_approve`` once the row is locked and pending)."""
        currency = application.currency_id
        if not currency.active:
            currency.active = True
        company = self._create_company(application)
        website = self._create_website(company, application)
        providers = self._ensure_providers(company, website)
        code, localized = self._load_chart(company)
        user = self._create_admin_user(company, application)
        partner = self._create_platform_partner(application)
        application.write(
            {
                "state": "approved",
                "company_id": company.id,
                "user_id": user.id,
                "partner_id": partner.id,
                "website_id": website.id,
                "chart_template": code,
                "approved_date": self.env.cr.now(),
            }
        )
        self._create_subscription(company, partner, application.plan_id)
        bundles = self._create_bundles(company, application.platform_company_id)
        self._give_platform_owners(company)
        application.activity_unlink(["mail.mail_activity_data_todo"])
        application.message_post(
            body=self._approval_note(application, code, localized, bundles, providers),
            subtype_xmlid="mail.mt_note",
        )
        self.env.ref("isp_platform.mail_template_application_approved").send_mail(application.id)
        return company

    # --- company, chart, users -------------------------------------------------------
    @api.model
    def _create_company(self, application):
        if self.env["res.company"].search_count(
            [("name", "=ilike", escape_psql(application.business_name))], limit=1
        ):
            raise UserError(
                self.env._(
                    "A company named %(name)s already exists: rename the application first.",
                    name=application.business_name,
                )
            )
        values = {
            "name": application.business_name,
            "country_id": application.country_id.id,
            "currency_id": application.currency_id.id,
            "phone": application.phone,
            "email": application.email,
        }
        if "iap_enrich_auto_done" in self.env["res.company"]._fields:
            # partner_autocomplete: the applicant's email domain is not sent to Odoo's IAP
            values["iap_enrich_auto_done"] = True
        # Odoo's payment module copies the installed providers of the current user's
        # company into a new company (disabled, without credentials: copy=False).
        # chart_template_load: account's res.company.create would otherwise install the
        # country's localisation module right away (a commit and a registry reload in the
        # middle of the approval); the chart is loaded by _load_chart instead.
        return self.env["res.company"].with_context(chart_template_load=True).create(values)

    @api.model
    def _chart_template_code(self, country):
        """The chart template to load for ``country``: the country's own when its
        localisation module is installed, else Odoo's generic chart. Returns (code,
        localized). Localisation modules are never installed from here (a module install
        reloads the registry in the middle of a request): the platform installs them first.
        """
        Chart = self.env["account.chart.template"]
        code = Chart._guess_chart_template(country)
        mapping = Chart._get_chart_template_mapping()
        template = mapping.get(code)
        if not template or not template.get("country_id") or template["country_id"] != country.id:
            return GENERIC_CHART, False
        module = self.env["ir.module.module"].search([("name", "=", template.get("module"))])
        if module.state != "installed":
            return GENERIC_CHART, False
        return code, True

    @api.model
    def _load_chart(self, company):
        """Load the chart, keeping the company's currency: Odoo sets the chart's fiscal
        country's (USD for the generic chart) on a company without accounting entries."""
        code, localized = self._chart_template_code(company.country_id)
        currency = company.currency_id
        self.env["account.chart.template"].try_loading(code, company, install_demo=False)
        if company.currency_id != currency:
            company.currency_id = currency
        return code, localized

    @api.model
    def _admin_groups(self):
        """The operator administrator's groups; everything else comes implied by the
        Operator Administrator group (ISP manager, invoicing administrator, products)."""
        return self.env.ref("base.group_user") | self.env.ref(
            "isp_platform.group_isp_operator_admin"
        )

    @api.model
    def _create_admin_user(self, company, application):
        """The operator's administrator, of its company only, with a sign-up token: the
        approval email (queued, sent once the approval is committed) carries the link to
        choose a password. Not auth_signup's invitation at create: it is sent at once, before
        the approval's transaction commits (a later failure would leave an invitation to a
        user that does not exist)."""
        Users = self.env["res.users"].with_context(active_test=False)
        if Users.search_count([("login", "=ilike", escape_psql(application.email))], limit=1):
            raise UserError(
                self.env._(
                    "A user with the login %(login)s already exists.", login=application.email
                )
            )
        zones = pytz.country_timezones.get(application.country_id.code or "", [])
        user = (
            Users.with_company(company)
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": application.contact_name,
                    "login": application.email,
                    "email": application.email,
                    "phone": application.phone,
                    "company_id": company.id,
                    "company_ids": [Command.set(company.ids)],
                    "group_ids": [Command.set(self._admin_groups().ids)],
                    "tz": zones[0] if zones else False,
                }
            )
        )
        user.partner_id.signup_prepare(signup_type="signup")
        return user

    @api.model
    def _create_platform_partner(self, application):
        """The operator as a customer of the platform company (the platform invoices it)."""
        return self.env["res.partner"].create(
            {
                "name": application.business_name,
                "is_company": True,
                "company_id": application.platform_company_id.id,
                "email": application.email,
                "phone": application.phone,
                "country_id": application.country_id.id,
            }
        )

    @api.model
    def _create_subscription(self, company, partner, plan):
        """The operator's platform subscription (first period invoiced now)."""
        return self.env["isp.platform.subscription"]._create_for_operator(company, partner, plan)

    @api.model
    def _give_platform_owners(self, company):
        """The platform owners (not the superuser) may switch to the new company."""
        owners = self.env["res.users"].search(
            [
                ("group_ids", "in", self.env.ref("isp_platform.group_isp_platform_manager").id),
                ("share", "=", False),
                ("id", "!=", self.env.ref("base.user_root").id),
            ]
        )
        owners.write({"company_ids": [Command.link(company.id)]})

    # --- bundles ---------------------------------------------------------------------
    @api.model
    def _nice_price(self, amount, currency):
        """A converted price rounded to two significant digits (4 987.3 → 5 000, 49.8 → 50,
        0.374 → 0.37), then to the currency's rounding."""
        if amount <= 0:
            return 0.0
        return currency.round(float(f"{amount:.2g}"))

    @api.model
    def _convert(self, amount, from_currency, company):
        to_currency = company.currency_id
        if from_currency == to_currency:
            return amount
        converted = from_currency._convert(
            amount, to_currency, company, self.env.cr.now().date(), round=False
        )
        return self._nice_price(converted, to_currency)

    @api.model
    def _create_bundles(self, company, platform_company):
        """Copies of the platform company's bundles flagged as operator defaults, priced in
        the operator's currency at today's rate; without any, the standard set."""
        Template = self.env["product.template"].with_context(active_test=False)
        sources = Template.search(
            [
                ("isp_platform_default", "=", True),
                ("is_isp_bundle", "=", True),
                ("company_id", "=", platform_company.id),
            ]
        )
        if not sources:
            return self._create_standard_bundles(company)
        bundles = Template.browse()
        for source in sources:
            bundles |= source.with_company(company).copy(
                {
                    "name": source.name,
                    "company_id": company.id,
                    "list_price": self._convert(source.list_price, source.currency_id, company),
                    "taxes_id": [Command.clear()],
                    "supplier_taxes_id": [Command.clear()],
                    "isp_platform_default": False,
                }
            )
        return bundles

    @api.model
    def _standard_price(self, prices, company):
        currency = company.currency_id
        if currency.name in prices:
            return prices[currency.name]
        usd = self.env.ref("base.USD")
        return self._convert(prices["USD"], usd, company)

    @api.model
    def _create_standard_bundles(self, company):
        return (
            self.env["product.template"]
            .with_company(company)
            .create(
                [
                    {
                        "name": name,
                        "is_isp_bundle": True,
                        "type": "service",
                        "isp_service_type": "hotspot",
                        "isp_duration_value": value,
                        "isp_duration_unit": unit,
                        "list_price": self._standard_price(prices, company),
                        "company_id": company.id,
                        "taxes_id": [Command.clear()],
                        "supplier_taxes_id": [Command.clear()],
                        "sequence": sequence,
                    }
                    for sequence, (name, value, unit, prices) in enumerate(STANDARD_BUNDLES)
                ]
            )
        )

    # --- payment providers and website -----------------------------------------------
    @api.model
    def _ensure_providers(self, company, website):
        """The operator's own Daraja / ClickPesa / Pesapal providers, disabled and without
        credentials. Odoo already copies the installed providers of the approver's company
        into a new company (payment's res.company.create); a code missing there (the
        approver's company has none) is copied from any company's provider of that code."""
        Provider = self.env["payment.provider"].with_context(active_test=False)
        known = dict(Provider._fields["code"]._description_selection(self.env))
        codes = [code for code in OPERATOR_PROVIDER_CODES if code in known]
        providers = Provider.search([("company_id", "=", company.id), ("code", "in", codes)])
        for code in set(codes) - set(providers.mapped("code")):
            source = Provider.search(
                [("code", "=", code), ("module_state", "=", "installed")], order="id", limit=1
            )
            if source:
                providers |= source.copy({"company_id": company.id})
        values = {"state": "disabled", "is_published": False}
        if "website_id" in Provider._fields:
            values["website_id"] = website.id
        providers.write(values)
        return providers

    @api.model
    def _create_website(self, company, application):
        """The operator's website: its captive page (/hotspot) on that host shows its
        bundles and providers (isp_hotspot reads the website's company)."""
        host = application.domain
        if host and self.env["website"].search_count(
            [("domain", "in", [host, f"https://{host}", f"http://{host}"])], limit=1
        ):
            raise UserError(
                self.env._(
                    "The website domain %(domain)s is already another website's: clear or "
                    "change it on the application first.",
                    domain=host,
                )
            )
        website = self.env["website"].create(
            {
                "name": application.business_name,
                "company_id": company.id,
                "domain": application.domain or False,
            }
        )
        if hasattr(website, "_isp_use_operator_texts"):
            website._isp_use_operator_texts()
        return website

    # --- the owner's note --------------------------------------------------------------
    @api.model
    def _approval_note(self, application, code, localized, bundles, providers):
        if localized:
            chart = self.env._("Chart of accounts loaded: %(code)s (the country's own).", code=code)
        else:
            chart = self.env._(
                "Chart of accounts loaded: Odoo's generic chart (%(code)s): the localisation "
                "of %(country)s is not installed. To give future operators of this country "
                "their own chart, install its localisation module (Apps) before approving.",
                code=code,
                country=application.country_id.name,
            )
        return self.env._(
            "Approved. Company %(company)s created. %(chart)s Bundles: %(bundles)s (no taxes: "
            "the operator sets its own). Payment providers, disabled until the operator "
            "enters its credentials: %(providers)s. Website: %(website)s.",
            company=application.company_id.name,
            chart=chart,
            bundles=", ".join(bundles.mapped("name")) or "-",
            providers=", ".join(providers.mapped("name")) or "-",
            website=application.website_id.domain or application.website_id.name,
        )
