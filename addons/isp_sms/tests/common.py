from datetime import timedelta
from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo.tests import common as test_common
from odoo.tools import config

from odoo.addons.isp_billing.tests.common import IspBillingCase

from .simulators import AfricasTalkingSimulator, NextSmsSimulator

NEXTSMS_PASSWORD = "nx-Pa55word-sekret"
AT_API_KEY = "atsk_0123456789abcdef-sekret"


class IspSmsCase(IspBillingCase):
    """A company sending through a NextSMS gateway pointed at a loopback simulator, an
    Africa's Talking gateway on another simulator, and Swahili loaded."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        patcher = patch.dict(config.options, {"isp_credential_key": Fernet.generate_key().decode()})
        patcher.start()
        cls.addClassCleanup(patcher.stop)
        cls.nextsms = NextSmsSimulator(
            username="kitonga", password=NEXTSMS_PASSWORD, senders={"KITONGA"}, stall_seconds=1.5
        ).start()
        cls.addClassCleanup(cls.nextsms.stop)
        cls.at = AfricasTalkingSimulator(
            username="kitonga", api_key=AT_API_KEY, senders={"KITONGA"}, stall_seconds=1.5
        ).start()
        cls.addClassCleanup(cls.at.stop)
        cls.gateway = cls.env["isp.sms.gateway"].create(
            {
                "name": "NextSMS (simulator)",
                "provider": "nextsms",
                "sender_id": "KITONGA",
                "nextsms_username": "kitonga",
                "nextsms_password": NEXTSMS_PASSWORD,
                "nextsms_base_url": cls.nextsms.url,
                "timeout": 1,
            }
        )
        cls.at_gateway = cls.env["isp.sms.gateway"].create(
            {
                "name": "Africa's Talking (simulator)",
                "provider": "africastalking",
                "sender_id": "KITONGA",
                "at_username": "kitonga",
                "at_api_key": AT_API_KEY,
                "at_base_url": cls.at.url,
                "timeout": 1,
            }
        )
        cls.company.isp_sms_gateway_id = cls.gateway
        cls.company.partner_id.tz = "Africa/Dar_es_Salaam"
        cls.env["res.lang"]._activate_lang("sw")
        cls.env["ir.module.module"]._load_module_terms(["isp_sms"], ["sw"], overwrite=True)
        cls.env["res.lang"]._activate_lang("en_US")

    def setUp(self):
        super().setUp()
        for sim in (self.nextsms, self.at):
            with sim.lock:
                sim.requests.clear()
                sim.accepted.clear()
                sim.failures.clear()
                sim.reject.clear()

    # ------------------------------------------------------------------ helpers

    def _commit_patch(self, reports=None):
        def commit_progress(cron, processed=0, *, remaining=None, deactivate=False):
            if reports is not None:
                reports.append((processed, remaining))
            return 60.0

        return patch.object(type(self.env["ir.cron"]), "_commit_progress", commit_progress)

    def _real_timeouts(self):
        """Odoo's test harness raises every HTTP timeout below 10 s to 10 s; keep the
        gateway's own (1 s) so that the simulator's stall is a timeout."""

        def handler(cls, session, request, /, **kw):
            self.assertIn(request.url.split("/")[2].split(":")[0], ("127.0.0.1", "localhost"))
            return test_common._super_send(session, request, **kw)

        return patch.object(type(self), "_request_handler", classmethod(handler))

    def _run_sms_queue(self):
        """Run sms's queue cron until nothing is left in the queue (commits recorded, not
        done); SMS waiting for a retry stay out of it until their time."""
        Sms = self.env["sms.sms"].sudo()
        with self._commit_patch():
            for _i in range(50):
                Sms._process_queue()
                if not Sms.search_count([("state", "=", "outgoing"), ("to_delete", "!=", True)]):
                    break

    def _subscription(self, phone, bundle, expires_in, started_ago=timedelta(days=30), **vals):
        """A customer's subscription bought by payment, its period moved to end in
        ``expires_in`` (negative: already over)."""
        partner = self._customer(phone, **vals)
        subscription = self._fulfil(partner, bundle, f"TX-{phone}").subscription_id
        now = self._now()
        subscription.write({"date_start": now - started_ago, "date_expiry": now + expires_in})
        return subscription

    def _run_reminders(self):
        reports = []
        with self._commit_patch(reports):
            self.env["isp.subscription"]._cron_isp_sms_reminders()
        return reports

    def _sms_of(self, partner):
        return self.env["sms.sms"].sudo().search([("partner_id", "=", partner.id)], order="id")

    def _bodies(self, partner):
        return self._sms_of(partner).mapped("body")

    def _make_due(self, sms):
        sms.sudo().write({"isp_retry_at": self._now() - timedelta(seconds=1)})
