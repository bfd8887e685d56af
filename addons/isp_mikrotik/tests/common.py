from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo.tools import config

from odoo.addons.isp_billing.tests.common import IspBillingCase

from .routeros_sim import RouterOSSimulator

HOTSPOT_USERS = "/ip/hotspot/user"
HOTSPOT_PROFILES = "/ip/hotspot/user/profile"
HOTSPOT_ACTIVE = "/ip/hotspot/active"
PPP_SECRETS = "/ppp/secret"
PPP_PROFILES = "/ppp/profile"


class MikrotikCase(IspBillingCase):
    """isp_billing's operator and bundles, a credential key, and a simulated router per test
    (``self.sim``, ``self.router``)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(
            patch.dict(config.options, {"isp_credential_key": Fernet.generate_key().decode()})
        )
        cls.daily.product_tmpl_id.write(
            {"isp_upload_kbps": 512, "isp_download_kbps": 2048, "isp_device_limit": 2}
        )
        cls.capped = cls._bundle("Daily 1 GB", 500, 1, "days", isp_data_cap_mb=1024)
        cls.Job = cls.env["isp.router.job"]

    def setUp(self):
        super().setUp()
        self.sim = self._simulator()
        self.router = self._router(self.sim)

    def _simulator(self, **kwargs):
        sim = RouterOSSimulator(**kwargs).start()
        self.addCleanup(sim.stop)
        return sim

    def _router(self, sim, name="Tower A", **vals):
        return self.env["isp.router"].create(
            {
                "name": name,
                "host": "127.0.0.1",
                "port": sim.port,
                "username": sim.username,
                "password": sim.password,
                "timeout": 2,
                "service_hotspot": True,
                "service_pppoe": True,
                **vals,
            }
        )

    def _subscription(self, phone, bundle=None, activate=True):
        partner = self._customer(phone)
        subscription = self.env["isp.subscription"].create(
            {"partner_id": partner.id, "bundle_id": (bundle or self.daily).id}
        )
        if activate:
            subscription.action_activate()
        return subscription

    def _subscriptions(self, count, bundle=None, start=0):
        subscriptions = self.env["isp.subscription"]
        for index in range(start, start + count):
            subscriptions |= self._subscription(f"+2557120{index:05d}", bundle=bundle)
        return subscriptions

    def _run_cron(self, method, seconds_left=60.0):
        """Run a cron method as the cron would, its commits recorded instead of done (a test
        cannot commit). Returns the (processed, remaining) progress reports."""
        reports = []

        def commit_progress(cron, processed=0, *, remaining=None, deactivate=False):
            reports.append((processed, remaining))
            return seconds_left

        with patch.object(type(self.env["ir.cron"]), "_commit_progress", commit_progress):
            method()
        return reports

    def _run_queue(self):
        return self._run_cron(self.Job._cron_process_queue)

    def _poll(self):
        return self._run_cron(self.env["isp.router.session"]._cron_poll)

    def _full_sync(self, router=None):
        router = router or self.router
        self.Job._enqueue_full(router, reason="manual", now=True)
        return self._run_queue()

    def _pending(self, router=None):
        return self.Job.search(
            [("router_id", "=", (router or self.router).id), ("state", "=", "pending")]
        )

    def _users(self, sim=None, path=HOTSPOT_USERS):
        return {row["name"]: row for row in (sim or self.sim).rows(path)}
