from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import MpesaCase


@tagged("post_install", "-at_install")
class TestPublicRoutesRefuseHostileBodies(MpesaCase):
    def test_bodies_python_cannot_parse_are_refused_not_crashed(self):
        """Nesting deeper than Python's JSON parser goes raised RecursionError: a 500."""
        tx = self._push()
        token = tx._daraja_callback_token()
        for path in (f"/payment/daraja/callback/{token}", "/payment/clickpesa/webhook"):
            for body in ("[" * 5000, '{"Body": ' * 5000):
                with self.subTest(path=path, body=body[:10]):
                    response = self.url_open(
                        path,
                        data=body,
                        headers={"Content-Type": "application/json"},
                        method="POST",
                    )
                    self.assertEqual(response.status_code, 400, response.text[:200])
        tx.invalidate_recordset()
        self.assertEqual(tx.state, "pending")
        self.assertFalse(tx.isp_callback_ids)


@tagged("post_install", "-at_install")
class TestNotificationsAccess(MpesaCase):
    def test_only_who_reads_payments_reads_the_providers_notifications(self):
        """Notifications carry payers' numbers and names: readable by those who read the
        payment transactions (invoicing users, ISP managers, administrators), not by every
        internal user."""
        tx = self._push()
        self._daraja_callback(tx)
        self.assertTrue(tx.isp_callback_ids)
        company = {"company_id": self.ke_company.id, "company_ids": [(6, 0, self.ke_company.ids)]}
        for login, groups, allowed in (
            ("notif-employee", "base.group_user", False),
            ("notif-isp-user", "isp_billing.group_isp_user", False),
            ("notif-isp-manager", "isp_billing.group_isp_manager", True),
            ("notif-accountant", "account.group_account_invoice", True),
        ):
            user = new_test_user(self.env, login=login, groups=groups, **company)
            env = self.env(user=user, context={"allowed_company_ids": self.ke_company.ids})
            Callback = env["isp.mpesa.callback"]
            with self.subTest(groups=groups):
                self.assertEqual(Callback.has_access("read"), allowed)
                if allowed:
                    self.assertEqual(
                        Callback.search([("transaction_id", "=", tx.id)]).ids,
                        tx.isp_callback_ids.ids,
                    )
                else:
                    with self.assertRaises(AccessError):
                        Callback.search([])
