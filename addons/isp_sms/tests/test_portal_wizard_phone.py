"""Grant Access (Odoo's portal wizard) for customers without an email: their login is their
mobile number and an SMS tells them how to sign in; customers with an email keep Odoo's
invitation email, unchanged."""

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.mail.tests.common import MockEmail

from .common import IspSmsCase


@tagged("post_install", "-at_install")
class TestPortalWizardPhone(IspSmsCase, MockEmail):
    def _line(self, partner):
        wizard = (
            self.env["portal.wizard"]
            .with_context(active_ids=partner.ids, active_model="res.partner")
            .create({})
        )
        return wizard.user_ids.filtered(lambda line: line.partner_id == partner)

    def _users(self, partner):
        return partner.with_context(active_test=False).user_ids

    def test_phone_only_customer_gets_a_phone_login_and_an_sms(self):
        partner = self._customer("0712 500 001", name="Halima")
        self.assertFalse(partner.email)
        line = self._line(partner)
        self.assertEqual(line.isp_login_phone, "+255712500001")
        self.assertEqual(line.email_state, "ok", "Grant Access is offered")
        with self.mock_mail_gateway():
            line.action_grant_access()
        user = self._users(partner)
        self.assertEqual(user.login, "+255712500001")
        self.assertTrue(user.active)
        self.assertTrue(user._is_portal())
        self.assertFalse(user.email)
        self.assertFalse(self._mails, "no email for a customer without one")
        (sms,) = self._sms_of(partner)
        self.assertEqual(sms.number, "+255712500001")
        self.assertIn("/web/login/phone", sms.body)
        self.assertIn("+255712500001", sms.body)
        self.assertNotIn("password", sms.body.lower())
        self.assertIn(partner.get_base_url(), sms.body)
        # in the customer's chatter, as an SMS (no secret in it)
        self.assertTrue(partner.message_ids.filtered(lambda m: m.message_type == "sms"))
        # the gateway sends it
        self._run_sms_queue()
        self.assertEqual([m["text"] for m in self.nextsms.accepted], [sms.body])
        # and the phone sign-in finds them
        Codes = self.env["isp.portal.login.code"]
        self.assertEqual(Codes._find_user(self.company, "+255712500001"), user)

    def test_swahili_customer_gets_the_swahili_sms(self):
        partner = self._customer("0712 500 002", lang="sw")
        self._line(partner).action_grant_access()
        self.assertIn("Akaunti yako", self._sms_of(partner).body)

    def test_email_partner_keeps_odoos_invitation(self):
        partner = self._customer("0712 500 003", email="rehema@example.com")
        line = self._line(partner)
        self.assertFalse(line.isp_login_phone)
        with self.mock_mail_gateway():
            line.action_grant_access()
        user = self._users(partner)
        self.assertEqual(user.login, "rehema@example.com")
        self.assertTrue(user._is_portal())
        self.assertEqual(len(self._mails), 1)
        self.assertIn("rehema@example.com", self._mails[0]["email_to"][0])
        self.assertFalse(self._sms_of(partner), "no SMS when Odoo's email goes")

    def test_invalid_email_keeps_odoos_message(self):
        partner = self._customer("0712 500 004")
        line = self._line(partner)
        line.email = "not-an-email"
        self.assertFalse(line.isp_login_phone)
        self.assertEqual(line.email_state, "ko")
        with self.assertRaisesRegex(UserError, "does not have a valid email"):
            line.action_grant_access()
        self.assertFalse(self._users(partner))

    def test_neither_email_nor_mobile(self):
        partner = self.env["res.partner"].create({"name": "No contact"})
        line = self._line(partner)
        self.assertEqual(line.email_state, "ko")
        with self.assertRaisesRegex(UserError, "neither a valid email nor a mobile phone"):
            line.action_grant_access()
        landline = self.env["res.partner"].create(
            {"name": "Landline", "phone": "+255222123456", "country_id": self.env.ref("base.tz").id}
        )
        self.assertFalse(self._line(landline).isp_login_phone)

    def test_number_already_a_login(self):
        first = self._customer("0712 500 005")
        self._line(first).action_grant_access()
        other = self.env["res.partner"].create({"name": "Same phone", "phone": "+255712500005"})
        line = self._line(other)
        self.assertEqual(line.email_state, "exist")
        with self.assertRaisesRegex(UserError, "already signs in with the phone number"):
            line.action_grant_access()

    def test_revoke_then_grant_again(self):
        partner = self._customer("0712 500 006")
        self._line(partner).action_grant_access()
        user = self._users(partner)
        line = self._line(partner)
        self.assertTrue(line.is_portal)
        line.action_revoke_access()
        self.assertFalse(user.active)
        self.assertFalse(user._is_portal())
        Codes = self.env["isp.portal.login.code"]
        self.assertFalse(Codes._find_user(self.company, "+255712500006"))
        # re-invited: the same login again, and another SMS
        self._line(partner).action_grant_access()
        self.assertTrue(user.active)
        self.assertEqual(self._users(partner), user)
        self.assertEqual(len(self._sms_of(partner)), 2)
        self.assertEqual(Codes._find_user(self.company, "+255712500006"), user)

    def test_invite_again_sends_the_sms_again(self):
        partner = self._customer("0712 500 007")
        self._line(partner).action_grant_access()
        self._line(partner).action_invite_again()
        self.assertEqual(len(self._sms_of(partner)), 2)
