from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from odoo import Command, fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import SQL

from .common import IspBillingCase, IspPaymentCase

TZ = "Africa/Dar_es_Salaam"  # UTC+3, no daylight saving time


class IspDashboardCase(IspBillingCase):
    """A seeded dataset of purchases, subscriptions and devices at chosen moments, and the
    dashboard seen by a user in Dar es Salaam working in the test company only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.tz = TZ
        cls.Dashboard = cls.env["isp.dashboard"].with_context(
            tz=TZ, allowed_company_ids=[cls.company.id]
        )
        cls.ctx = cls.Dashboard._dashboard_context()
        cls.now = cls.ctx["now"]

    @classmethod
    def _purchase(cls, partner, bundle, reference, created, amount, *, source="payment", **vals):
        """A purchase as fulfilment leaves it (subscription, period, amount), created at
        ``created`` (the create date is set with SQL, as time passes in real life)."""
        subscription = cls.env["isp.subscription"].search(
            [("partner_id", "=", partner.id), ("service_type", "=", bundle.isp_service_type)],
            limit=1,
        ) or cls.env["isp.subscription"].create(
            {"partner_id": partner.id, "bundle_id": bundle.id, "company_id": partner.company_id.id}
        )
        purchase = cls.env["isp.purchase"].create(
            {
                "company_id": partner.company_id.id,
                "source": source,
                "reference": reference,
                "partner_id": partner.id,
                "bundle_id": bundle.id,
                "subscription_id": subscription.id,
                "date_start": vals.pop("date_start", created),
                "date_end": vals.pop("date_end", created + timedelta(days=1)),
                "amount": amount,
                **vals,
            }
        )
        purchase.flush_recordset()
        cls.env.cr.execute(
            SQL("UPDATE isp_purchase SET create_date = %s WHERE id = %s", created, purchase.id)
        )
        purchase.invalidate_recordset(["create_date"])
        return purchase

    def _cards(self, options=None):
        data = self.Dashboard.get_dashboard_data(
            {"period": options["period"]} if options and "period" in options else None
        )
        sections = [*data["sections"], self.Dashboard.get_kpi_data(options)["section"]]
        return {card["key"]: card for section in sections for card in section["cards"]}

    def _revenue_section(self, period):
        data = self.Dashboard.get_dashboard_data({"period": period})
        return next(s for s in data["sections"] if s["key"] == "revenue")

    def _amount(self, card, currency=None):
        currency = currency or self.company.currency_id
        return next(a["value"] for a in card["amounts"] if a["currency_id"] == currency.id)


@tagged("post_install", "-at_install")
class TestDashboardFigures(IspDashboardCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ctx = cls.ctx
        cls.c1, cls.c2, cls.c3, cls.c4, cls.c5 = (
            cls._customer(f"07123450{i:02d}") for i in range(1, 6)
        )
        in_today = ctx["today"] + (cls.now - ctx["today"]) / 2
        # today: 1,000 + 6,000 + a 0 grant; yesterday 1,000; 5 days ago 1,000 (7 days: 9,000);
        # 10 days ago 25,000 (30 days: 34,000); 40 days ago 1,000 (outside)
        cls._purchase(cls.c1, cls.daily, "T-1", in_today, 1000)
        cls._purchase(cls.c2, cls.weekly, "T-2", in_today, 6000, source="voucher")
        cls._purchase(cls.c5, cls.daily, "T-3", in_today, 0, source="manual")
        cls._purchase(cls.c1, cls.daily, "T-4", ctx["today"] - timedelta(minutes=1), 1000)
        cls._purchase(cls.c4, cls.daily, "T-5", cls.now - timedelta(days=5), 1000)
        cls._purchase(cls.c3, cls.monthly, "T-6", ctx["week"] - timedelta(minutes=1), 25000)
        cls._purchase(cls.c4, cls.daily, "T-7", ctx["month"] - timedelta(minutes=1), 1000)

    def test_day_boundaries_are_the_users_midnight(self):
        local_today = datetime.now(ZoneInfo(TZ)).date()
        for key, days in (("today", 0), ("week", 6), ("month", 29)):
            midnight = datetime.combine(local_today - timedelta(days=days), time.min, ZoneInfo(TZ))
            expected = midnight.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
            self.assertEqual(self.ctx[key], expected, key)
        # the period's start: midnight N-1 days ago (today counts as one)
        for period, days in (("today", 0), ("7d", 6), ("30d", 29), ("90d", 89)):
            midnight = datetime.combine(local_today - timedelta(days=days), time.min, ZoneInfo(TZ))
            expected = midnight.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
            ctx = self.Dashboard._dashboard_context({"period": period})
            self.assertEqual(ctx["period_from"], expected, period)
            self.assertEqual(ctx["kpi_from"], expected, period)
        self.assertEqual(self.ctx["period"], "30d", "30 days unless chosen otherwise")

    def test_revenue_of_each_period(self):
        for period, amount, purchases in (
            ("today", 7000, 3),
            ("7d", 9000, 5),
            ("30d", 34000, 6),
            ("90d", 35000, 7),
        ):
            with self.subTest(period=period):
                cards = self._cards({"period": period})
                self.assertEqual(self._amount(cards["revenue"]), amount)
                self.assertEqual(cards["revenue"]["hint"], f"{purchases} purchases")
                # no invoice waits for its money here: all of it is paid
                self.assertEqual(self._amount(cards["revenue_paid"]), amount)
                self.assertEqual(self._amount(cards["revenue_unpaid"]), 0)

    def test_revenue_chart_covers_the_period(self):
        local_today = datetime.now(ZoneInfo(TZ)).date()
        chart = self._revenue_section("30d")["chart"]
        points = chart["points"]
        self.assertEqual(len(points), 30)
        self.assertEqual(points[-1]["x"], local_today.isoformat())
        self.assertEqual(points[0]["x"], (local_today - timedelta(days=29)).isoformat())
        self.assertEqual(points[-1]["paid"], 7000)
        self.assertEqual(points[-2]["paid"], 1000)
        self.assertEqual(sum(p["paid"] + p["unpaid"] for p in points), 34000)
        # labelled: title with its window and currency, axis titles, the two series
        currency = self.company.currency_id.name
        self.assertEqual(chart["title"], f"Revenue per day, last 30 days ({currency})")
        self.assertEqual(chart["x_title"], "Day")
        self.assertEqual(chart["y_title"], f"Revenue ({currency})")
        self.assertEqual([s["label"] for s in chart["series"]], ["Paid", "Unpaid"])
        week = self._revenue_section("7d")["chart"]["points"]
        self.assertEqual(len(week), 7)
        self.assertEqual(sum(p["paid"] + p["unpaid"] for p in week), 9000)
        # today: per hour of the user's day
        today = self._revenue_section("today")["chart"]
        self.assertEqual([p["x"] for p in today["points"]][:2], ["00:00", "01:00"])
        self.assertEqual(len(today["points"]), 24)
        self.assertEqual(sum(p["paid"] for p in today["points"]), 7000)
        self.assertEqual(today["x_title"], "Hour")

    def test_arpu_and_new_versus_returning(self):
        cards = self._cards()
        # 34,000 over the 4 customers who paid (c5's grant was free)
        self.assertEqual(self._amount(cards["arpu"]), 8500)
        self.assertIn("(4)", cards["arpu"]["hint"])
        # c4 bought 40 days ago already: returning; c1, c2, c3, c5 are new
        self.assertEqual(cards["new"]["value"], 4)
        self.assertEqual(cards["returning"]["value"], 1)
        action = self.Dashboard.action_open_figure("returning")
        self.assertEqual(self.env["res.partner"].search(action["domain"]), self.c4)
        self.assertEqual(action["name"], "Returning customers (last 30 days)")
        action = self.Dashboard.action_open_figure("new")
        self.assertEqual(
            self.env["res.partner"].search(action["domain"]), self.c1 | self.c2 | self.c3 | self.c5
        )
        # over 7 days: c3 bought before them; 9,000 over c1, c2, c4
        week = self._cards({"period": "7d"})
        self.assertEqual(week["new"]["value"], 3)
        self.assertEqual(week["returning"]["value"], 1)
        self.assertEqual(self._amount(week["arpu"]), 3000)
        action = self.Dashboard.action_open_figure("new", {"period": "7d"})
        self.assertEqual(
            self.env["res.partner"].search(action["domain"]), self.c1 | self.c2 | self.c5
        )

    def test_new_customer_figures_share_the_period(self):
        """ "Signed up" (customer records created) and "New customers" (first purchase ever)
        count over the same period: a customer who signed up and bought 10 days ago is in
        both over 30 days, in neither over 7 days."""
        c6 = self._customer("0712345006")
        self._purchase(c6, self.daily, "T-8", self.now - timedelta(days=10), 1000)
        self.env.cr.execute(
            SQL(
                "UPDATE res_partner SET create_date = %s WHERE id = %s",
                self.now - timedelta(days=10),
                c6.id,
            )
        )
        self.env["res.partner"].invalidate_model(["create_date"])
        month, week = self._cards({"period": "30d"}), self._cards({"period": "7d"})
        self.assertEqual(month["customers_signed_up"]["value"], 6)
        self.assertEqual(week["customers_signed_up"]["value"], 5)
        self.assertEqual(month["new"]["value"], 5)
        self.assertEqual(week["new"]["value"], 3)
        for cards, window in ((month, "last 30 days"), (week, "last 7 days")):
            self.assertEqual(cards["customers_signed_up"]["window"], window)
            self.assertEqual(cards["new"]["window"], window)
        signed_up = self.env["res.partner"].search(week["customers_signed_up"]["action"]["domain"])
        self.assertNotIn(c6, signed_up)
        self.assertIn(
            c6, self.env["res.partner"].search(month["customers_signed_up"]["action"]["domain"])
        )

    def test_every_figure_states_its_window(self):
        """Each card says the time it covers: the chosen period for every figure over time,
        "now" for a state, "all dates" for what waits for a decision."""
        over_time = {
            "revenue",
            "revenue_paid",
            "revenue_unpaid",
            "customers_signed_up",
            "arpu",
            "new",
            "returning",
            "devices_active",
            "devices_inactive",
            "vouchers_generated",
            "vouchers_redeemed",
        }
        for period, window in (("today", "today"), ("7d", "last 7 days"), ("90d", "last 90 days")):
            with self.subTest(period=period):
                data = self.Dashboard.get_dashboard_data({"period": period})
                self.assertEqual(data["window"], window)
                cards = self._cards({"period": period})
                for key, card in cards.items():
                    self.assertTrue(card["window"], f"{key} states no window")
                    if key in over_time:
                        self.assertEqual(card["window"], window, key)
                self.assertEqual(cards["active_subscriptions"]["window"], "now")
                self.assertIn("lapsed", cards["churned"]["window"])
                self.assertTrue(over_time <= set(cards), over_time - set(cards))

    def test_subscriptions_devices_and_customers(self):
        subs = self.env["isp.subscription"].search([("partner_id", "in", [self.c1.id, self.c2.id])])
        subs.action_activate()
        subs.date_expiry = self.now + timedelta(days=2)
        pppoe = self.env["isp.subscription"].create(
            {"partner_id": self.c3.id, "bundle_id": self.pppoe.id}
        )
        pppoe.action_activate()
        pppoe.date_expiry = self.now + timedelta(hours=3)
        Device = self.env["isp.device"]
        Device.create({"partner_id": self.c1.id, "mac": "aa:bb:cc:00:00:01"})
        Device.create(
            {
                "partner_id": self.c1.id,
                "mac": "aa:bb:cc:00:00:02",
                "last_seen": self.now - timedelta(days=3),
            }
        )
        Device.create({"partner_id": self.c2.id, "mac": "aa:bb:cc:00:00:03", "active": False})
        cards = self._cards({"period": "today"})
        self.assertEqual(cards["active_subscriptions"]["value"], 3)
        self.assertEqual(cards["active_hotspot"]["value"], 2)
        self.assertEqual(cards["active_pppoe"]["value"], 1)
        self.assertEqual(cards["expiring_24h"]["value"], 1)
        self.assertEqual(cards["customers_signed_up"]["value"], 5)
        # removed (archived) devices do not count; active = seen in the period
        self.assertEqual(cards["devices_total"]["value"], 2)
        self.assertEqual(cards["devices_active"]["value"], 1)
        self.assertEqual(cards["devices_inactive"]["value"], 1)
        week = self._cards({"period": "7d"})
        self.assertEqual(week["devices_active"]["value"], 2, "seen 3 days ago: in 7 days")
        self.assertEqual(week["devices_inactive"]["value"], 0)
        # MRR: one active PPPoE customer at 50,000 a month
        self.assertEqual(self._amount(cards["mrr_pppoe"]), 50000)

    def test_every_figure_opens_its_records(self):
        """The list a card opens holds exactly the records its figure counts (or sums)."""
        self.env["isp.subscription"].search([("partner_id", "=", self.c1.id)]).action_activate()
        self.env["isp.device"].create({"partner_id": self.c1.id, "mac": "aa:bb:cc:00:00:09"})
        for period in ("today", "7d", "30d", "90d"):
            checked = 0
            for key, card in self._cards({"period": period}).items():
                action = card.get("action")
                if not action:
                    continue
                Model = self.env[action["res_model"]].with_context(
                    allowed_company_ids=[self.company.id]
                )
                records = Model.search(action["domain"])
                if (
                    card["kind"] == "monetary"
                    and action["res_model"] == "isp.purchase"
                    and key.startswith("revenue")
                ):
                    self.assertEqual(
                        sum(records.mapped("amount")), self._amount(card), (period, key)
                    )
                elif card["kind"] == "integer":
                    self.assertEqual(len(records), card["value"], (period, key))
                checked += 1
            self.assertGreaterEqual(checked, 14, period)

    def test_last_customers_newest_first(self):
        data = self.Dashboard.get_dashboard_data()
        customers = data["lists"]["customers"]
        self.assertEqual(len(customers), 5)
        self.assertEqual(customers[0]["id"], self.c5.id, "the last created comes first")

    def test_other_company_figures_stay_apart(self):
        kes = self.env.ref("base.KES")
        kes.active = True
        other = self.env["res.company"].create({"name": "Other ISP", "currency_id": kes.id})
        other_customer = self._customer("0712345099", company=other)
        other_bundle = (
            self.env["product.template"]
            .create(
                {
                    "name": "Other daily",
                    "is_isp_bundle": True,
                    "list_price": 50,
                    "company_id": other.id,
                }
            )
            .product_variant_id
        )
        self._purchase(other_customer, other_bundle, "O-1", self.now - timedelta(minutes=5), 50)
        # working in the test company only: the other company's sale is not there
        self.assertEqual(
            self._cards({"period": "today"})["revenue"]["amounts"],
            [{"currency_id": self.company.currency_id.id, "value": 7000}],
        )
        both = self.Dashboard.with_context(allowed_company_ids=[self.company.id, other.id])
        data = both.get_dashboard_data({"period": "today"})
        card = next(c for s in data["sections"] for c in s["cards"] if c["key"] == "revenue")
        # two currencies are never added up
        self.assertEqual(
            {a["currency_id"]: a["value"] for a in card["amounts"]},
            {self.company.currency_id.id: 7000, kes.id: 50},
        )

    def test_bad_churn_delay_is_refused(self):
        for bad in (0, -3, 366, "7", 2.5, True):
            with self.subTest(bad=bad), self.assertRaises(UserError):
                self.Dashboard.get_kpi_data({"churn_days": bad})
        with self.assertRaises(UserError):
            self.Dashboard.action_open_figure("nonsense")

    def test_bad_period_is_refused(self):
        for bad in ("week", "", None, 7, ["7d"], "1d"):
            with self.subTest(bad=bad), self.assertRaises(UserError):
                self.Dashboard.get_dashboard_data({"period": bad})
            with self.subTest(bad=bad), self.assertRaises(UserError):
                self.Dashboard.get_kpi_data({"period": bad})


@tagged("post_install", "-at_install")
class TestDashboardRevenuePaidUnpaid(IspDashboardCase):
    """Revenue split by the purchase's invoice: unpaid while the invoice is not fully paid
    (not paid, partly paid), paid otherwise (invoice paid, paid by a payment whose invoice
    is to be issued)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Purchase = cls.env["isp.purchase"]
        cls.c1, cls.c2, cls.c3, cls.c4 = (cls._customer(f"07123460{i:02d}") for i in range(1, 5))
        # a cash sale (invoice paid), two sales on credit (one partly paid), a mobile-money
        # payment whose invoice is issued later
        cls.paid = Purchase._fulfil(cls.c1, cls.daily, "manual", "PAID-1", journal=cls.journal)
        cls.unpaid = Purchase._fulfil(cls.c2, cls.weekly, "manual", "UNPAID-1")
        cls.partial = Purchase._fulfil(cls.c3, cls.monthly, "manual", "PART-1")
        cls.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=cls.partial.invoice_id.ids
        ).create({"journal_id": cls.journal.id, "amount": 10000})._create_payments()
        cls.to_invoice = Purchase._fulfil(
            cls.c4, cls.daily, "payment", "MM-1", invoice=False, amount=1000
        )
        cls.to_invoice.invoice_status = "to_invoice"

    def test_paid_and_unpaid_revenue(self):
        self.assertIn(self.paid.invoice_payment_state, ("paid", "in_payment"))
        self.assertEqual(self.unpaid.invoice_payment_state, "not_paid")
        self.assertEqual(self.partial.invoice_payment_state, "partial")
        cards = self._cards({"period": "today"})
        self.assertEqual(self._amount(cards["revenue"]), 33000)
        self.assertEqual(self._amount(cards["revenue_paid"]), 2000)
        self.assertEqual(self._amount(cards["revenue_unpaid"]), 31000)
        self.assertEqual(cards["revenue_unpaid"]["hint"], "2 purchases, invoice not fully paid")
        self.assertEqual(cards["revenue_paid"]["hint"], "2 purchases")
        Purchase = self.env["isp.purchase"]
        self.assertEqual(
            Purchase.search(cards["revenue_paid"]["action"]["domain"]), self.paid | self.to_invoice
        )
        self.assertEqual(
            Purchase.search(cards["revenue_unpaid"]["action"]["domain"]), self.unpaid | self.partial
        )
        # the chart: today's hour holds both parts
        chart = self._revenue_section("today")["chart"]
        self.assertEqual(sum(p["paid"] for p in chart["points"]), 2000)
        self.assertEqual(sum(p["unpaid"] for p in chart["points"]), 31000)
        month = self._revenue_section("30d")["chart"]["points"][-1]
        self.assertEqual((month["paid"], month["unpaid"]), (2000, 31000))

    def test_paying_an_invoice_moves_its_revenue_to_paid(self):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=self.unpaid.invoice_id.ids
        ).create({"journal_id": self.journal.id})._create_payments()
        cards = self._cards({"period": "today"})
        self.assertEqual(self._amount(cards["revenue_paid"]), 8000)
        self.assertEqual(self._amount(cards["revenue_unpaid"]), 25000)
        self.assertEqual(self._amount(cards["revenue"]), 33000)

    def test_isp_user_without_invoicing_sees_the_split(self):
        """The split needs no right on invoices: an ISP user who is no accountant gets it."""
        user = self.env["res.users"].create(
            {
                "name": "ISP clerk (revenue)",
                "login": "isp_clerk_revenue",
                "group_ids": [Command.set([self.env.ref("isp_billing.group_isp_user").id])],
                "company_id": self.company.id,
                "company_ids": [Command.set(self.company.ids)],
                "tz": TZ,
            }
        )
        self.assertFalse(self.env["account.move"].with_user(user).has_access("read"))
        data = self.Dashboard.with_user(user).get_dashboard_data({"period": "today"})
        cards = {c["key"]: c for s in data["sections"] for c in s["cards"]}
        self.assertEqual(self._amount(cards["revenue_unpaid"]), 31000)
        purchases = self.env["isp.purchase"].with_user(user)
        self.assertEqual(len(purchases.search(cards["revenue_unpaid"]["action"]["domain"])), 2)


@tagged("post_install", "-at_install")
class TestDashboardChurn(IspDashboardCase):
    """Lapses (the end of a period no other period covers) and returns, by hand:

    d1 lapsed 20 days ago, never came back; d2 lapsed 20 days ago, bought again 2 days later;
    d3 renewed before expiry (no lapse) then lapsed 23 days ago and came back 10 days later;
    d4 lapsed 3 days ago (too recent to judge); d5 lapsed 40 days ago; d6 had overlapping
    periods (no lapse).
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        now = cls.now

        def ago(days):
            return now - timedelta(days=days)

        cls.d = {i: cls._customer(f"07543210{i:02d}") for i in range(1, 7)}
        d, P, daily = cls.d, cls._purchase, cls.daily
        P(d[1], daily, "C1", ago(21), 0, date_start=ago(21), date_end=ago(20))
        P(d[2], daily, "C2a", ago(21), 0, date_start=ago(21), date_end=ago(20))
        P(d[2], daily, "C2b", ago(18), 0, date_start=ago(18), date_end=now + timedelta(days=10))
        P(d[3], daily, "C3a", ago(25), 0, date_start=ago(25), date_end=ago(24))
        P(d[3], daily, "C3b", ago(24.5), 0, date_start=ago(24), date_end=ago(23))
        P(d[3], daily, "C3c", ago(13), 0, date_start=ago(13), date_end=now + timedelta(days=5))
        P(d[4], daily, "C4", ago(4), 0, date_start=ago(4), date_end=ago(3))
        P(d[5], daily, "C5", ago(41), 0, date_start=ago(41), date_end=ago(40))
        P(d[6], daily, "C6a", ago(15), 0, date_start=ago(15), date_end=ago(10))
        P(d[6], daily, "C6b", ago(12), 0, date_start=ago(12), date_end=now + timedelta(days=20))

    def _kpis(self, days):
        ctx = self.Dashboard._dashboard_context({"churn_days": days})
        return self.Dashboard._customer_kpis(ctx, with_ids=True)

    def test_churn_within_7_days(self):
        kpis = self._kpis(7)
        d = self.d
        self.assertEqual(set(kpis["ids"]["lapsed"]), {d[1].id, d[2].id, d[3].id})
        self.assertEqual(set(kpis["ids"]["churned"]), {d[1].id, d[3].id})
        cards = self._cards({"churn_days": 7})
        self.assertEqual(cards["churned"]["value"], 2)
        self.assertIn("66.7% of 3", cards["churned"]["hint"])
        action = self.Dashboard.action_open_figure("churned", {"churn_days": 7})
        self.assertEqual(self.env["res.partner"].search(action["domain"]), d[1] | d[3])

    def test_churn_within_14_days(self):
        # the window moves to lapses 44 to 14 days ago: d5 is in, d3's return now counts
        kpis = self._kpis(14)
        d = self.d
        self.assertEqual(set(kpis["ids"]["lapsed"]), {d[1].id, d[2].id, d[3].id, d[5].id})
        self.assertEqual(set(kpis["ids"]["churned"]), {d[1].id, d[5].id})


@tagged("post_install", "-at_install")
class TestDashboardPayments(IspDashboardCase, IspPaymentCase):
    """Payments by status and mobile-money payments not matched to an invoice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls._customer("0712345678")

    def _tx(self, reference, state, amount=1000):
        tx = self._test_transaction(reference, self.customer, amount, isp_bundle_id=self.daily.id)
        tx.state = state
        return tx

    def _payment(self, amount, reconcile=False):
        if reconcile:
            invoice = self.env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": self.customer.id,
                    "invoice_line_ids": [
                        Command.create({"product_id": self.daily.id, "price_unit": amount})
                    ],
                }
            )
            invoice.action_post()
            return (
                self.env["account.payment.register"]
                .with_context(active_model="account.move", active_ids=invoice.ids)
                .create({"journal_id": self.journal.id})
                ._create_payments()
            )
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.customer.id,
                "amount": amount,
                "journal_id": self.journal.id,
            }
        )
        payment.action_post()
        return payment

    def test_payments_by_status_and_last_payments(self):
        for i, state in enumerate(["done", "done", "pending", "error", "cancel", "draft"]):
            self._tx(f"TX-{i}", state)
        other = self._tx("TX-NOBUNDLE", "done")
        other.isp_bundle_id = False
        cards = self._cards()
        self.assertEqual(cards["payments_done"]["value"], 2)
        self.assertEqual(cards["payments_pending"]["value"], 1)
        self.assertEqual(cards["payments_error"]["value"], 1)
        self.assertEqual(cards["payments_cancel"]["value"], 1)
        self.assertEqual(cards["payments_draft"]["value"], 1)
        payments = self.Dashboard.get_dashboard_data()["lists"]["payments"]
        self.assertEqual([p["reference"] for p in payments[:2]], ["TX-5", "TX-4"])
        self.assertNotIn("TX-NOBUNDLE", [p["reference"] for p in payments])

    def test_payments_without_access_counted_once(self):
        """Money taken without access is in "Paid, Not Applied" (or refunded) only, whatever
        the transaction's state: a short payment ends in error, yet it is not "Failed"."""
        self._tx("TXN-OK", "done")
        self._tx("TXN-FAILED", "error")
        short = self._tx("TXN-SHORT", "error", amount=600)
        short.isp_access_state = "not_applied"
        refused = self._tx("TXN-REFUSED", "done")
        refused.isp_access_state = "not_applied"
        refunded = self._tx("TXN-REFUNDED", "error", amount=600)
        refunded.isp_access_state = "refunded"
        cards = self._cards()
        self.assertEqual(cards["payments_not_applied"]["value"], 2)
        Tx = self.env["payment.transaction"]
        for key, reference in (("payments_done", "TXN-OK"), ("payments_error", "TXN-FAILED")):
            self.assertEqual(cards[key]["value"], 1, key)
            self.assertEqual(
                Tx.search(cards[key]["action"]["domain"]).mapped("reference"), [reference]
            )
        self.assertEqual(
            Tx.search(cards["payments_not_applied"]["action"]["domain"]), short | refused
        )
        rows = {p["reference"]: p for p in self.Dashboard.get_dashboard_data()["lists"]["payments"]}
        self.assertEqual(rows["TXN-SHORT"]["state"], "not_applied")
        self.assertEqual(rows["TXN-REFUNDED"]["state"], "refunded")

    def test_unmatched_mobile_money_payments(self):
        matched = self._payment(1000, reconcile=True)
        unmatched = self._payment(700)
        other_journal = self.env["account.journal"].create(
            {"name": "Cash (test)", "code": "TCSH", "type": "cash", "company_id": self.company.id}
        )
        cash = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.customer.id,
                "amount": 300,
                "journal_id": other_journal.id,
            }
        )
        cash.action_post()
        self.assertTrue(matched.is_reconciled)
        cards = self._cards()
        self.assertEqual(cards["payments_unmatched"]["value"], 1)
        action = self.Dashboard.action_open_unmatched_payments()
        self.assertEqual(self.env["account.payment"].search(action["domain"]), unmatched)


@tagged("post_install", "-at_install")
class TestDashboardAccess(IspDashboardCase):
    def test_isp_user_without_invoicing_sees_no_payment_figures(self):
        user = self.env["res.users"].create(
            {
                "name": "ISP clerk",
                "login": "isp_clerk_dashboard",
                "group_ids": [Command.set([self.env.ref("isp_billing.group_isp_user").id])],
                "company_id": self.company.id,
                "company_ids": [Command.set(self.company.ids)],
            }
        )
        data = self.env["isp.dashboard"].with_user(user).get_dashboard_data()
        keys = {section["key"] for section in data["sections"]}
        self.assertIn("customers", keys)
        self.assertIn("revenue", keys)
        self.assertNotIn("payments", keys)
        self.assertNotIn("payments", data["lists"])
        self.assertEqual(fields.Datetime.from_string(data["generated_at"]).year, self.now.year)


@tagged("post_install", "-at_install")
class TestDashboardVouchers(IspDashboardCase):
    def test_vouchers_generated_redeemed_available(self):
        batch = self.env["isp.voucher.batch"].create(
            {
                "name": "DASH-TEST",
                "bundle_id": self.daily.id,
                "quantity": 3,
                "company_id": self.company.id,
            }
        )
        batch.action_generate()
        self.env["isp.voucher"]._redeem(
            batch.voucher_ids[0].code, "0765550011", company=self.company
        )
        cards = self._cards()
        self.assertEqual(cards["vouchers_generated"]["value"], 3)
        self.assertEqual(cards["vouchers_redeemed"]["value"], 1)
        self.assertEqual(cards["vouchers_available"]["value"], 2)
        action = cards["vouchers_available"]["action"]
        self.assertEqual(self.env["isp.voucher"].search(action["domain"]), batch.voucher_ids[1:])
        action = cards["vouchers_redeemed"]["action"]
        self.assertEqual(self.env["isp.voucher"].search(action["domain"]), batch.voucher_ids[0])
        # the redemption is revenue of today, from a voucher (prepaid: paid)
        today = self._cards({"period": "today"})
        self.assertEqual(self._amount(today["revenue"]), 1000)
        self.assertEqual(self._amount(today["revenue_paid"]), 1000)
        self.assertEqual(today["vouchers_redeemed"]["value"], 1)
