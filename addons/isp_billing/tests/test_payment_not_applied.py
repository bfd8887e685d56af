from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from .common import IspPaymentCase


@tagged("post_install", "-at_install")
class TestPaymentNotApplied(IspPaymentCase):
    """Money taken without access (a confirmed transaction the fulfilment refused) is flagged
    Paid, Not Applied, counted on the dashboard, and decided by an ISP manager: Grant Access
    (the same exactly-once fulfilment) or Record Refund, each traced in the customer's
    chatter."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls._customer("0712345678")
        cls.manager = cls._staff("isp_np_manager", "isp_billing.group_isp_manager")
        # an ISP user who is also an accountant: reads (and writes) transactions, but staff
        # decisions on them are ISP managers'
        cls.clerk = cls._staff(
            "isp_np_clerk", "isp_billing.group_isp_user", "account.group_account_invoice"
        )
        cls.Dashboard = cls.env["isp.dashboard"].with_context(allowed_company_ids=[cls.company.id])

    @classmethod
    def _staff(cls, login, *groups):
        return cls.env["res.users"].create(
            {
                "name": login,
                "login": login,
                "company_id": cls.company.id,
                "company_ids": [Command.set(cls.company.ids)],
                "group_ids": [Command.set([cls.env.ref(group).id for group in groups])],
            }
        )

    def _short_paid(self, reference, amount=900):
        """A transaction for the daily bundle (1,000) confirmed with ``amount``."""
        tx = self._test_transaction(reference, self.customer, amount, isp_bundle_id=self.daily.id)
        tx.provider_reference = f"R-{reference}"
        tx._set_done()
        return tx

    def _cards(self):
        data = self.Dashboard.get_dashboard_data()
        return {card["key"]: card for section in data["sections"] for card in section["cards"]}

    def _not_applied_filter(self):
        view = self.env.ref("isp_billing.payment_transaction_view_search")
        self.assertIn('name="isp_not_applied"', view.arch_db)
        return [("isp_access_state", "=", "not_applied")]

    def test_fulfilment_failure_is_flagged_and_counted(self):
        ok = self._short_paid("NA-OK", amount=1000)
        tx = self._short_paid("NA-1")
        self.assertEqual(ok.isp_access_state, "fulfilled")
        self.assertEqual(tx.isp_access_state, "not_applied")
        self.assertIn("900", tx.isp_not_applied_reason)
        self.assertFalse(tx.isp_purchase_id)
        self.assertFalse(
            self.customer.isp_subscription_ids.filtered(lambda s: s.state == "active")
            - ok.isp_subscription_id
        )
        # the search filter and the dashboard figure find it, and only it
        found = self.env["payment.transaction"].search(self._not_applied_filter())
        self.assertEqual(found, tx)
        cards = self._cards()
        card = cards["payments_not_applied"]
        self.assertEqual(card["value"], 1)
        self.assertEqual(card["tone"], "danger")
        opened = self.env["payment.transaction"].search(card["action"]["domain"])
        self.assertEqual(opened, tx)
        # not a green "Confirmed": the confirmed figure counts the applied one only
        self.assertEqual(cards["payments_done"]["value"], 1)
        self.assertEqual(
            self.env["payment.transaction"].search(cards["payments_done"]["action"]["domain"]), ok
        )
        payments = self.Dashboard.get_dashboard_data()["lists"]["payments"]
        rows = {row["reference"]: row for row in payments}
        self.assertEqual(rows["NA-1"]["state"], "not_applied")
        self.assertEqual(rows["NA-1"]["state_label"], "Paid, Not Applied")
        self.assertEqual(rows["NA-OK"]["state"], "done")
        # the post-processing (status poll, cron) does not retry it: staff decide
        tx._post_process()
        self.assertFalse(tx.isp_purchase_id)
        self.assertEqual(tx.isp_access_state, "not_applied")

    def test_bundle_without_company_is_flagged(self):
        shared = self._bundle("Shared", 1000, 1, "days", company_id=False)
        tx = self._test_transaction("NA-SHARED", self.customer, 1000, isp_bundle_id=shared.id)
        tx._set_done()
        self.assertEqual(tx.isp_access_state, "not_applied")
        self.assertIn("belongs to no company", tx.isp_not_applied_reason)
        self.assertFalse(self.customer.isp_subscription_ids)

    def test_grant_access_for_a_bundle_without_company(self):
        """The bundle's sale check refused the payment; staff's Grant Access gives the period
        once, without an invoice at a price that has no currency: the amount received is kept
        and the note tells the accountant to invoice it by hand."""
        shared = self._bundle("Shared", 1000, 1, "days", company_id=False)
        tx = self._test_transaction("NA-SHARED-G", self.customer, 1000, isp_bundle_id=shared.id)
        tx._set_done()
        self.assertEqual(tx.isp_access_state, "not_applied")
        for _click in range(2):
            tx.with_user(self.manager).action_isp_grant_access()
        purchases = self.env["isp.purchase"].search([("reference", "=", "NA-SHARED-G")])
        self.assertEqual(len(purchases), 1)
        self.assertEqual(tx.isp_purchase_id, purchases)
        self.assertEqual(tx.isp_access_state, "granted")
        self.assertEqual(tx.isp_subscription_id.state, "active")
        self.assertEqual(self._hours(purchases.date_end - purchases.date_start), 24)
        self.assertEqual((purchases.invoice_status, purchases.amount), ("no", 1000))
        self.assertIn("No invoice was issued", tx.isp_decision_note)
        self.assertIn("belongs to no company", tx.isp_decision_note)
        # Odoo records the payment; no invoice is made for it
        tx._post_process()
        self._run_post_processing_cron()
        self.assertFalse(purchases.invoice_id)
        self.assertEqual(tx.payment_id.amount, 1000)

    def test_short_payment_of_a_new_payer_names_the_payer(self):
        """A provider module ends a short payment in error and flags it (isp_mpesa): the money
        is confirmed, so the payer's customer is created and named on the payment."""
        public = self.env.ref("base.public_partner")
        tx = self._test_transaction(
            "NA-NEW", public, 1000, isp_bundle_id=self.daily.id, isp_phone="+255754000111"
        )
        tx._set_error("Paid 600 of 1,000")
        tx._isp_mark_not_applied("Paid 600 of 1,000")
        payer = tx.partner_id
        self.assertNotEqual(payer, public)
        self.assertTrue(payer.is_isp_customer)
        self.assertEqual((payer.phone, payer.company_id), ("+255754000111", self.company))
        tx.with_user(self.manager)._isp_record_refund("M-Pesa reversal RTY789")
        self.assertFalse(public.message_ids.filtered(lambda m: "NA-NEW" in (m.body or "")))
        message = payer.message_ids.filtered(lambda m: "NA-NEW" in (m.body or ""))
        self.assertIn("refund recorded by staff", message.body)

    def test_decided_payments_refuse_the_other_decision(self):
        granted = self._short_paid("NA-G")
        granted.with_user(self.manager).action_isp_grant_access()
        with self.assertRaisesRegex(UserError, "already gave access"):
            granted.with_user(self.manager)._isp_record_refund("too late")
        refunded = self._short_paid("NA-R")
        refunded.with_user(self.manager)._isp_record_refund("reversed")
        with self.assertRaisesRegex(UserError, "refund was already recorded"):
            refunded.with_user(self.manager).action_isp_grant_access()
        self.assertEqual(
            (granted.isp_access_state, refunded.isp_access_state), ("granted", "refunded")
        )

    def test_grant_access_activates_exactly_once(self):
        tx = self._short_paid("NA-2")
        self.assertEqual(self._cards()["payments_not_applied"]["value"], 1)
        tx_manager = tx.with_user(self.manager)
        tx_manager.action_isp_grant_access()
        tx_manager.action_isp_grant_access()  # a second click
        purchases = self.env["isp.purchase"].search([("reference", "=", "NA-2")])
        self.assertEqual(len(purchases), 1)
        self.assertEqual(tx.isp_purchase_id, purchases)
        self.assertEqual(tx.isp_access_state, "granted")
        sub = tx.isp_subscription_id
        self.assertEqual(sub.state, "active")
        self.assertEqual(self._hours(purchases.date_end - purchases.date_start), 24)
        self.assertIn("isp_np_manager", tx.isp_decision_note)
        self.assertEqual(self._cards()["payments_not_applied"]["value"], 0)
        # traced in the customer's chatter, by the manager
        message = self.customer.message_ids.filtered(lambda m: "NA-2" in (m.body or ""))
        self.assertEqual(len(message), 1)
        self.assertIn("access granted by staff", message.body)
        self.assertEqual(message.author_id, self.manager.partner_id)
        # the invoice at the bundle's price, issued by the post-processing the grant ran
        # again; the 900 received (Odoo's payment when it was confirmed) pays part of it
        invoice = purchases.invoice_id
        self.assertEqual(purchases.invoice_status, "invoiced")
        self.assertEqual(tx.invoice_ids, invoice)
        self.assertTrue(tx.is_post_processed)
        self.assertEqual(
            self.env["account.payment"].search_count([("payment_transaction_id", "=", tx.id)]), 1
        )
        self.assertEqual(invoice.amount_total, 1000)
        self.assertEqual(tx.payment_id.amount, 900)
        self.assertEqual(invoice.payment_state, "partial")
        self.assertEqual(invoice.amount_residual, 100)
        # a refund can no longer be recorded for it
        with self.assertRaises(UserError):
            tx.with_user(self.manager)._isp_record_refund("too late")

    def test_record_refund_gives_no_access(self):
        tx = self._short_paid("NA-3")
        action = tx.with_user(self.manager).action_isp_record_refund()
        wizard = Form(
            self.env[action["res_model"]].with_user(self.manager).with_context(**action["context"])
        )
        with self.assertRaises(AssertionError):  # the note is required
            wizard.save()
        wizard.note = "M-Pesa reversal QWE123 on 12 May"
        wizard.save().action_confirm()
        self.assertEqual(tx.isp_access_state, "refunded")
        self.assertIn("QWE123", tx.isp_decision_note)
        self.assertFalse(tx.isp_purchase_id)
        self.assertFalse(self.customer.isp_subscription_ids)
        self.assertEqual(self._cards()["payments_not_applied"]["value"], 0)
        self.assertEqual(self._cards()["payments_done"]["value"], 0)
        message = self.customer.message_ids.filtered(lambda m: "NA-3" in (m.body or ""))
        self.assertIn("refund recorded by staff", message.body)
        # no access can be granted for it afterwards
        with self.assertRaises(UserError):
            tx.with_user(self.manager).action_isp_grant_access()
        self.assertFalse(tx.isp_purchase_id)

    def test_only_isp_managers_decide(self):
        tx = self._short_paid("NA-4")
        tx.with_user(self.clerk).check_access("read")  # the clerk sees it...
        with self.assertRaises(AccessError):
            tx.with_user(self.clerk).action_isp_grant_access()
        with self.assertRaises(AccessError):
            tx.with_user(self.clerk)._isp_record_refund("refunded")
        with self.assertRaises(AccessError):
            tx.with_user(self.clerk).action_isp_record_refund()
        self.assertEqual(tx.isp_access_state, "not_applied")
        self.assertFalse(tx.isp_purchase_id)
        self.assertFalse(self.env["isp.purchase"].search([("reference", "=", "NA-4")]))
        # ... and the ISP manager, without invoicing rights, reads it and decides
        self.assertFalse(self.manager.has_group("account.group_account_invoice"))
        self.assertEqual(
            self.env["payment.transaction"]
            .with_user(self.manager)
            .search(self._not_applied_filter()),
            tx,
        )
        tx.with_user(self.manager).action_isp_grant_access()
        self.assertEqual(tx.isp_access_state, "granted")

    def test_only_payments_taken_without_access_are_decided(self):
        ok = self._short_paid("NA-5", amount=1000)
        with self.assertRaises(UserError):
            ok.with_user(self.manager)._isp_record_refund("no")
        ok.with_user(self.manager).action_isp_grant_access()  # already given: nothing
        self.assertEqual(self.env["isp.purchase"].search_count([("reference", "=", "NA-5")]), 1)
        pending = self._test_transaction("NA-6", self.customer, 1000, isp_bundle_id=self.daily.id)
        with self.assertRaises(UserError):
            pending.with_user(self.manager).action_isp_grant_access()
        self.assertFalse(pending.isp_purchase_id)
