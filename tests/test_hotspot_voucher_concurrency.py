"""Vouchers over HTTP, for real: one code redeemed by 8 phones at the same moment through
POST /api/vouchers/redeem/, served by a separate Odoo server with 2 workers whose requests
commit (concurrent redemptions wait on the voucher's row lock, then Odoo retries the
serialization failure and the retry sees the code used). The fixture is committed in a
company of its own with a website of its own (a host name only these requests use); each
request comes from its own address (X-Forwarded-For, proxy mode) so that the page's
per-address rate limit does not decide the outcome."""

import tempfile
from pathlib import Path

import requests

from odoo import SUPERUSER_ID, api
from odoo.tests import tagged
from odoo.tests.common import get_db_name
from odoo.tools import config

from odoo.addons.isp_billing.models import isp_voucher_code
from odoo.addons.isp_billing.tests.common import IspCommittedCase
from odoo.addons.isp_mpesa.tests.server import OdooServer


@tagged("post_install", "-at_install")
class TestHotspotVoucherConcurrency(IspCommittedCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.host = f"hotspot-race-{cls.tag}.test"
        with cls.registry.cursor() as cr:
            company, env = cls._create_company(
                api.Environment(cr, SUPERUSER_ID, {}),
                "Hotspot Race ISP",
                isp_voucher_max_failures=3,
            )
            website = env["website"].create(
                {"name": f"Hotspot race {cls.tag}", "domain": cls.host, "company_id": company.id}
            )
            bundle = cls._create_bundle(env, company, "Race Daily", isp_service_type="hotspot")
            batch = env["isp.voucher.batch"].create(
                {
                    "name": f"HS-RACE-{cls.tag}",
                    "quantity": 3,
                    "bundle_id": bundle.id,
                    "company_id": company.id,
                }
            )
            batch.action_generate()
            cls.company_id, cls.website_id = company.id, website.id
            cls.codes = batch.voucher_ids.sorted("id").mapped("code")
        cls.addClassCleanup(cls._remove_website)
        # the server in proxy mode: the client address is X-Forwarded-For's
        conf = Path(tempfile.mkdtemp(prefix="hotspot_race_")) / "odoo.conf"
        text = Path(config.rcfile or "odoo.conf").read_text()
        conf.write_text(text.replace("proxy_mode = False", "proxy_mode = True"))
        if "proxy_mode = True" not in conf.read_text():
            conf.write_text(conf.read_text().replace("[options]", "[options]\nproxy_mode = True"))
        cls.server = OdooServer(get_db_name(), conf, workers=2)
        cls.server.start()
        cls.addClassCleanup(cls.server.stop)

    @classmethod
    def _remove_website(cls):
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["website"].browse(cls.website_id).unlink()

    def _redeem_at_once(self, calls):
        """POST each (code, phone, address) at the same moment; returns the responses'
        (status, error code or None) in the order of ``calls``."""

        def fire(barrier, code, phone, address):
            barrier.wait(timeout=30)
            response = requests.post(
                f"{self.server.url}/api/vouchers/redeem/",
                json={"code": code, "phone": phone},
                headers={"Host": self.host, "X-Forwarded-For": address},
                timeout=120,
            )
            return response.status_code, response.json().get("error", {}).get("code")

        return self._at_once(fire, calls)

    def test_eight_phones_one_code_one_redemption(self):
        code = self.codes[0]
        phones = [f"+2557541{n:05d}" for n in range(8)]
        results = self._redeem_at_once(
            [(code, phone, f"10.77.{n}.{int(self.tag[:2], 16)}") for n, phone in enumerate(phones)]
        )
        self.assertEqual(sorted(results).count((201, None)), 1, f"{results}\n{self.server.tail()}")
        self.assertEqual(results.count((409, "voucher_used")), 7, results)
        winner = phones[results.index((201, None))]
        with self.registry.cursor() as cr:
            env = self._env(cr)
            voucher = env["isp.voucher"].search([("code", "=", code)])
            self.assertEqual(
                (voucher.state, voucher.phone, voucher.redeem_count), ("redeemed", winner, 1)
            )
            purchases = env["isp.purchase"].search([("reference", "=", code)])
            self.assertEqual(len(purchases), 1)
            self.assertEqual(purchases.subscription_id.state, "active")
            customers = env["res.partner"].search(
                [("phone", "in", phones), ("company_id", "=", self.company_id)]
            )
            self.assertEqual(customers.mapped("phone"), [winner], "losers get no account")
            self.assertEqual(
                env["isp.subscription"].search_count([("partner_id", "in", customers.ids)]), 1
            )

    def test_brute_force_from_many_connections_does_not_lock_the_owner_out(self):
        phone = "+255754200001"
        unknown = isp_voucher_code.random_codes(6)
        results = self._redeem_at_once(
            [(code, phone, f"10.78.{n}.{int(self.tag[2:4], 16)}") for n, code in enumerate(unknown)]
        )
        self.assertTrue(
            all(r in ((404, "voucher_unknown"), (429, "rate_limited")) for r in results), results
        )
        # each connection's failures count against its own address: the number's owner,
        # from an address of their own, is not locked out by what others typed with it
        (result,) = self._redeem_at_once([(self.codes[1], phone, "10.79.0.1")])
        self.assertEqual(result, (201, None))
        with self.registry.cursor() as cr:
            env = self._env(cr)
            self.assertEqual(
                env["isp.voucher"].search([("code", "=", self.codes[1])]).state, "redeemed"
            )
            attempts = env["isp.voucher.attempt"].search(
                [("company_id", "=", self.company_id), ("phone", "=", phone)]
            )
            failed = attempts.filtered(lambda a: a.result in ("unknown", "blocked"))
            self.assertEqual(len(failed), 6, "every failure is counted")
            # ...against the address each came from (the real client, not a claimed one)
            self.assertTrue(all(a.ip.startswith("10.78.") for a in failed), failed.mapped("ip"))
