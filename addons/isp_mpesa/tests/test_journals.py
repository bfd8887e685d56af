import importlib.util
from pathlib import Path

from odoo.tests import TransactionCase, tagged

MIGRATION = Path(__file__).parents[1] / "migrations" / "19.0.1.1.0" / "post-migrate.py"


@tagged("post_install", "-at_install")
class TestProviderJournals(TransactionCase):
    """Each company's M-Pesa / ClickPesa provider posts in a journal of its own (MPESA /
    CLKP), also when the company gets its chart of accounts after the providers (every fresh
    install, every company created later), never in the generic bank journal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env["res.company"].create(
            {"name": "Mwanza WiFi", "country_id": cls.env.ref("base.tz").id}
        )

    def _providers(self, company=None):
        return self.env["payment.provider"].search(
            [
                ("code", "in", ("daraja", "clickpesa")),
                ("company_id", "=", (company or self.company).id),
            ]
        )

    def _journals(self, providers):
        return {p.code: p.journal_id.code for p in providers}

    def test_chart_loaded_after_the_providers_gives_their_journals(self):
        providers = self._providers()
        self.assertEqual(sorted(providers.mapped("code")), ["clickpesa", "daraja"])
        self.assertEqual(self._journals(providers), {"daraja": False, "clickpesa": False})
        with self.assertNoLogs("odoo.addons.isp_mpesa", "WARNING"):
            self.env["account.chart.template"].try_loading("tz", self.company, install_demo=False)
        providers.invalidate_recordset()
        self.assertEqual(self._journals(providers), {"daraja": "MPESA", "clickpesa": "CLKP"})
        self.assertEqual(providers.journal_id.company_id, self.company)
        # enabled, they keep their journal (no fallback to the company's first bank journal)
        required = {
            name: "x" for name in providers._isp_secret_fields.values() if "checksum" not in name
        }
        providers.write(required | {"daraja_shortcode": "174379", "state": "test"})
        providers.invalidate_recordset()
        self.assertEqual(self._journals(providers), {"daraja": "MPESA", "clickpesa": "CLKP"})
        # a provider added later in the company (a duplicate) shares the journal
        duplicate = providers.filtered(lambda p: p.code == "daraja").copy({"name": "M-Pesa 2"})
        self.assertEqual(duplicate.journal_id.code, "MPESA")
        self.assertEqual(
            self.env["account.journal"].search_count(
                [("company_id", "=", self.company.id), ("code", "=like", "MPESA%")]
            ),
            1,
        )

    def test_upgrade_replaces_the_generic_fallback_but_not_a_chosen_journal(self):
        """Installs made before: providers enabled with Odoo's fallback journal (the
        company's first bank journal) get theirs on upgrade; a journal staff chose stays."""
        self.env["account.chart.template"].try_loading("tz", self.company, install_demo=False)
        Journal = self.env["account.journal"]
        journals = Journal.search(
            [("company_id", "=", self.company.id), ("code", "in", ("MPESA", "CLKP"))]
        )
        daraja, clickpesa = (
            self._providers().filtered(lambda p, c=c: p.code == c) for c in ("daraja", "clickpesa")
        )
        generic = Journal.search(
            [("company_id", "=", self.company.id), ("type", "=", "bank")], limit=1
        )
        self.assertNotIn(generic, journals)
        chosen = Journal.create(
            {
                "name": "ClickPesa Float",
                "code": "CPF",
                "type": "bank",
                "company_id": self.company.id,
            }
        )
        daraja.journal_id = generic
        clickpesa.journal_id = chosen
        journals.unlink()  # as on a database installed before
        spec = importlib.util.spec_from_file_location("isp_mpesa_post_migrate", MIGRATION)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.migrate(self.env.cr, "19.0.1.0.0")
        self.env.invalidate_all()
        self.assertEqual(daraja.journal_id.code, "MPESA")
        self.assertEqual(clickpesa.journal_id, chosen)


@tagged("post_install", "-at_install")
class TestRetentionUpgrade(TransactionCase):
    def test_upgrade_deletes_the_former_purge_cron(self):
        """Old notifications are deleted by Odoo's autovacuum: upgrading to 19.0.1.2.0 deletes
        the former cron (noupdate data, which an update keeps) and its server action."""
        cron = self.env["ir.cron"].create(
            {
                "name": "Mobile money: delete old notifications",
                "model_id": self.env.ref("isp_mpesa.model_isp_mpesa_callback").id,
                "state": "code",
                "code": "model._gc_expired()",
            }
        )
        action = cron.ir_actions_server_id
        self.env["ir.model.data"].create(
            {
                "module": "isp_mpesa",
                "name": "ir_cron_isp_mpesa_purge_callbacks",
                "model": "ir.cron",
                "res_id": cron.id,
                "noupdate": True,
            }
        )
        path = MIGRATION.parents[1] / "19.0.1.2.0" / "post-migrate.py"
        spec = importlib.util.spec_from_file_location("isp_mpesa_post_migrate_1_2", path)
        migration = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(migration)
        migration.migrate(self.env.cr, "19.0.1.1.0")
        self.assertFalse(cron.exists())
        self.assertFalse(action.exists())
        migration.migrate(self.env.cr, "19.0.1.1.0")  # nothing left to delete: no error
