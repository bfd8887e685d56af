"""The database role FreeRADIUS connects as reads the three views and writes radacct and
radpostauth: nothing of Odoo's own tables (users, customers, subscriptions, payment
credentials), nothing it could delete or create."""

import psycopg2
from psycopg2 import errors

from odoo.sql_db import connection_info_for
from odoo.tests import tagged

from .common import RadiusCase


@tagged("post_install", "-at_install")
class TestRadiusRole(RadiusCase):
    def _connect_as_role(self):
        with self.committed() as env:
            schema = env["isp.radius.schema"]
            role, password = schema._db_role_name(), schema._db_role_password()
        _name, params = connection_info_for(self.registry.db_name)
        params = dict(params, user=role, password=password)
        connection = psycopg2.connect(**params)
        self.addCleanup(connection.close)
        return connection

    def _refused(self, connection, query, params=None):
        with connection.cursor() as cr:
            with self.assertRaises(errors.InsufficientPrivilege, msg=query):
                cr.execute(query, params)
        connection.rollback()

    def test_role_reads_the_views_only(self):
        sub = self.make_subscription(self.bundle_day)
        connection = self._connect_as_role()
        with connection.cursor() as cr:
            cr.execute(
                "SELECT attribute, value FROM isp_radius_radcheck WHERE username = %s "
                "AND nasaddress = %s AND service = 'hotspot' ORDER BY id",
                [sub["login"], self.nas_a["address"]],
            )
            self.assertEqual(
                cr.fetchall(),
                [("Cleartext-Password", sub["password"]), ("Simultaneous-Use", "2")],
            )
            cr.execute(
                "SELECT attribute, value FROM isp_radius_reply(%s, %s, 'hotspot')",
                [sub["login"], self.nas_a["address"]],
            )
            self.assertIn(("Mikrotik-Rate-Limit", "512k/2M"), cr.fetchall())
            cr.execute("SELECT count(*) FROM isp_radius_radreply")
            cr.execute("SELECT count(*) FROM isp_radius_nas_v")
        connection.rollback()
        for table in (
            "res_users",
            "res_partner",
            "isp_subscription",
            "payment_provider",
            "ir_config_parameter",
            "isp_radius_nas",
            "isp_radius_user_v",
            "product_template",
        ):
            self._refused(connection, f"SELECT 1 FROM {table} LIMIT 1")  # noqa: S608

    def test_attribute_functions_are_not_public(self):
        """They run with the owner's rights: only the FreeRADIUS role may call them."""
        with self.committed() as env:
            env.cr.execute(
                "SELECT proname, proacl::text[] FROM pg_proc "
                "WHERE proname IN ('isp_radius_check', 'isp_radius_reply', "
                "'isp_radius_open_sessions')"
            )
            rows = env.cr.fetchall()
            role = env["isp.radius.schema"]._db_role_name()
        self.assertEqual(len(rows), 3)
        for name, acl in rows:
            grantees = {entry.split("=", 1)[0] for entry in acl}
            self.assertNotIn("", grantees, f"{name}: PUBLIC may execute it")
            self.assertIn(role, grantees, name)

    def test_role_writes_accounting_tables_only(self):
        connection = self._connect_as_role()
        with connection.cursor() as cr:
            cr.execute(
                "INSERT INTO radacct (acctsessionid, acctuniqueid, username, nasipaddress) "
                "VALUES ('x', %s, 'role-test', %s) RETURNING radacctid",
                [f"role-{self.tag}", self.nas_a["address"]],
            )
            cr.execute("UPDATE radacct SET acctsessiontime = 1 WHERE username = 'role-test'")
            cr.execute(
                "INSERT INTO radpostauth (username, pass, reply) VALUES ('role-test', '', 'x')"
            )
        connection.rollback()
        self._refused(connection, "DELETE FROM radacct")
        self._refused(connection, "TRUNCATE radpostauth")
        self._refused(connection, "UPDATE isp_subscription SET password = 'x'")
        # (CREATE TABLE in schema public is not refused: Odoo grants CREATE on it to PUBLIC
        # when it creates a database, odoo/service/db.py; see the module's README)
        self._refused(connection, "CREATE OR REPLACE VIEW isp_radius_radcheck AS SELECT 1 AS id")
