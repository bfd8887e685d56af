from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

TEMPLATE_PORTAL_ACCESS = "isp_sms.sms_template_isp_portal_access"
PHONE_SIGN_IN_PATH = "/web/login/phone"


class PortalWizardUser(models.TransientModel):
    """Grant Access for customers without an email: a contact with a mobile phone number and
    no email gets a portal user whose login is the number (E.164), and an SMS telling how to
    sign in with it (the phone sign-in page, a code by SMS: no password). Contacts with an
    email go through Odoo's invitation email, unchanged."""

    _inherit = "portal.wizard.user"

    isp_login_phone = fields.Char(
        string="Sign-in Phone",
        compute="_compute_isp_login_phone",
        help="The mobile phone number this contact signs in with (they have no email).",
    )

    @api.depends("email", "partner_id.phone", "partner_id.country_id", "partner_id.company_id")
    def _compute_isp_login_phone(self):
        for line in self:
            # a typed email, even an invalid one, is Odoo's business (its message)
            line.isp_login_phone = False if (line.email or "").strip() else line._isp_mobile()

    def _isp_mobile(self):
        """The contact's mobile number in E.164, or False."""
        partner = self.partner_id
        if not partner.phone:
            return False
        country = partner.country_id or partner.company_id.country_id or self.env.company.country_id
        try:
            return self.env["res.partner"]._isp_normalize_phone(partner.phone, country)
        except ValidationError:
            return False

    @api.depends("email", "partner_id.phone", "partner_id.country_id", "partner_id.company_id")
    def _compute_email_state(self):
        """Override of portal: a contact without an email but with a mobile number is valid
        (its number is the login), unless another user already signs in with it."""
        super()._compute_email_state()
        phone_lines = self.filtered("isp_login_phone")
        if not phone_lines:
            return
        taken = (
            self.env["res.users"]
            .with_context(active_test=False)
            .sudo()
            .search_read([("login", "in", phone_lines.mapped("isp_login_phone"))], ["login"])
        )
        for line in phone_lines:
            others = [u for u in taken if u["login"] == line.isp_login_phone]
            line.email_state = "exist" if any(u["id"] != line.user_id.id for u in others) else "ok"

    def _assert_user_email_uniqueness(self):
        """Override of portal: the phone number's own messages for phone-only contacts."""
        self.ensure_one()
        if not self.isp_login_phone:
            if self.email_state == "ko" and not (self.email or "").strip():
                raise UserError(
                    self.env._(
                        'The contact "%(name)s" has neither a valid email nor a mobile phone '
                        "number to sign in with.",
                        name=self.partner_id.name,
                    )
                )
            return super()._assert_user_email_uniqueness()
        if self.email_state == "exist":
            raise UserError(
                self.env._(
                    "Another user already signs in with the phone number %(phone)s.",
                    phone=self.isp_login_phone,
                )
            )
        return None

    def _create_user(self):
        """Override of portal: a phone-only contact's login is their number."""
        if not self.isp_login_phone:
            return super()._create_user()
        return (
            self.env["res.users"]
            .with_context(no_reset_password=True)
            ._create_user_from_template(
                {
                    "login": self.isp_login_phone,
                    "partner_id": self.partner_id.id,
                    "company_id": self.env.company.id,
                    "company_ids": [fields.Command.set(self.env.company.ids)],
                }
            )
        )

    def _send_email(self):
        """Override of portal: a phone-only contact is told by SMS how to sign in."""
        if not self.isp_login_phone:
            return super()._send_email()
        self.ensure_one()
        self._isp_send_sign_in_sms()
        return True

    def _isp_send_sign_in_sms(self):
        """Queue the SMS *ISP: Portal access* (in the contact's language): the address of
        the phone sign-in page and the number to sign in with, no password. Posted in the
        contact's chatter (delivery status on the notification)."""
        template = self.env.ref(TEMPLATE_PORTAL_ACCESS, raise_if_not_found=False)
        if not template:
            raise UserError(self.env._("The SMS template for portal access is missing."))
        partner = self.partner_id.sudo()
        url = f"{partner.get_base_url()}{PHONE_SIGN_IN_PATH}"
        body = (
            template.sudo()
            .with_context(isp_sign_in_url=url, isp_login_phone=self.isp_login_phone)
            ._render_field("body", partner.ids, compute_lang=True)[partner.id]
        )
        partner._message_sms(
            body,
            partner_ids=partner.ids,
            sms_pid_to_number={partner.id: self.isp_login_phone},
            author_id=self.env.user.partner_id.id,
            put_in_queue=True,
        )
