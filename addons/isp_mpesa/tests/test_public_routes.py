from odoo.tests import tagged

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
