from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from .common import IspBillingCase


@tagged("post_install", "-at_install")
class TestExportAccess(HttpCase, IspBillingCase):
    """Voucher exports (cash) and revenue workbooks are transient records: their creator
    reads them, nobody else, of another company or of the same one; their files at
    /web/content likewise."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create(
            {"name": "ISP B", "country_id": cls.env.ref("base.tz").id}
        )
        manager = "isp_billing.group_isp_manager"
        cls.manager_a = cls._user("export-a", cls.company, manager)
        cls.colleague_a = cls._user("export-a2", cls.company, manager)
        cls.manager_b = cls._user("export-b", cls.company_b, manager)
        cls.batch = cls.env["isp.voucher.batch"].create(
            {"name": "CASH-A-1", "quantity": 3, "bundle_id": cls.daily.id, "price": 1000}
        )
        cls.batch.action_generate()
        env_a = cls.env(user=cls.manager_a, context={"allowed_company_ids": cls.company.ids})
        cls.voucher_url = env_a["isp.voucher.export"]._download(cls.batch, "csv")["url"]
        cls.voucher_export = env_a["isp.voucher.export"].search([], order="id desc", limit=1)
        revenue = env_a["isp.revenue.export"].create({})
        cls.revenue_url = revenue.action_export()["url"]
        cls.revenue_export = revenue

    @classmethod
    def _user(cls, login, company, group):
        return new_test_user(
            cls.env,
            login=login,
            password=f"{login}-pass-1234",
            groups=group,
            company_id=company.id,
            company_ids=[Command.set(company.ids)],
        )

    def _records(self):
        return (
            ("isp.voucher.export", self.voucher_export, "data"),
            ("isp.revenue.export", self.revenue_export, "file"),
        )

    def test_only_the_creator_lists_and_reads(self):
        for user in (self.manager_b, self.colleague_a):
            env = self.env(user=user, context={"allowed_company_ids": user.company_ids.ids})
            for model, record, field_name in self._records():
                with self.subTest(user=user.login, model=model):
                    self.assertFalse(env[model].search([("id", "=", record.id)]))
                    self.assertFalse(env[model].search_count([]))
                    with self.assertRaises(AccessError):
                        record.with_env(env).read([field_name])
                    with self.assertRaises(AccessError):
                        record.with_env(env).check_access("write")
        # the creator does
        env = self.env(user=self.manager_a, context={"allowed_company_ids": self.company.ids})
        for model, record, field_name in self._records():
            with self.subTest(user="creator", model=model):
                self.assertEqual(env[model].search([("id", "=", record.id)]), record)
                self.assertTrue(record.with_env(env).read([field_name])[0][field_name])

    def test_files_download_for_the_creator_only(self):
        codes = self.batch.voucher_ids.mapped("code")
        for login in ("export-b", "export-a2"):
            self.authenticate(login, f"{login}-pass-1234")
            for url in (self.voucher_url, self.revenue_url):
                with self.subTest(login=login, url=url):
                    response = self.url_open(url, allow_redirects=False)
                    self.assertIn(response.status_code, (403, 404), response.text[:200])
                    for code in codes:
                        self.assertNotIn(code, response.text)
                    self.assertNotIn("PK\x03\x04", response.text, "no XLSX (zip) file")
        self.authenticate("export-a", "export-a-pass-1234")
        response = self.url_open(self.voucher_url)
        self.assertEqual(response.status_code, 200)
        self.assertIn(codes[0], response.text)
        response = self.url_open(self.revenue_url)
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.content.startswith(b"PK\x03\x04"))
