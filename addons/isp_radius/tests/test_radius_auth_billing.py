"""Billing to the NAS with nothing in between: a payment's fulfilment is online the moment it
commits, an expiry is offline the moment it commits (no sync step, no queue)."""

import time
import uuid

from odoo import fields
from odoo.tests import tagged

from .common import RadiusCase


@tagged("post_install", "-at_install")
class TestRadiusBilling(RadiusCase):
    def test_payment_is_online_in_the_second_it_commits(self):
        phone = self.new_login()
        with self.committed() as env:
            partner = env["res.partner"].create(
                {
                    "name": f"RADIUS payer {phone}",
                    "is_isp_customer": True,
                    "phone": phone,
                    "company_id": self.company_a,
                }
            )
            self._created["res.partner"].append(partner.id)
        reference = f"RADIUS-PAY-{uuid.uuid4().hex[:10]}"
        # before: unknown to FreeRADIUS
        self.assertReject(self.nas_a_client.pap(phone, "anything"))
        with self.committed() as env:
            purchase = env["isp.purchase"]._fulfil(
                env["res.partner"].browse(partner.id),
                env["product.product"].browse(self.bundle_day),
                "payment",
                reference,
                amount=1000,
                invoice=False,
            )
            subscription = purchase.subscription_id
            self._created["isp.subscription"].append(subscription.id)
            login, password = subscription.login, subscription.sudo().password
            date_expiry = subscription.date_expiry
        committed_at = time.monotonic()
        reply = self.nas_a_client.pap(login, password)
        answered_in = time.monotonic() - committed_at
        self.assertAccept(reply)
        self.assertLess(answered_in, 1.0, "no sync step between the commit and the NAS")
        self.assertAlmostEqual(
            reply.attributes["Session-Timeout"][0], self.seconds_left(date_expiry), delta=2
        )
        self.assertAlmostEqual(reply.attributes["Session-Timeout"][0], 86400, delta=3)

    def test_expiry_sweep_then_reject_at_once(self):
        sub = self.make_subscription(self.bundle_day, hours=1)
        self.assertAccept(self.nas_a_client.pap(sub["login"], sub["password"]))
        with self.committed() as env:
            record = env["isp.subscription"].browse(sub["id"])
            now = fields.Datetime.now()
            env.cr.execute(
                "UPDATE isp_subscription SET date_start = %s, date_expiry = %s WHERE id = %s",
                [now.replace(year=now.year - 1), now.replace(microsecond=0), sub["id"]],
            )
            record.invalidate_recordset()
        with self.committed() as env:
            # the cron's own commits (outside a cron job, _commit_progress commits)
            env["isp.subscription"]._cron_expire_subscriptions()
            self.assertEqual(env["isp.subscription"].browse(sub["id"]).state, "expired")
        self.assertReject(self.nas_a_client.pap(sub["login"], sub["password"]))

    def test_suspension_and_resume_take_effect_at_the_next_request(self):
        sub = self.make_subscription(self.bundle_day)
        with self.committed() as env:
            env["isp.subscription"].browse(sub["id"]).action_suspend()
        self.assertReject(self.nas_a_client.pap(sub["login"], sub["password"]))
        with self.committed() as env:
            env["isp.subscription"].browse(sub["id"]).action_resume()
        self.assertAccept(self.nas_a_client.pap(sub["login"], sub["password"]))

    def test_password_change_and_archived_nas(self):
        sub = self.make_subscription(self.bundle_day)
        with self.committed() as env:
            env["isp.subscription"].browse(sub["id"]).sudo().password = "new-password-1"
        self.assertReject(self.nas_a_client.pap(sub["login"], sub["password"]))
        self.assertAccept(self.nas_a_client.pap(sub["login"], "new-password-1"))
        with self.committed() as env:
            env["isp.radius.nas"].browse(self.nas_other["id"]).active = False
        try:
            self.assertReject(self.nas_other_client.pap(sub["login"], "new-password-1"))
        finally:
            with self.committed() as env:
                env["isp.radius.nas"].browse(self.nas_other["id"]).active = True
