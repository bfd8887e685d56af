"""A committed fixture and a real FreeRADIUS for the RADIUS tests (see freeradius.py).

FreeRADIUS reads the database through its own connection: it sees committed rows only. So
RadiusCase is a BaseCase (no test transaction) whose records are made in ``committed()``
blocks, each a cursor of its own that commits, and removed at the end of the class
(``_cleanup``): subscriptions (their purchases cascade), partners, bundles, NAS and the
radacct / radpostauth rows of the class's NAS addresses. Company B is kept between runs
(a company cannot be deleted) and found again by name.

Every NAS gets its own random loopback address (freeradius.free_loopback_address): several
classes (and CI runs of other modules' tests) may keep NAS at the same time.
"""

import logging
import random
import unittest
import uuid
from contextlib import contextmanager
from datetime import timedelta
from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.modules.registry import Registry
from odoo.tests import BaseCase
from odoo.tests.common import get_db_name
from odoo.tools import config

from . import freeradius

_logger = logging.getLogger(__name__)

# One key for every RADIUS test class of the run: the role's password (encrypted with it) is
# then set once per run, not once per class.
CREDENTIAL_KEY = Fernet.generate_key().decode()
COMPANY_B_NAME = "ISP RADIUS Test B"


class RadiusCase(BaseCase):
    """Company A (the main company) with a MikroTik NAS for hotspot and PPPoE (pool
    "pppoe-main"), a standard NAS ("other") and a pay-now NAS (expired users accepted into
    the "isp-unpaid" list and "unpaid-pool"); company B with a MikroTik hotspot NAS. Bundles
    in A: ``bundle_day`` (hotspot, 512k/2M, 2 devices), ``bundle_capped`` (100 MB, no fair
    use), ``bundle_fair`` (100 MB then 256k/128k), ``bundle_pppoe`` (PPPoE, 1M/4M, 1 device,
    a month); ``bundle_day_b`` in B. A FreeRADIUS serves all four NAS; ``nas_a_client``,
    ``nas_b_client``, ``nas_other_client``, ``nas_unpaid_client`` send from them."""

    SECRET = "radius-test-secret"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not freeradius.available():
            raise unittest.SkipTest(f"{freeradius.FREERADIUS} is not installed")
        cls.startClassPatcher(patch.dict(config.options, {"isp_credential_key": CREDENTIAL_KEY}))
        cls.registry = Registry(get_db_name())
        cls.tag = uuid.uuid4().hex[:6]
        cls._created = {"isp.subscription": [], "res.partner": [], "product.template": []}
        cls._nas_ids, cls._nas_addresses = [], []
        cls.addClassCleanup(cls._cleanup)
        with cls.committed() as env:
            cls.company_a = env.ref("base.main_company").id
            company_b = env["res.company"].search([("name", "=", COMPANY_B_NAME)], limit=1)
            if not company_b:
                company_b = env["res.company"].create({"name": COMPANY_B_NAME})
            cls.company_b = company_b.id
            cls.bundle_day = cls._bundle(
                env, "Day", cls.company_a, up=512, down=2048, devices=2, unit="days"
            )
            cls.bundle_capped = cls._bundle(
                env, "Capped", cls.company_a, up=512, down=1024, cap=100
            )
            cls.bundle_fair = cls._bundle(
                env,
                "Fair",
                cls.company_a,
                up=1024,
                down=4096,
                cap=100,
                fair_up=256,
                fair_down=128,
            )
            cls.bundle_pppoe = cls._bundle(
                env,
                "Home",
                cls.company_a,
                up=1024,
                down=4096,
                devices=1,
                service="pppoe",
                unit="months",
            )
            cls.bundle_day_b = cls._bundle(env, "Day B", cls.company_b, up=256, down=1024)
            cls.nas_a = cls._nas(
                env, "A", cls.company_a, service_pppoe=True, framed_pool="pppoe-main"
            )
            cls.nas_b = cls._nas(env, "B", cls.company_b)
            cls.nas_other = cls._nas(env, "Other", cls.company_a, nas_type="other")
            cls.nas_unpaid = cls._nas(
                env,
                "PayNow",
                cls.company_a,
                service_pppoe=True,
                unpaid_access=True,
                unpaid_address_list="isp-unpaid",
                unpaid_pool="unpaid-pool",
            )
        cls.server = freeradius.FreeRadius(cls.registry, cls._nas_ids).start()
        cls.addClassCleanup(cls.server.stop)
        for name in ("nas_a", "nas_b", "nas_other", "nas_unpaid"):
            address = getattr(cls, name)["address"]
            setattr(cls, f"{name}_client", cls.server.client(address, cls.SECRET))

    # ------------------------------------------------------------------ committed data

    @classmethod
    @contextmanager
    def committed(cls):
        """An environment (superuser, every company) on a cursor of its own, committed at
        the end of the block."""
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            env = env(
                context=dict(env.context, allowed_company_ids=env["res.company"].search([]).ids)
            )
            yield env

    @classmethod
    def _bundle(
        cls,
        env,
        name,
        company,
        *,
        up=0,
        down=0,
        cap=0,
        fair_up=0,
        fair_down=0,
        devices=0,
        service="hotspot",
        unit="days",
    ):
        template = env["product.template"].create(
            {
                "name": f"RADIUS {name} {cls.tag}",
                "is_isp_bundle": True,
                "isp_service_type": service,
                "list_price": 1000,
                "isp_duration_value": 1,
                "isp_duration_unit": unit,
                "isp_upload_kbps": up,
                "isp_download_kbps": down,
                "isp_data_cap_mb": cap,
                "isp_fair_use_upload_kbps": fair_up,
                "isp_fair_use_download_kbps": fair_down,
                "isp_device_limit": devices,
                "taxes_id": [Command.clear()],
                "company_id": company,
            }
        )
        cls._created["product.template"].append(template.id)
        return template.product_variant_id.id

    @classmethod
    def _nas(cls, env, name, company, **values):
        address = freeradius.free_loopback_address(env, cls._nas_addresses)
        nas = env["isp.radius.nas"].create(
            {
                "name": f"RADIUS {name} {cls.tag}",
                "company_id": company,
                "address": address,
                "secret": cls.SECRET,
                **values,
            }
        )
        cls._nas_ids.append(nas.id)
        cls._nas_addresses.append(address)
        return {"id": nas.id, "address": address}

    @classmethod
    def new_login(cls):
        return "07" + "".join(random.choices("0123456789", k=8))

    @classmethod
    def make_subscription(
        cls,
        bundle,
        *,
        state="active",
        login=None,
        password=None,
        hours=24,
        data_cap_mb=0,
        data_used_mb=0.0,
        **values,
    ):
        """A committed subscription of a new customer on ``bundle`` (a product.product id,
        in the bundle's company): active until ``hours`` from now, or expired ``hours`` ago
        (state "expired"), or suspended. Returns a dict (id, login, password, date_expiry)."""
        login = login or cls.new_login()
        password = password or f"pw-{uuid.uuid4().hex[:8]}"
        with cls.committed() as env:
            product = env["product.product"].browse(bundle)
            company = product.company_id.id
            partner = env["res.partner"].create(
                {"name": f"RADIUS customer {login}", "is_isp_customer": True, "company_id": company}
            )
            cls._created["res.partner"].append(partner.id)
            subscription = env["isp.subscription"].create(
                {
                    "partner_id": partner.id,
                    "bundle_id": product.id,
                    "company_id": company,
                    "login": login,
                    "password": password,
                    "data_cap_mb": data_cap_mb,
                    "data_used_mb": data_used_mb,
                    **values,
                }
            )
            cls._created["isp.subscription"].append(subscription.id)
            now = fields.Datetime.now()
            if state == "expired":
                start, end = now - timedelta(hours=hours + 24), now - timedelta(hours=hours)
            else:
                start, end = now, now + timedelta(hours=hours)
            subscription.write({"state": "active", "date_start": start, "date_expiry": end})
            if state in ("expired", "suspended", "cancelled"):
                subscription.write({"state": state})
            return {
                "id": subscription.id,
                "login": login,
                "password": password,
                "date_expiry": subscription.date_expiry,
                "partner_id": partner.id,
            }

    @classmethod
    def _cleanup(cls):
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"active_test": False})
            if cls._nas_addresses:
                cr.execute(
                    "DELETE FROM radacct WHERE host(nasipaddress) = ANY(%s)",
                    [cls._nas_addresses],
                )
                cr.execute(
                    "DELETE FROM radpostauth WHERE host(nasipaddress) = ANY(%s)",
                    [cls._nas_addresses],
                )
            partners = env["res.partner"].browse(cls._created["res.partner"]).exists()
            if partners and "sms.sms" in env:
                # committed fulfilments queued real SMS (credentials, payment confirmed): a
                # later test's gateway must not find them in the queue
                env["sms.sms"].search(
                    [
                        "|",
                        ("partner_id", "in", partners.ids),
                        ("number", "in", [p for p in partners.mapped("phone") if p]),
                    ]
                ).unlink()
            for model, ids in (
                ("isp.subscription", cls._created["isp.subscription"]),
                ("isp.radius.nas", cls._nas_ids),
                ("res.partner", cls._created["res.partner"]),
                ("product.template", cls._created["product.template"]),
            ):
                records = env[model].browse(ids).exists()
                if not records:
                    continue
                try:
                    with cr.savepoint():
                        records.unlink()
                except Exception:  # noqa: BLE001 - cleanup: keep going, archive instead
                    _logger.info("RADIUS tests: %s %s archived, not deleted", model, records.ids)
                    if "active" in records._fields:
                        records.write({"active": False})
            # the NAS secrets were encrypted with this run's throw-away key
            env["isp.radius.nas"].browse(cls._nas_ids).exists().write({"secret_encrypted": False})

    # ------------------------------------------------------------------ assertions

    def assertAccept(self, reply, msg=None):
        self.assertEqual(reply.code, "accept", msg or f"{reply}\n{self.server.tail(60)}")

    def assertReject(self, reply, msg=None):
        self.assertEqual(reply.code, "reject", msg or f"{reply}")
        self.assertEqual(
            set(reply.attributes) - {"Message-Authenticator", "Reply-Message"},
            set(),
            "a reject tells nothing of the subscription",
        )

    def seconds_left(self, date_expiry):
        return (date_expiry - fields.Datetime.now()).total_seconds()
