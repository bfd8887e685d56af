"""The Disconnect / CoA sender against a real UDP NAS: answers recorded (ACK, NAK with its
Error-Cause, a session already gone), a silent or mis-keyed NAS retried with backoff until
it fails, forged answers ignored, the secret never logged, each request sent once even by
two workers at once, and who may see and retry what."""

import uuid
from datetime import timedelta
from unittest.mock import patch

from cryptography.fernet import Fernet

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import SQL, config

from odoo.addons.isp_billing.tests.common import IspCommittedCase, captured_logs

from .coa_common import SECRET, CoaCase, loopback_address
from .nas_listener import NasListener

BACKOFF = (30, 60, 120, 300, 900)


@tagged("post_install", "-at_install")
class TestRadiusCoaSender(CoaCase):
    def _suspended_with_session(self, phone, known=True):
        sub = self._subscription(phone)
        _radacct_id, session_id = self._start(sub, known=known)
        sub.action_suspend()
        return sub, session_id, self._requests(sub)

    def test_silent_nas_is_retried_with_backoff_then_failed(self):
        self.listener.mode = "silent"
        sub, session_id, request = self._suspended_with_session("+255712400001")
        for attempt, delay in enumerate(BACKOFF, start=1):
            before = fields.Datetime.now()
            self._send(timeout=0.2)
            self.assertEqual((request.state, request.attempts), ("pending", attempt))
            waited = (request.next_attempt - before).total_seconds()
            self.assertAlmostEqual(waited, delay, delta=2, msg=f"attempt {attempt}")
            self.assertIn("No valid answer", request.last_error)
            self.assertNotIn(self.nas.address, request.last_error, "the address is the admins'")
            self._send(timeout=0.2)
            self.assertEqual(len(self.listener.requests()), attempt, "not sent before its time")
            self._make_due(request)
        self._send(timeout=0.2)
        self.assertEqual((request.state, request.attempts), ("failed", 6))
        self.assertTrue(request.date_done)
        received = self.listener.requests()
        self.assertEqual(len(received), 6)
        self.assertEqual(
            {self._attrs(r)["Acct-Session-Id"] for r in received}, {session_id}, "the same request"
        )
        note = sub.message_ids[0].body
        self.assertIn("RADIUS Disconnect of session", note)
        self.assertIn("not answered after 6 attempts", note)
        # a manager sends it again
        manager = new_test_user(self.env, "coa-manager", groups="isp_billing.group_isp_manager")
        self.listener.mode = "answer"
        request.with_user(manager).action_retry()
        self.assertEqual((request.state, request.attempts), ("pending", 0))
        self._send()
        self.assertEqual(request.state, "acked")

    def test_a_silent_nas_is_probed_once_per_run(self):
        self.listener.mode = "silent"
        first = self._suspended_with_session("+255712400002")[2]
        second = self._suspended_with_session("+255712400003")[2]
        answering = self._listener()
        other_nas = self._nas(answering, name="Tower B")
        sub = self._subscription("+255712400004")
        _radacct_id, session_id = self._start(sub, nas=other_nas)
        answering.add_session(sub.login, session_id)
        sub.action_suspend()
        self._send(timeout=0.2)
        self.assertEqual(len(self.listener.requests()), 1, "one probe of the silent NAS")
        self.assertEqual((first | second).mapped("attempts"), [1, 1])
        self.assertEqual(set((first | second).mapped("state")), {"pending"})
        self.assertEqual(self._requests(sub).state, "acked", "the other NAS is served")

    def test_nak_is_recorded_with_its_error_cause(self):
        self.listener.mode = "nak"
        self.listener.nak_cause = 501
        sub, _session_id, request = self._suspended_with_session("+255712400005")
        self._send()
        self.assertEqual(self.listener.requests()[0]["answer"], (42, 501))
        self.assertEqual((request.state, request.error_cause), ("naked", 501))
        self.assertEqual(request.error_cause_name, "501 Administratively-Prohibited")
        self.assertIn("Administratively-Prohibited", request.last_error)
        self.assertIn("refused by the NAS", sub.message_ids[0].body)
        # an ISP user sees it but cannot send it again
        user = new_test_user(self.env, "coa-user", groups="isp_billing.group_isp_user")
        self.assertEqual(request.with_user(user).read(["state"])[0]["state"], "naked")
        with self.assertRaises(AccessError):
            request.with_user(user).action_retry()
        with self.assertRaises(AccessError):
            request.with_user(user).write({"state": "pending"})
        self.assertEqual(request.state, "naked")

    def test_session_already_gone_is_done_not_failed(self):
        sub, _session_id, request = self._suspended_with_session("+255712400006", known=False)
        self._send()
        self.assertEqual(self.listener.requests()[0]["answer"], (42, 503))
        self.assertEqual((request.state, request.error_cause), ("gone", 503))
        self.assertIn("already ended", request.last_error)
        self.assertEqual(request.error_cause_name, "503 Session-Context-Not-Found")

    def test_wrong_secret_on_the_nas_gets_no_answer_and_is_retried(self):
        self.listener.secret = b"the-nas-has-another-secret"
        _sub, _session_id, request = self._suspended_with_session("+255712400007")
        self._send(timeout=0.2)
        self.assertEqual([reason for reason, _data in self.listener.discarded], ["authenticator"])
        self.assertFalse(self.listener.requests(), "silently discarded")
        self.assertEqual((request.state, request.attempts), ("pending", 1))
        # the secret fixed on the NAS: the retry is acked
        self.listener.secret = SECRET.encode()
        self._make_due(request)
        self._send()
        self.assertEqual((request.state, request.attempts), ("acked", 2))

    def test_an_answer_with_a_wrong_authenticator_is_ignored(self):
        self.listener.mode = "bad_authenticator"
        _sub, _session_id, request = self._suspended_with_session("+255712400008")
        self._send(timeout=0.3)
        self.assertEqual(self.listener.requests()[0]["answer"], (41, None), "it did answer")
        self.assertEqual((request.state, request.attempts), ("pending", 1))
        self.assertIn("No valid answer", request.last_error)

    def test_the_secret_is_never_logged(self):
        self.listener.mode = "nak"
        self._suspended_with_session("+255712400009")
        with captured_logs({"": 10, "odoo": 10, "pyrad": 10}) as lines:
            self._send()
        self.assertTrue(any("RADIUS disconnect" in line for line in lines), lines)
        self.assertFalse([line for line in lines if SECRET in line])

    def test_archived_nas_cancels_its_requests(self):
        _sub, _session_id, request = self._suspended_with_session("+255712400010")
        self.nas.active = False
        self._send()
        self.assertEqual(request.state, "cancelled")
        self.assertFalse(self.listener.requests())

    def test_a_claim_left_by_a_dead_worker_is_sent_again(self):
        _sub, _session_id, request = self._suspended_with_session("+255712400011")
        request.flush_recordset()
        self.env.cr.execute(
            SQL(
                "UPDATE isp_radius_request SET state = 'sending', write_date = %s WHERE id = %s",
                fields.Datetime.now() - timedelta(minutes=20),
                request.id,
            )
        )
        request.invalidate_recordset()
        self._send()
        self.assertEqual(request.state, "acked")

    def test_requests_of_another_company_are_not_seen(self):
        _sub, _session_id, request = self._suspended_with_session("+255712400012")
        other = self.env["res.company"].create({"name": "Other ISP (CoA)"})
        outsider = new_test_user(
            self.env,
            "coa-outsider",
            groups="isp_billing.group_isp_manager",
            company_id=other.id,
            company_ids=[Command.set(other.ids)],
        )
        self.assertFalse(self.Request.with_user(outsider).search([("id", "=", request.id)]))
        insider = new_test_user(self.env, "coa-insider", groups="isp_billing.group_isp_user")
        self.assertEqual(self.Request.with_user(insider).search([("id", "=", request.id)]), request)


@tagged("post_install", "-at_install")
class TestRadiusCoaConcurrency(IspCommittedCase):
    """Two senders (two cursors, two threads) at once over committed requests: each request
    is sent once."""

    COUNT = 16

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.startClassPatcher(
            patch.dict(config.options, {"isp_credential_key": Fernet.generate_key().decode()})
        )

    def setUp(self):
        super().setUp()
        self.listener = NasListener(SECRET, host=loopback_address()).start()
        self.addCleanup(self.listener.stop)
        self.listener.delay = 0.02
        tag = uuid.uuid4().hex[:8]
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env.ref("base.main_company")
            self.company_id = company.id
            nas = env["isp.radius.nas"].create(
                {
                    "name": f"Race {tag}",
                    "address": self.listener.host,
                    "coa_port": self.listener.port,
                    "secret": SECRET,
                    "company_id": company.id,
                }
            )
            self.nas_id = nas.id
            env["isp.radius.request"].create(
                [
                    {
                        "company_id": company.id,
                        "nas_id": nas.id,
                        "kind": "disconnect",
                        "username": f"race-{tag}-{n}",
                        "acct_session_id": f"{n:08x}",
                        "radacct_id": -(n + 1),  # no radacct row: the sender does not read it
                        "reason": "race",
                    }
                    for n in range(self.COUNT)
                ]
            )
        for n in range(self.COUNT):
            self.listener.add_session(f"race-{tag}-{n}", f"{n:08x}")
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["isp.radius.nas"].browse(self.nas_id).unlink()  # its requests cascade

    def test_two_senders_at_once_send_each_request_once(self):
        def worker(barrier):
            with self.registry.cursor() as cr:
                env = self._env(cr)
                barrier.wait(timeout=30)
                env["isp.radius.request"]._cron_send(timeout=2)
            return True

        results = self._at_once(worker, [(), ()])
        self.assertEqual(results, [True, True])
        received = self.listener.requests()
        sessions = [self._session(r) for r in received]
        self.assertEqual(len(sessions), self.COUNT, sessions)
        self.assertEqual(len(set(sessions)), self.COUNT, "no request sent twice")
        with self.registry.cursor() as cr:
            env = self._env(cr)
            requests = env["isp.radius.request"].search([("nas_id", "=", self.nas_id)])
            self.assertEqual(set(requests.mapped("state")), {"acked"})
            self.assertEqual(set(requests.mapped("attempts")), {1})

    @staticmethod
    def _session(received):
        attributes = received["attributes"]
        return attributes["User-Name"][0], attributes["Acct-Session-Id"][0]


@tagged("post_install", "-at_install")
class TestRadiusCoaCleanup(CoaCase):
    def test_old_finished_requests_are_deleted_failed_ones_kept_longer(self):
        subs = [self._subscription(f"+25571240010{n}") for n in range(3)]
        for sub in subs:
            self._start(sub)
            sub.action_suspend()
        acked, failed, recent = (self._requests(sub) for sub in subs)
        long_ago = fields.Datetime.now() - timedelta(days=40)
        acked.sudo().write({"state": "acked", "date_done": long_ago})
        failed.sudo().write({"state": "failed", "date_done": long_ago})
        recent.sudo().write({"state": "acked", "date_done": fields.Datetime.now()})
        self.assertEqual(self.Request._gc_finished(), (1, False))
        self.assertFalse(acked.exists())
        self.assertEqual((failed | recent).exists(), failed | recent)
