from odoo.tests import tagged

from .accounting_common import MIB, RadiusAccountingCase


@tagged("post_install", "-at_install")
class TestRadiusPostauth(RadiusAccountingCase):
    """FreeRADIUS's rejections (radpostauth) → the access log, with the reason."""

    def _ingest_postauth(self):
        return self._run_cron(self.env["isp.radius.postauth"]._ingest_postauth, settle=0)[0]

    def _logs(self, **domain):
        return self.env["isp.access.log"].search(
            [("date", ">=", self._ago(minutes=5))]
            + [(key, "=", value) for key, value in domain.items()],
            order="id",
        )

    def _reason(self, login, **kwargs):
        before = self._logs()
        self._postauth(login, **kwargs)
        self._ingest_postauth()
        new = self._logs() - before
        self.assertEqual(len(new), 1, new.mapped("reason"))
        self.assertEqual(new.result, "denied")
        return new

    def test_reasons(self):
        unknown = self._reason("ghost", mac="aa-bb-cc-00-00-09")
        self.assertEqual(unknown.reason, "unknown_customer")
        self.assertEqual(unknown.company_id, self.company)
        self.assertEqual(unknown.mac, "AA:BB:CC:00:00:09")
        self.assertFalse(unknown.partner_id)

        expired = self._subscription("exp", state="expired")
        log = self._reason("exp")
        self.assertEqual((log.reason, log.partner_id), ("expired", expired.partner_id))

        suspended = self._subscription("susp", state="suspended")
        log = self._reason("susp")
        self.assertEqual((log.reason, log.partner_id), ("suspended", suspended.partner_id))

        capped = self._subscription("cap", bundle=self.capped)
        capped.data_used_mb = 10.0
        self.assertEqual(self._reason("cap").reason, "data_cap")
        # fair use: over the cap but slowed down, not refused for it
        fair = self._subscription("fair", bundle=self.fair)
        fair.data_used_mb = 11.0
        self.assertEqual(self._reason("fair").reason, "other")

        self._subscription("pw")
        log = self._reason("pw")
        self.assertEqual((log.reason, log.message), ("other", "Wrong password"))

    def test_device_limit(self):
        self.daily.product_tmpl_id.isp_device_limit = 2
        self._subscription("many")
        self._start("many", mac="aa-bb-cc-00-02-01", when=self._ago(minutes=3))
        self._start("many", mac="aa-bb-cc-00-02-02", when=self._ago(minutes=2))
        self._ingest()
        log = self._reason("many", mac="aa-bb-cc-00-02-03")
        self.assertEqual(log.reason, "device_limit")
        # one session closed: a rejection now is a wrong password
        self.env.cr.execute(
            "SELECT acctuniqueid FROM radacct WHERE username = 'many' ORDER BY radacctid LIMIT 1"
        )
        self._stop(self.env.cr.fetchone()[0], MIB, 0)
        self._ingest()
        self.assertEqual(self._reason("many").reason, "other")

    def test_accepts_not_logged_and_read_once(self):
        self._subscription("ok")
        before = self._logs()
        self._postauth("ok", reply="Access-Accept")
        self._postauth("ghost2")
        self._ingest_postauth()
        self._ingest_postauth()
        new = self._logs() - before
        self.assertEqual(new.mapped("reason"), ["unknown_customer"])

    def test_company_of_the_nas(self):
        other = self.env["res.company"].create({"name": "Other ISP (postauth)"})
        nas_b = self.env["isp.radius.nas"].create(
            {
                "name": "Tower B",
                "address": "10.255.0.3",
                "secret": "s3cret-b",
                "company_id": other.id,
            }
        )
        # "pw2" is a customer of the first company only: unknown to the other one's NAS
        self._subscription("pw2")
        log = self._reason("pw2", nas=nas_b)
        self.assertEqual((log.company_id, log.reason), (other, "unknown_customer"))
        log = self._reason("pw2")
        self.assertEqual((log.company_id, log.reason), (self.company, "other"))

    def test_rows_not_settled_wait(self):
        before = self._logs()
        self._postauth("ghost3")
        self._run_cron(self.env["isp.radius.postauth"]._ingest_postauth, settle=60)
        self.assertFalse(self._logs() - before)
        self._ingest_postauth()
        self.assertEqual(len(self._logs() - before), 1)

    def test_retention_purge(self):
        self.company.isp_access_log_retention_days = 30
        self._postauth("old-read", when=self._ago(days=40))
        self._postauth("new-read", when=self._ago(days=1))
        self._ingest_postauth()
        self._postauth("old-unread", when=self._ago(days=40))
        uid = self._start("old-session", when=self._ago(days=41))
        self._stop(uid, MIB, 0, when=self._ago(days=40))
        self._ingest()
        open_uid = self._start("open-session", when=self._ago(days=41))
        self._ingest()
        self.env["isp.radius.postauth"]._gc_radius_rows()
        self.env.cr.execute("SELECT username FROM radpostauth WHERE username LIKE '%-read'")
        self.assertEqual([r[0] for r in self.env.cr.fetchall()], ["new-read"])
        self.env.cr.execute("SELECT count(*) FROM radpostauth WHERE username = 'old-unread'")
        self.assertEqual(self.env.cr.fetchone()[0], 1)
        self.env.cr.execute(
            "SELECT acctuniqueid FROM radacct WHERE acctuniqueid IN %s", ((uid, open_uid),)
        )
        self.assertEqual([r[0] for r in self.env.cr.fetchall()], [open_uid])
        # Odoo keeps its session
        self.assertTrue(self._session(uid))
