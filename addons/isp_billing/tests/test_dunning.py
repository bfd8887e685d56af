"""Payment reminders for unpaid PPPoE invoices (isp.dunning.step): the schedule in the
company's days and hours, exactly once per invoice and day (a second run, concurrent runs),
stopped by payment, and what goes out. The prompt and the SMS are other modules' (isp_mpesa's
push, isp_sms's text, tested end to end in tests/test_dunning.py): here the hooks
``payment.transaction._isp_send_push`` and ``account.move._isp_dunning_notify`` are recorded,
the push as a provider that can push (Odoo's dummy provider) would do it."""

import threading
from datetime import date, datetime
from unittest.mock import patch

from freezegun import freeze_time

from odoo import SUPERUSER_ID, Command, api
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from .common import IspCommittedCase, IspPaymentCase
from .test_recurring import IspRecurringCase


class PushRecorder:
    """Records the pushes and reminder notifications asked for (also from other threads), and
    plays the provider: the push puts the transaction pending, or in error when told to fail,
    or refuses it (UserError) before anything is sent."""

    def __init__(self):
        self.lock = threading.Lock()
        self.pushes = []  # (invoice ids, amount, phone)
        self.notified = []  # (invoice id, day, push_state)
        self.outcome = "pending"

    def patches(self, env):
        recorder = self
        Provider = type(env["payment.provider"])
        Tx = type(env["payment.transaction"])
        Move = type(env["account.move"])

        def can_push(provider):
            return provider.code == "none"

        def send_push(tx, phone, client_ip=None):
            with recorder.lock:
                recorder.pushes.append((tuple(tx.invoice_ids.ids), tx.amount, phone))
            if recorder.outcome == "refused":
                raise UserError(tx.env._("This number is not a mobile money number."))
            if recorder.outcome == "error":
                tx._set_error("The provider is not reachable.")
            else:
                tx._set_pending()
            return tx

        def notify(move, step):
            with recorder.lock:
                recorder.notified.append((move.id, step.day, step.push_state))
            return move.message_ids[:1] or True

        return [
            patch.object(Provider, "_isp_can_push", can_push),
            patch.object(Tx, "_isp_send_push", send_push),
            patch.object(Move, "_isp_dunning_notify", notify),
        ]


class DunningCase(IspRecurringCase, IspPaymentCase):
    """Reminders on the due date, 3 and 7 days after it, in Dar es Salaam (UTC+3); Odoo's
    dummy provider, enabled, plays a provider that can push."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {"isp_dunning_enabled": True, "isp_dunning_days": "0,3,7", "isp_dunning_push": True}
        )
        cls.provider.state = "test"

    def setUp(self):
        super().setUp()
        self.recorder = PushRecorder()
        for patcher in self.recorder.patches(self.env):
            patcher.start()
            self.addCleanup(patcher.stop)

    def _invoice(self, phone):
        """A pre-paid subscription invoiced on 10 January 2026, due on the 17th."""
        with freeze_time("2026-01-10 07:00:00"):
            sub = self._subscribe(phone, self.prepaid)
            self._run_billing()
        invoice = sub.recurring_invoice_ids
        self.assertEqual(invoice.invoice_date_due, date(2026, 1, 17))
        return invoice

    def _run_dunning(self, at):
        """Run the reminders cron at ``at`` (UTC), its commits recorded, not done."""
        reports = []

        def commit_progress(cron, processed=0, *, remaining=None, deactivate=False):
            reports.append((processed, remaining))
            return 60.0

        with (
            freeze_time(at),
            patch.object(type(self.env["ir.cron"]), "_commit_progress", commit_progress),
        ):
            self.env["isp.dunning.step"]._cron_isp_dunning()
        self.env.invalidate_all()
        return reports

    def _steps(self, invoice):
        return self.env["isp.dunning.step"].search([("move_id", "=", invoice.id)], order="day")


@tagged("post_install", "-at_install")
class TestDunningSchedule(DunningCase):
    def test_due_date_then_3_and_7_days_after_in_company_hours(self):
        invoice = self._invoice("+255712800001")
        residual = invoice.amount_residual
        for moment in (
            "2026-01-16 07:00:00",  # the day before: nothing
            "2026-01-16 22:00:00",  # 01:00 on the 17th in Dar es Salaam: due today, but night
            "2026-01-17 04:30:00",  # 07:30 local: still too early
        ):
            self._run_dunning(moment)
            self.assertFalse(self._steps(invoice), moment)
        self._run_dunning("2026-01-17 05:00:00")  # 08:00 local
        step = self._steps(invoice)
        self.assertEqual((step.day, step.state, step.push_state), (0, "sent", "sent"))
        self.assertEqual(step.date, date(2026, 1, 17))
        self.assertEqual(self.recorder.pushes, [((invoice.id,), residual, "+255712800001")])
        self.assertEqual(self.recorder.notified, [(invoice.id, 0, "sent")])
        tx = step.transaction_id
        self.assertEqual(tx.invoice_ids, invoice, "the prompt's payment pays this invoice")
        self.assertEqual(
            (tx.state, tx.amount, tx.partner_id), ("pending", residual, invoice.partner_id)
        )
        # what went out, in the invoice's and the subscription's chatter
        for record in (invoice, invoice.isp_subscription_id):
            note = record.message_ids[0].body
            self.assertIn("Payment reminder (due date)", note)
            self.assertIn("M-Pesa prompt for", note)
            self.assertIn(tx.reference, note)
        # the same day, later: nothing more (the prompt is still pending, and the step is done)
        for moment in ("2026-01-17 09:00:00", "2026-01-17 16:59:00", "2026-01-18 07:00:00"):
            self._run_dunning(moment)
        self.assertEqual(len(self._steps(invoice)), 1)
        self.assertEqual(len(self.recorder.pushes), 1)
        # the prompt was not answered (M-Pesa ends it): the next reminder day pushes again
        tx._set_canceled("Cancelled by the customer.")
        self._run_dunning("2026-01-20 06:00:00")  # due + 3 days, 09:00 local
        self._run_dunning("2026-01-23 06:00:00")  # due + 6: nothing
        invoice.transaction_ids.filtered(lambda t: t.state == "pending")._set_canceled()
        self._run_dunning("2026-01-24 16:59:00")  # due + 7, 19:59 local
        self._run_dunning("2026-01-28 06:00:00")  # nothing after the last day
        steps = self._steps(invoice)
        self.assertEqual(steps.mapped("day"), [0, 3, 7])
        self.assertEqual(
            steps.mapped("date"), [date(2026, 1, 17), date(2026, 1, 20), date(2026, 1, 24)]
        )
        self.assertEqual(len(self.recorder.pushes), 3)
        self.assertEqual([n[1] for n in self.recorder.notified], [0, 3, 7])
        self.assertEqual(len(invoice.transaction_ids), 3, "one transaction per prompt")

    def test_evening_is_quiet_in_company_time(self):
        invoice = self._invoice("+255712800002")
        # 17:30 UTC is in the sending hours in UTC, but it is 20:30 in Dar es Salaam
        self._run_dunning("2026-01-17 17:30:00")
        self.assertFalse(self._steps(invoice))
        # next morning: the due date's reminder is sent one day late, once
        self._run_dunning("2026-01-18 05:30:00")
        self._run_dunning("2026-01-18 06:30:00")
        self.assertEqual(self._steps(invoice).mapped("day"), [0])
        self.assertEqual(self._steps(invoice).date, date(2026, 1, 18))
        # two days late: too late for a missed reminder, the next one waits for its day
        other = self._invoice("+255712800012")
        self._run_dunning("2026-01-19 07:00:00")
        self.assertFalse(self._steps(other))

    def test_company_day_east_of_utc(self):
        # Brisbane (UTC+10): 22:30 UTC on the 16th is 08:30 on the 17th, the due date there
        invoice = self._invoice("+255712800003")
        self.company.partner_id.tz = "Australia/Brisbane"
        self._run_dunning("2026-01-16 21:30:00")  # 07:30 local
        self.assertFalse(self._steps(invoice))
        self._run_dunning("2026-01-16 22:30:00")
        self.assertEqual(self._steps(invoice).mapped("day"), [0])

    def test_paid_invoice_gets_nothing_more(self):
        invoice = self._invoice("+255712800004")
        self._run_dunning("2026-01-17 07:00:00")
        self.assertEqual(len(self.recorder.pushes), 1)
        invoice.transaction_ids._set_canceled()
        self._pay(invoice)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        for moment in ("2026-01-20 07:00:00", "2026-01-24 07:00:00"):
            self._run_dunning(moment)
        self.assertEqual(self._steps(invoice).mapped("day"), [0])
        self.assertEqual(len(self.recorder.pushes), 1)
        self.assertEqual(len(self.recorder.notified), 1)

    def test_paid_between_claim_and_send_gets_nothing(self):
        # the payment lands after the reminder was claimed: read again before sending
        invoice = self._invoice("+255712800005")
        Step = self.env["isp.dunning.step"]
        step = Step._isp_claim([(invoice.id, 0, date(2026, 1, 17))])
        self._pay(invoice)
        step._isp_run()
        self.assertEqual(step.state, "paid")
        self.assertFalse(self.recorder.pushes)
        self.assertFalse(self.recorder.notified)

    def test_partial_payment_pushes_the_amount_still_due(self):
        invoice = self._invoice("+255712800006")
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"journal_id": self.journal.id, "amount": 20000})._create_payments()
        self.assertEqual(invoice.payment_state, "partial")
        self._run_dunning("2026-01-17 07:00:00")
        self.assertEqual(invoice.amount_residual, 30000)
        self.assertEqual(self.recorder.pushes, [((invoice.id,), 30000, "+255712800006")])
        self.assertEqual(self._steps(invoice).amount, 30000)

    def test_payment_under_way_gets_no_second_prompt(self):
        invoice = self._invoice("+255712800007")
        portal_tx = self._test_transaction(
            "INV-PORTAL-1",
            invoice.partner_id,
            invoice.amount_residual,
            invoice_ids=[Command.set(invoice.ids)],
        )
        portal_tx._set_pending()
        self._run_dunning("2026-01-17 07:00:00")
        step = self._steps(invoice)
        self.assertEqual((step.state, step.push_state), ("sent", "pending"))
        self.assertEqual(step.transaction_id, portal_tx)
        self.assertFalse(self.recorder.pushes)
        self.assertEqual(self.recorder.notified, [(invoice.id, 0, "pending")])
        self.assertIn("INV-PORTAL-1 of this invoice is already under way", step.note)

    def test_customer_without_phone_is_skipped_and_noted(self):
        invoice = self._invoice("+255712800008")
        invoice.partner_id.phone = False
        self._run_dunning("2026-01-17 07:00:00")
        step = self._steps(invoice)
        self.assertEqual((step.state, step.push_state), ("skipped", "none"))
        self.assertIn("the customer has no phone number", step.note)
        self.assertIn("the customer has no phone number", invoice.message_ids[0].body)
        self.assertFalse(self.recorder.pushes)
        self.assertFalse(self.recorder.notified)
        self._run_dunning("2026-01-17 09:00:00")
        self.assertEqual(len(self._steps(invoice)), 1, "skipped once, not tried every hour")

    def test_push_off_or_no_provider_sends_the_sms_only(self):
        invoice = self._invoice("+255712800009")
        self.company.isp_dunning_push = False
        self._run_dunning("2026-01-17 07:00:00")
        self.company.isp_dunning_push = True
        self.provider.state = "disabled"
        self._run_dunning("2026-01-20 07:00:00")
        steps = self._steps(invoice)
        self.assertEqual(steps.mapped("push_state"), ["none", "none"])
        self.assertEqual(steps.mapped("state"), ["sent", "sent"])
        self.assertIn("no enabled payment provider can send one", steps[1].note)
        self.assertFalse(self.recorder.pushes)
        self.assertFalse(invoice.transaction_ids)
        self.assertEqual(self.recorder.notified, [(invoice.id, 0, "none"), (invoice.id, 3, "none")])

    def test_push_failure_is_recorded_and_not_retried(self):
        invoice = self._invoice("+255712800010")
        self.recorder.outcome = "error"
        self._run_dunning("2026-01-17 07:00:00")
        step = self._steps(invoice)
        self.assertEqual((step.state, step.push_state), ("sent", "failed"))
        self.assertIn("The provider is not reachable.", step.note)
        self.assertEqual(step.transaction_id.state, "error")
        self.assertEqual(self.recorder.notified, [(invoice.id, 0, "failed")], "the SMS still goes")
        self._run_dunning("2026-01-17 09:00:00")
        self.assertEqual(len(self.recorder.pushes), 1, "not retried every hour")
        # refused before anything was sent: no transaction kept
        other = self._invoice("+255712800011")
        self.recorder.outcome = "refused"
        self._run_dunning("2026-01-17 10:00:00")
        step = self._steps(other)
        self.assertEqual(step.push_state, "failed")
        self.assertFalse(step.transaction_id)
        self.assertFalse(other.transaction_ids)
        self.assertIn("not a mobile money number", step.note)

    def test_other_invoices_are_left_alone(self):
        invoice = self._invoice("+255712800013")
        # an unpaid invoice of no subscription, due the same day: not a PPPoE period's
        other = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self._customer("+255712800014").id,
                "invoice_date": date(2026, 1, 10),
                "invoice_date_due": date(2026, 1, 17),
                "invoice_line_ids": [Command.create({"product_id": self.daily.id})],
            }
        )
        other.action_post()
        self.company.isp_dunning_enabled = False
        self._run_dunning("2026-01-17 07:00:00")
        self.assertFalse(self._steps(invoice), "reminders off")
        self.company.isp_dunning_enabled = True
        self._run_dunning("2026-01-17 08:00:00")
        self.assertEqual(len(self._steps(invoice)), 1)
        self.assertFalse(self._steps(other))
        self.assertEqual([n[0] for n in self.recorder.notified], invoice.ids)


@tagged("post_install", "-at_install")
class TestDunningAccess(DunningCase):
    def test_reminders_are_read_by_accountants_of_their_company(self):
        invoice = self._invoice("+255712800015")
        self._run_dunning("2026-01-17 07:00:00")
        step = self._steps(invoice)
        accountant = new_test_user(
            self.env,
            login="dunning-accountant",
            groups="account.group_account_invoice",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        seen = self.env["isp.dunning.step"].with_user(accountant).search([])
        self.assertIn(step, seen)
        self.assertIn("M-Pesa prompt for", seen.filtered(lambda s: s == step).note)
        other_company = self.env["res.company"].create({"name": "Other ISP (dunning)"})
        outsider = new_test_user(
            self.env,
            login="dunning-outsider",
            groups="account.group_account_invoice",
            company_id=other_company.id,
            company_ids=[Command.set(other_company.ids)],
        )
        self.assertNotIn(step, self.env["isp.dunning.step"].with_user(outsider).search([]))
        with self.assertRaises(AccessError):
            step.with_user(outsider).read(["note"])
        isp_user = new_test_user(
            self.env,
            login="dunning-isp-user",
            groups="isp_billing.group_isp_user",
            company_id=self.company.id,
        )
        with self.assertRaises(AccessError):
            self.env["isp.dunning.step"].with_user(isp_user).search([])


@tagged("post_install", "-at_install")
class TestDunningSettings(DunningCase):
    def test_days_are_validated_and_normalized(self):
        self.company.isp_dunning_days = " 7, 0,3,3 "
        self.assertEqual(self.company.isp_dunning_days, "0,3,7")
        self.company.isp_dunning_days = "-2,0"
        self.assertEqual(self.company._isp_dunning_day_list(), [-2, 0])
        for bad in ("1.5", "abc", "-31", "61", "3;7"):
            with self.subTest(bad=bad), self.assertRaises(ValidationError) as caught:
                self.company.isp_dunning_days = bad
            self.assertIn("whole numbers of days from -30 to 60", caught.exception.args[0])
            self.assertEqual(self.company.isp_dunning_days, "-2,0", "nothing changed")
        with self.assertRaises(ValidationError) as caught:
            self.company.isp_dunning_days = " , "
        self.assertIn("need at least one day", caught.exception.args[0])
        # off: the days are kept, no reminder is due
        self.company.isp_dunning_enabled = False
        self.assertEqual(self.company._isp_dunning_day_list(), [])

    def test_settings_form(self):
        settings = self.env["res.config.settings"].create(
            {"isp_dunning_enabled": True, "isp_dunning_days": "3,0", "isp_dunning_push": True}
        )
        self.assertTrue(settings.isp_dunning_push_available, "the dummy provider can push")
        settings.execute()
        self.assertEqual(self.company.isp_dunning_days, "0,3")
        with self.assertRaises(ValidationError):
            self.env["res.config.settings"].create({"isp_dunning_days": "0,100"}).execute()
        self.assertEqual(self.company.isp_dunning_days, "0,3")
        self.provider.state = "disabled"
        self.assertFalse(
            self.env["res.config.settings"].create({}).isp_dunning_push_available,
            "no provider: the form says reminders are SMS only",
        )


@tagged("post_install", "-at_install")
class TestDunningConcurrency(IspCommittedCase):
    """Two cron runs at once (separate transactions, committed), and the same run again:
    each reminder is sent once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company, env = cls._create_company(
                env,
                "Dunning Race",
                isp_recurring_prorate=False,
                isp_recurring_due_days=7,
                isp_dunning_enabled=True,
                isp_dunning_days="0,3",
                isp_dunning_push=False,
            )
            company.partner_id.tz = "Africa/Dar_es_Salaam"
            bundle = cls._create_bundle(
                env,
                company,
                "Home Race",
                isp_service_type="pppoe",
                isp_duration_value=1,
                isp_duration_unit="months",
                isp_recurring_invoicing_type="pre-paid",
            )
            # subscriptions left in draft, their invoices made here: committed data that the
            # other tests' billing and suspension crons (every company) leave alone
            invoices = env["account.move"]
            for index in range(3):
                partner = env["res.partner"].create(
                    {
                        "name": f"Race {index}",
                        "phone": f"+25571290{cls.tag_digits()}{index}",
                        "is_isp_customer": True,
                        "company_id": company.id,
                    }
                )
                sub = env["isp.subscription"].create(
                    {"partner_id": partner.id, "bundle_id": bundle.id}
                )
                invoices |= env["account.move"].create(
                    {
                        "move_type": "out_invoice",
                        "partner_id": partner.id,
                        "company_id": company.id,
                        "invoice_date": date(2026, 1, 10),
                        "invoice_date_due": date(2026, 1, 17),
                        "isp_subscription_id": sub.id,
                        "isp_period_start": date(2026, 1, 10),
                        "isp_period_end": date(2026, 2, 9),
                        "invoice_line_ids": [
                            Command.create({"product_id": bundle.id, "price_unit": 1000})
                        ],
                    }
                )
            invoices.action_post()
            cls.company_id = company.id
            cls.invoice_ids = invoices.ids
        cls.addClassCleanup(cls._leave_alone)

    @classmethod
    def _leave_alone(cls):
        """The company's data stays (committed): its reminders off and its invoices cancelled,
        so that nothing of it is due in the other tests' cron runs."""
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"allowed_company_ids": [cls.company_id]})
            env["res.company"].browse(cls.company_id).isp_dunning_enabled = False
            invoices = env["account.move"].browse(cls.invoice_ids)
            invoices.button_draft()
            invoices.button_cancel()

    @classmethod
    def tag_digits(cls):
        return str(int(cls.tag, 16) % 1000).zfill(3)

    def test_concurrent_and_repeated_runs_send_each_reminder_once(self):
        recorder = PushRecorder()
        with self.registry.cursor() as cr:
            patchers = recorder.patches(api.Environment(cr, SUPERUSER_ID, {}))
        for patcher in patchers:
            patcher.start()
            self.addCleanup(patcher.stop)

        def run(barrier):
            with self.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                barrier.wait(timeout=30)
                # outside a cron run, _commit_progress commits: the claims are committed
                # before anything is sent, as in the cron
                env["isp.dunning.step"]._cron_isp_dunning(
                    batch_size=2, now=datetime(2026, 1, 17, 7, 0)
                )
                return True

        results = self._at_once(run, [(), (), ()])
        self.assertEqual(results, [True, True, True])
        results = self._at_once(run, [()])
        self.assertEqual(results, [True])
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            steps = env["isp.dunning.step"].search([("move_id", "in", self.invoice_ids)])
            self.assertEqual(len(steps), 3)
            self.assertEqual(set(steps.mapped("state")), {"sent"})
            self.assertEqual(sorted(steps.move_id.ids), sorted(self.invoice_ids))
        self.assertEqual(
            sorted(recorder.notified), sorted((move_id, 0, "none") for move_id in self.invoice_ids)
        )
        self.assertFalse(recorder.pushes)
