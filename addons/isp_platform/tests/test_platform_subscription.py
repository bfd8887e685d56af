"""Platform subscriptions: the first invoice, renewals issued once per period, reminder
emails, grace → suspended → restored at once by a payment, and the sale refusal."""

from datetime import date
from unittest.mock import patch

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .test_platform_subscription_common import PlatformMixin

NEUTRAL = "Online purchases are unavailable at the moment. Please contact the shop."


@tagged("post_install", "-at_install")
class TestPlatformSubscription(PlatformMixin, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_platform()
        cls.operator = cls._operator_company("Kilimo Wi-Fi")
        cls.partner = cls._partner("Kilimo Wi-Fi", "owner@kilimo.example.com")

    def _subscribe_on(self, day):
        with freeze_time(day):
            return self._subscribe(self.operator, self.partner)

    def _cron_on(self, day):
        with freeze_time(day):
            return self._run_cron()

    def test_first_invoice_at_creation(self):
        sub = self._subscribe_on("2026-01-10 09:00:00")
        self.assertEqual(sub.state, "active")
        self.assertEqual((sub.period_start, sub.period_end), (date(2026, 1, 10), date(2026, 2, 9)))
        # the next period is invoiced 7 days before it starts
        self.assertEqual(sub.next_invoice_date, date(2026, 2, 3))
        move = sub.invoice_ids
        self.assertEqual(len(move), 1)
        self.assertEqual(
            (move.state, move.move_type, move.company_id, move.partner_id),
            ("posted", "out_invoice", self.platform, self.partner),
        )
        self.assertEqual(move.amount_total, 1000)
        self.assertEqual(move.invoice_line_ids.product_id, self.plan.product_id)
        self.assertIn("Starter: Kilimo Wi-Fi", move.invoice_line_ids.name)
        self.assertIn("01/10/2026 to 02/09/2026", move.invoice_line_ids.name)
        self.assertEqual((move.invoice_date, move.invoice_date_due), (date(2026, 1, 10),) * 2)
        # the invoice email to the operator, with its pay link (portal + access token)
        email = self._emails(move, "Here is your platform subscription invoice")
        self.assertEqual(len(email), 1)
        self.assertIn(self.partner, email.partner_ids)
        self.assertIn(f"/my/invoices/{move.id}?access_token={move.access_token}", email.body)
        # one subscription per operator company
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            with self.env.cr.savepoint():
                self._subscribe(self.operator, self.partner)

    def test_only_the_platform_owner_creates_subscriptions(self):
        admin = self._operator_admin("kilimo-admin", self.operator)
        with self.assertRaises(Exception):  # noqa: B017  AccessError
            self.env["isp.platform.subscription"].with_user(admin)._create_for_operator(
                self.operator, self.partner, self.plan
            )
        self.assertFalse(self.env["isp.platform.subscription"].search([]))

    def test_renewal_cron_twice_issues_one_invoice_per_period(self):
        sub = self._subscribe_on("2026-01-10 09:00:00")
        self._pay(sub.invoice_ids)
        # the day before the invoice date: nothing
        self._cron_on("2026-02-02 09:00:00")
        self.assertEqual(len(sub.invoice_ids), 1)
        # the invoice date, twice the same day, then the next day: one invoice
        self._cron_on("2026-02-03 09:00:00")
        self._cron_on("2026-02-03 18:00:00")
        self._cron_on("2026-02-04 09:00:00")
        self.assertEqual(len(sub.invoice_ids), 2)
        renewal = sub.invoice_ids.filtered(
            lambda m: m.isp_platform_period_start == date(2026, 2, 10)
        )
        self.assertEqual(renewal.isp_platform_period_end, date(2026, 3, 9))
        self.assertEqual(renewal.invoice_date_due, date(2026, 2, 10))
        self.assertIn("02/10/2026 to 03/09/2026", renewal.invoice_line_ids.name)
        self.assertEqual(sub.next_invoice_date, date(2026, 3, 3))
        # the period starts: the current period moves, no new invoice
        self._pay(renewal)
        self._cron_on("2026-02-10 09:00:00")
        self.assertEqual((sub.period_start, sub.period_end), (date(2026, 2, 10), date(2026, 3, 9)))
        self.assertEqual(len(sub.invoice_ids), 2)
        self.assertEqual(sub.state, "active")
        # a month without a cron run: the missed period is invoiced once when it runs again
        self._cron_on("2026-03-12 09:00:00")
        self._cron_on("2026-03-12 10:00:00")
        starts = sorted(sub.invoice_ids.mapped("isp_platform_period_start"))
        self.assertEqual(starts, [date(2026, 1, 10), date(2026, 2, 10), date(2026, 3, 10)])
        # a second invoice of one period is refused by the database itself (concurrent runs)
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            with self.env.cr.savepoint():
                renewal.copy(
                    {
                        "isp_platform_subscription_id": sub.id,
                        "isp_platform_period_start": date(2026, 2, 10),
                    }
                )
                self.env.flush_all()
        # _issue_invoice of a period already invoiced: nothing
        self.assertFalse(sub._issue_invoice(date(2026, 2, 10), date(2026, 3, 9)))

    def test_yearly_plan_periods(self):
        with freeze_time("2026-01-31 09:00:00"):
            sub = self._subscribe(self.operator, self.partner, self.yearly)
        self.assertEqual((sub.period_start, sub.period_end), (date(2026, 1, 31), date(2027, 1, 30)))
        self.assertEqual(sub.monthly_amount, 1000)

    def test_month_ends_do_not_drift(self):
        sub = self._subscribe_on("2026-01-31 09:00:00")
        self.assertEqual(sub.period_end, date(2026, 2, 27))
        self._pay(sub.invoice_ids)
        self._cron_on("2026-02-28 09:00:00")
        self.assertEqual((sub.period_start, sub.period_end), (date(2026, 2, 28), date(2026, 3, 30)))

    def test_reminder_email_once(self):
        sub = self._subscribe_on("2026-01-10 09:00:00")
        self._pay(sub.invoice_ids)
        self._cron_on("2026-02-03 09:00:00")
        renewal = sub.invoice_ids - sub.invoice_ids.filtered(lambda m: m.payment_state == "paid")
        self.assertEqual(
            len(self._emails(renewal, "Here is your platform subscription invoice")), 1
        )
        # 4 days before the due date: no reminder yet; 3 days before: one, and only one
        self._cron_on("2026-02-06 09:00:00")
        self.assertFalse(self._emails(renewal, "renews soon"))
        self._cron_on("2026-02-07 09:00:00")
        self._cron_on("2026-02-07 15:00:00")
        self._cron_on("2026-02-08 09:00:00")
        reminder = self._emails(renewal, "renews soon")
        self.assertEqual(len(reminder), 1)
        self.assertIn(self.partner, reminder.partner_ids)
        self.assertIn(renewal.name, reminder.body)
        self.assertIn("1,000.00", reminder.body)
        self.assertIn(
            f"/my/invoices/{renewal.id}?access_token={renewal.access_token}", reminder.body
        )
        mail = self.env["mail.mail"].search([("mail_message_id", "=", reminder.id)])
        self.assertEqual(mail.recipient_ids, self.partner)
        # a paid invoice gets no reminder
        self._pay(renewal)
        self._cron_on("2026-03-07 09:00:00")
        self.assertEqual(len(self._emails(renewal, "renews soon")), 1)

    def test_grace_then_suspended_then_restored_at_once(self):
        sub = self._subscribe_on("2026-01-10 09:00:00")
        first = sub.invoice_ids
        self.assertFalse(self.operator._isp_sale_refusal())
        # due on the 10th, unpaid on the 11th: grace (sales go on), an overdue email
        self._cron_on("2026-01-11 09:00:00")
        self.assertEqual(sub.state, "grace")
        self.assertFalse(self.operator._isp_sale_refusal())
        self.assertEqual(len(self._emails(first, "is unpaid")), 1)
        with freeze_time("2026-01-11 09:00:00"):
            sub.invalidate_recordset()
            self.assertEqual(sub.pay_by_date, date(2026, 1, 17))
        # the last day of grace (due + 7): still grace
        self._cron_on("2026-01-17 09:00:00")
        self.assertEqual(sub.state, "grace")
        # past it: suspended, new sales refused with the neutral message; one email
        self._cron_on("2026-01-18 09:00:00")
        self._cron_on("2026-01-18 10:00:00")
        self.assertEqual(sub.state, "suspended")
        self.assertEqual(self.operator.sudo().isp_platform_state, "suspended")
        self.assertEqual(self.operator._isp_sale_refusal(), NEUTRAL)
        self.assertEqual(len(self._emails(first, "new online purchases are paused")), 1)
        self.assertNotIn("platform", NEUTRAL.lower())
        # paid: active in the same transaction, no cron needed
        self._pay(first)
        self.assertEqual(first.payment_state, "paid")
        self.assertEqual(sub.state, "active")
        self.assertFalse(self.operator._isp_sale_refusal())
        self.assertIn("active again", sub.message_ids[0].body)

    def test_partial_payment_keeps_suspension(self):
        sub = self._subscribe_on("2026-01-10 09:00:00")
        self._cron_on("2026-01-20 09:00:00")
        self.assertEqual(sub.state, "suspended")
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=sub.invoice_ids.ids
        ).create({"journal_id": self.bank.id, "amount": 400})._create_payments()
        self.assertEqual(sub.invoice_ids.payment_state, "partial")
        sub._update_state()
        self.assertEqual(sub.state, "suspended")
        self.assertEqual(self.operator._isp_sale_refusal(), NEUTRAL)

    def test_cancelled_pauses_sales_and_stops_invoicing(self):
        sub = self._subscribe_on("2026-01-10 09:00:00")
        self._pay(sub.invoice_ids)
        sub.action_cancel()
        self.assertEqual(self.operator._isp_sale_refusal(), NEUTRAL)
        self._cron_on("2026-02-05 09:00:00")
        self.assertEqual(len(sub.invoice_ids), 1)
        with freeze_time("2026-03-01 09:00:00"):
            sub.action_reactivate()
        self.assertEqual(sub.state, "active")
        self.assertEqual(len(sub.invoice_ids), 2)
        self.assertFalse(self.operator._isp_sale_refusal())

    def test_operator_admin_cannot_change_its_platform_state(self):
        sub = self._subscribe_on("2026-01-10 09:00:00")
        self._cron_on("2026-01-20 09:00:00")
        admin = self._operator_admin("kilimo-admin", self.operator)
        with self.assertRaises(Exception):  # noqa: B017  AccessError: field of the platform owner
            self.operator.with_user(admin).write({"isp_platform_state": "active"})
        with self.assertRaises(Exception):  # noqa: B017  AccessError: no access to the model
            sub.with_user(admin).read(["state"])
        with self.assertRaises(Exception):  # noqa: B017
            sub.with_user(admin).action_refresh_state()
        self.assertEqual(self.operator._isp_sale_refusal(), NEUTRAL)

    def test_concurrent_run_invoicing_the_same_period_is_skipped(self):
        """Two runs at once: the second does not see the first's uncommitted invoice in its
        search, and its INSERT is refused by the unique index once the first commits. Here
        the search is blinded the same way: the refusal is absorbed (savepoint), nothing
        else is rolled back, and the period keeps one invoice."""
        sub = self._subscribe_on("2026-01-10 09:00:00")
        Move = type(self.env["account.move"])
        search = Move.search

        def blind_search(records, domain, *args, **kwargs):
            if any(
                isinstance(leaf, tuple | list) and leaf[0] == "isp_platform_period_start"
                for leaf in domain
            ):
                return records.browse()
            return search(records, domain, *args, **kwargs)

        with patch.object(Move, "search", blind_search), mute_logger("odoo.sql_db"):
            again = sub._issue_invoice(date(2026, 1, 10), date(2026, 2, 9))
        self.assertFalse(again)
        self.assertEqual(len(sub.invoice_ids), 1)
        self.assertEqual(sub.invoice_ids.state, "posted")
