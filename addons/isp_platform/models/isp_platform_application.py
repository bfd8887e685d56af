"""An ISP operator's application to the platform: filled in on the public sign-up page,
approved (which provisions the operator's company) or rejected by the platform owner."""

import re
from datetime import timedelta

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import AccessError, LockError, UserError, ValidationError
from odoo.tools import escape_psql

# Countries the platform serves (sign-up page choices); the platform may add more with the
# system parameter isp_platform.signup_countries (comma-separated ISO codes).
DEFAULT_SIGNUP_COUNTRIES = "KE,TZ,UG"
# A host name: labels of letters, digits and hyphens (not at either end), a dot between
# them, a top-level domain of letters. No scheme, port, path, IP address or wildcard.
HOST_RE = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
EMAIL_RE = re.compile(r"^[^@\s<>,;\"']+@[^@\s<>,;\"']+\.[^@\s<>,;\"']+$")
# Abuse protection of the public page: applications per client address per hour.
SIGNUP_LIMIT_PER_IP = 3
SIGNUP_WINDOW = timedelta(hours=1)
PLATFORM_OWNER_GROUP = "isp_platform.group_isp_platform_manager"


class IspPlatformApplication(models.Model):
    _name = "isp.platform.application"
    _description = "Operator Application"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _rec_name = "business_name"

    reference = fields.Char(readonly=True, copy=False, default="/", index="btree_not_null")
    state = fields.Selection(
        [("pending", "Pending"), ("approved", "Approved"), ("rejected", "Rejected")],
        default="pending",
        required=True,
        readonly=True,
        tracking=True,
        index=True,
    )
    business_name = fields.Char(required=True, tracking=True)
    contact_name = fields.Char(required=True)
    email = fields.Char(required=True, index=True)
    phone = fields.Char(required=True, help="In E.164, normalised in the chosen country.")
    country_id = fields.Many2one("res.country", required=True)
    currency_id = fields.Many2one("res.currency", required=True)
    plan_id = fields.Many2one("isp.platform.plan", required=True, ondelete="restrict")
    platform_company_id = fields.Many2one(
        related="plan_id.company_id", string="Platform Company", store=True
    )
    domain = fields.Char(
        string="Website Domain",
        help="The host name of the operator's own website and captive page (optional).",
    )
    signup_ip = fields.Char(string="Client Address", readonly=True)
    company_id = fields.Many2one(
        "res.company",
        string="Operator Company",
        readonly=True,
        copy=False,
        help="The operator's company, created by the approval.",
    )
    user_id = fields.Many2one("res.users", string="Operator Administrator", readonly=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Operator (Platform Customer)",
        readonly=True,
        help="The operator as a customer of the platform company: its subscription is "
        "invoiced to this partner.",
    )
    website_id = fields.Many2one("website", string="Operator Website", readonly=True)
    chart_template = fields.Char(string="Chart of Accounts", readonly=True)
    reject_reason = fields.Text(readonly=True, tracking=True)
    approved_date = fields.Datetime(readonly=True)
    signin_url = fields.Char(compute="_compute_signin_url")

    _isp_reference_unique = models.UniqueIndex("(reference) WHERE reference != '/'")
    # one pending application per email, also when the same form is posted twice at once
    _isp_pending_email_unique = models.UniqueIndex("(lower(email)) WHERE state = 'pending'")

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("reference", "/") == "/":
                vals["reference"] = (
                    self.env["ir.sequence"].sudo().next_by_code("isp.platform.application")
                )
            self._normalize_vals(vals)
        return super().create(vals_list)

    def write(self, vals):
        return super().write(self._normalize_vals(dict(vals)))

    @api.model
    def _normalize_vals(self, vals):
        """Emails in lower case (one pending application per email), domains as bare host
        names, also when the platform owner edits them."""
        if vals.get("email"):
            vals["email"] = vals["email"].strip().lower()
        if vals.get("domain"):
            vals["domain"] = self._normalize_domain(vals["domain"])
        return vals

    def _compute_signin_url(self):
        """The platform's own address (web.base.url), not the operator's website: its
        domain may not point at the platform yet."""
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        for application in self:
            application.signin_url = f"{base.rstrip('/')}/web/login"

    @api.depends("business_name", "reference")
    def _compute_display_name(self):
        for application in self:
            application.display_name = (
                f"{application.reference} {application.business_name}"
                if application.reference and application.reference != "/"
                else application.business_name
            )

    # ------------------------------------------------------------------
    # Sign-up: validation of what the public page posts
    # ------------------------------------------------------------------
    @api.model
    def _signup_countries(self):
        codes = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("isp_platform.signup_countries", DEFAULT_SIGNUP_COUNTRIES)
        )
        codes = [code.strip().upper() for code in codes.split(",") if code.strip()]
        return self.env["res.country"].search([("code", "in", codes)], order="name")

    @api.model
    def _signup_currencies(self):
        """The currencies an operator may choose: those of the served countries, and USD."""
        currencies = self._signup_countries().currency_id
        usd = self.env.ref("base.USD", raise_if_not_found=False)
        if usd:
            currencies |= usd
        return currencies.sorted("name")

    @api.model
    def _signup_plans(self):
        return self.env["isp.platform.plan"].search([("active", "=", True)])

    @api.model
    def _normalize_domain(self, text):
        """``text`` as a bare lower-case host name, or raise a ValidationError."""
        host = (text or "").strip().lower().rstrip(".")
        for prefix in ("https://", "http://"):
            if host.startswith(prefix):
                host = host[len(prefix) :]
        host = host.rstrip("/")
        if not HOST_RE.match(host) or ".." in host:
            raise ValidationError(
                self.env._(
                    "The website domain must be a host name such as wifi.example.co.ke "
                    "(no spaces, path or port)."
                )
            )
        return host

    @api.model
    def _domain_taken(self, host):
        """Whether ``host`` is some website's domain or a pending/approved application's."""
        websites = (
            self.env["website"]
            .sudo()
            .search_count([("domain", "in", [host, f"https://{host}", f"http://{host}"])], limit=1)
        )
        applications = self.sudo().search_count(
            [("domain", "=", host), ("state", "!=", "rejected")], limit=1
        )
        return bool(websites or applications)

    @api.model
    def _signup_prepare(self, post):
        """Check what the sign-up page posted and return the application's values, or raise
        a ValidationError with a message for the page. ``post``: the form's fields."""

        def text(key, size=120):
            value = post.get(key)
            value = value.strip() if isinstance(value, str) else ""
            return value[:size]

        values = {
            "business_name": text("business_name"),
            "contact_name": text("contact_name"),
            "email": text("email", 254).lower(),
        }
        if not values["business_name"]:
            raise ValidationError(self.env._("Enter the name of your business."))
        if not values["contact_name"]:
            raise ValidationError(self.env._("Enter the name of the person we should contact."))
        if not EMAIL_RE.match(values["email"]):
            raise ValidationError(self.env._("Enter a valid email address."))
        country = self._signup_countries().filtered(lambda c: str(c.id) == text("country_id", 12))
        if not country:
            raise ValidationError(self.env._("Choose one of the countries we serve."))
        currency_id = text("currency_id", 12)
        currency = (
            self._signup_currencies().filtered(lambda c: str(c.id) == currency_id)
            if currency_id
            else country.currency_id
        )
        if not currency:
            raise ValidationError(self.env._("Choose one of the currencies offered."))
        phone = text("phone", 40)
        values["phone"] = self.env["res.partner"]._isp_normalize_phone(phone, country)
        plan = self._signup_plans().filtered(lambda p: str(p.id) == text("plan_id", 12))
        if not plan:
            raise ValidationError(self.env._("Choose one of the plans."))
        values.update(country_id=country.id, currency_id=currency.id, plan_id=plan.id)
        if text("domain", 260):
            host = self._normalize_domain(text("domain", 260))
            if self._domain_taken(host):
                raise ValidationError(
                    self.env._("The website domain %(domain)s is already taken.", domain=host)
                )
            values["domain"] = host
        if (
            self.env["res.company"]
            .sudo()
            .search_count([("name", "=ilike", escape_psql(values["business_name"]))], limit=1)
        ):
            raise ValidationError(
                self.env._(
                    "A business named %(name)s is already on the platform.",
                    name=values["business_name"],
                )
            )
        return values

    @api.model
    def _signup_submit(self, post, client_ip=None):
        """Create a pending application from the sign-up page's ``post`` (called as
        superuser by the public route). Returns the application, the pending one already
        there for this email (a repeated submission creates nothing), or raises a
        ValidationError (bad input) / UserError (too many applications from this address).
        """
        values = self._signup_prepare(post)
        existing = self.search(
            [("email", "=", values["email"]), ("state", "=", "pending")], limit=1
        )
        if existing:
            return existing
        if client_ip:
            recent = self.search_count(
                [
                    ("signup_ip", "=", client_ip),
                    ("create_date", ">=", fields.Datetime.now() - SIGNUP_WINDOW),
                ]
            )
            if recent >= SIGNUP_LIMIT_PER_IP:
                raise UserError(
                    self.env._(
                        "Too many applications were sent from your network in the last hour. "
                        "Please try again later."
                    )
                )
        try:
            with self.env.cr.savepoint():
                application = self.create(dict(values, signup_ip=client_ip))
        except psycopg2.errors.UniqueViolation:
            # the same email posted at the same moment: the other request created it
            return self.search([("email", "=", values["email"]), ("state", "=", "pending")])
        application._notify_received()
        return application

    def _notify_received(self):
        """Tell the platform owners (an activity each, in the chatter) and acknowledge the
        applicant by email."""
        owners = self.env["res.users"].search(
            [
                ("group_ids", "in", self.env.ref(PLATFORM_OWNER_GROUP).id),
                ("share", "=", False),
                ("id", "!=", self.env.ref("base.user_root").id),
            ]
        )
        template = self.env.ref("isp_platform.mail_template_application_received")
        for application in self:
            application.message_post(
                body=self.env._(
                    "New operator application from %(business)s (%(email)s), plan %(plan)s.",
                    business=application.business_name,
                    email=application.email,
                    plan=application.plan_id.name,
                ),
                subtype_xmlid="mail.mt_note",
            )
            for owner in owners:
                application.activity_schedule(
                    "mail.mail_activity_data_todo",
                    user_id=owner.id,
                    summary=self.env._("Review the operator application"),
                )
            template.send_mail(application.id)

    # ------------------------------------------------------------------
    # Approval and rejection (platform owners only)
    # ------------------------------------------------------------------
    def _check_platform_owner(self):
        if not self.env.su and not self.env.user.has_group(PLATFORM_OWNER_GROUP):
            raise AccessError(self.env._("Only the platform owner approves or rejects operators."))

    def _lock_pending(self):
        """Lock these rows (a concurrent approval or rejection of the same application fails
        here) and check that they are still pending."""
        try:
            self.lock_for_update()
        except LockError as exc:
            raise UserError(
                self.env._("This application is being processed: reload it in a moment.")
            ) from exc
        self.invalidate_recordset(["state"])
        for application in self:
            if application.state != "pending":
                raise UserError(
                    self.env._(
                        "Application %(name)s is already %(state)s.",
                        name=application.display_name,
                        state=dict(self._fields["state"]._description_selection(self.env))[
                            application.state
                        ],
                    )
                )

    def action_approve(self):
        """Create each operator's company, administrator, partner, subscription, bundles,
        providers and website, exactly once (the row is locked, then must be pending)."""
        self._check_platform_owner()
        self.check_access("write")
        self._lock_pending()
        provisioning = self.env["isp.platform.provisioning"].sudo()
        for application in self.sudo():
            provisioning._provision(application)
        return True

    def action_open_reject_wizard(self):
        self._check_platform_owner()
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reject Application"),
            "res_model": "isp.platform.application.reject",
            "view_mode": "form",
            "target": "new",
            "context": {"default_application_id": self.id},
        }

    def _reject(self, reason):
        self._check_platform_owner()
        self.check_access("write")
        reason = (reason or "").strip()
        if not reason:
            raise UserError(self.env._("Give the applicant a reason."))
        self._lock_pending()
        self.write({"state": "rejected", "reject_reason": reason})
        template = self.env.ref("isp_platform.mail_template_application_rejected")
        for application in self:
            application.activity_unlink(["mail.mail_activity_data_todo"])
            template.sudo().send_mail(application.id)
        return True

    def action_open_company(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "res.company",
            "res_id": self.company_id.id,
            "view_mode": "form",
        }
