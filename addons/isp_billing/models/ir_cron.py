import logging
import os
import threading

import psycopg2
from psycopg2 import sql as pgsql

from odoo import api, fields, models
from odoo.sql_db import connection_info_for

from odoo.addons.base.models.ir_cron import ODOO_NOTIFY_FUNCTION

_logger = logging.getLogger(__name__)

TRIGGERED_KEY = "isp_billing.cron_triggered_now"
NOTIFIED_KEY = "isp_billing.cron_workers_notified"

# One connection to the "postgres" database per process, kept to wake the cron workers: Odoo
# opens (and closes) a new one at each wake-up, a PostgreSQL process started and
# authenticated each time, i.e. at every payment callback.
_notify_lock = threading.Lock()
_notify_connections = {}  # {pid: psycopg2 connection}


def _notify_cron_workers(dbname):
    with _notify_lock:
        cnx = _notify_connections.get(os.getpid())
        if cnx is None or cnx.closed:
            _name, params = connection_info_for("postgres")
            cnx = psycopg2.connect(**params)
            cnx.autocommit = True
            _notify_connections[os.getpid()] = cnx
        try:
            with cnx.cursor() as cur:
                cur.execute(
                    pgsql.SQL("SELECT {}('cron_trigger', %s)").format(
                        pgsql.Identifier(ODOO_NOTIFY_FUNCTION)
                    ),
                    [dbname],
                )
        except psycopg2.Error:
            _notify_connections.pop(os.getpid(), None)
            cnx.close()
            raise


class IrCron(models.Model):
    """Wake-ups of crons as billing events need them, at most once per transaction.

    A payment callback triggers several crons (invoicing, SMS queue, router queue), some of
    them more than once (two SMS, two router hooks). A cron runs all its due work when it
    wakes, so a second "run now" of the same cron in the same transaction adds nothing: it
    is not inserted again. And the cron workers are woken (``NOTIFY`` on the ``postgres``
    database) once per committed transaction, whatever the number of crons triggered (they
    look for every due cron when they wake), over a connection kept by the process.
    """

    _inherit = "ir.cron"

    def _trigger_list(self, at_list):
        self.ensure_one()
        now = fields.Datetime.now()
        # With the transaction's post-commit data: cleared at commit and rollback (not by the
        # flushes of savepoints, unlike the pre-commit data).
        triggered = self.env.cr.postcommit.data.setdefault(TRIGGERED_KEY, {})
        earlier = triggered.get(self.id)
        if earlier and all(at <= now for at in at_list):
            # still there, unless rolled back with a savepoint since
            self.env.cr.execute(
                "SELECT id FROM ir_cron_trigger WHERE id = %s AND call_at <= %s",
                [earlier.id, now],
            )
            if self.env.cr.fetchone():
                return earlier
        triggers = super()._trigger_list(at_list)
        due = triggers.filtered(lambda trigger: trigger.call_at <= now)
        if due:
            triggered[self.id] = due[:1]
        return triggers

    @api.model
    def _notifydb(self):
        # registered once per trigger in the transaction's post-commit callbacks, whose data
        # lives until they all ran
        data = self.env.cr.postcommit.data
        if data.get(NOTIFIED_KEY):
            return
        data[NOTIFIED_KEY] = True
        try:
            _notify_cron_workers(self.env.cr.dbname)
        except psycopg2.Error as error:
            _logger.info("Waking the cron workers on a kept connection failed (%s)", error)
            super()._notifydb()

    @api.model
    def _isp_unlink_in_batches(self, model, domain, batch_size, order="id"):
        """Delete the records of ``model`` (a recordset, with the rights to delete) matching
        ``domain``, ``batch_size`` at a time, each batch committed as the cron's progress.
        Returns False when the cron run must stop (its time is up), True when all are gone."""
        while batch := model.search(domain, limit=batch_size, order=order):
            batch.unlink()
            if not self._commit_progress(len(batch)):
                return False
        return True
