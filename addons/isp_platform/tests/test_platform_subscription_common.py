"""Shared set-up of the platform subscription tests (no tests here): a platform company
with its own chart of accounts that invoices operators, plans, operator companies made
directly (as an approved application would) and their administrators."""

from unittest.mock import patch

from odoo import Command

OPERATOR_ADMIN = "isp_platform.group_isp_operator_admin"


class PlatformMixin:
    @classmethod
    def _setup_platform(cls):
        env = cls.env
        cls.platform = env["res.company"].create(
            {
                "name": "Platform Test Ltd",
                "country_id": env.ref("base.ke").id,
                "currency_id": env.ref("base.KES").id,
                "email": "billing@platform.example.com",
            }
        )
        env["account.chart.template"].try_loading("generic_coa", cls.platform, install_demo=False)
        cls.bank = env["account.journal"].search(
            [("company_id", "=", cls.platform.id), ("type", "=", "bank")], limit=1
        )
        # a platform company of its own invoices with a product of its own
        cls.product = env["product.product"].create(
            {
                "name": "Platform subscription (test)",
                "type": "service",
                "company_id": cls.platform.id,
                "taxes_id": [Command.clear()],
            }
        )
        Plan = env["isp.platform.plan"]
        cls.plan = Plan.create(
            {
                "name": "Starter",
                "company_id": cls.platform.id,
                "billing_period": "month",
                "price": 1000,
                "product_id": cls.product.id,
                "invoice_days_before": 7,
                "reminder_days_before": 3,
                "grace_days": 7,
                "max_routers": 2,
                "max_active_customers": 2,
                "max_sms_month": 5,
            }
        )
        cls.yearly = Plan.create(
            {
                "name": "Business yearly",
                "company_id": cls.platform.id,
                "billing_period": "year",
                "price": 12000,
                "product_id": cls.product.id,
            }
        )

    @classmethod
    def _partner(cls, name, email):
        """The operator as a customer of the platform company."""
        return cls.env["res.partner"].create(
            {"name": name, "email": email, "company_id": cls.platform.id}
        )

    @classmethod
    def _operator_company(cls, name):
        return cls.env["res.company"].create(
            {"name": name, "country_id": cls.env.ref("base.tz").id}
        )

    @classmethod
    def _operator_admin(cls, login, company):
        return cls.env["res.users"].create(
            {
                "name": login,
                "login": login,
                "password": login,  # browser_js signs in with the login as password
                "email": f"{login}@example.com",
                "company_id": company.id,
                "company_ids": [Command.set(company.ids)],
                "group_ids": [Command.link(cls.env.ref(OPERATOR_ADMIN).id)],
            }
        )

    @classmethod
    def _subscribe(cls, company, partner, plan=None):
        return cls.env["isp.platform.subscription"]._create_for_operator(
            company, partner, plan or cls.plan
        )

    def _run_cron(self):
        """The daily cron as Odoo runs it, its commits recorded instead of done."""
        reports = []

        def commit_progress(cron, processed=0, *, remaining=None, deactivate=False):
            reports.append((processed, remaining))
            return 60.0

        with patch.object(type(self.env["ir.cron"]), "_commit_progress", commit_progress):
            self.env["isp.platform.subscription"]._cron_platform_billing()
        self.env.invalidate_all()
        return reports

    def _pay(self, move):
        """Register the full payment of a platform invoice (as the platform's accountant)."""
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=move.ids
        ).create({"journal_id": self.bank.id})._create_payments()

    def _emails(self, move, kind_text):
        return move.message_ids.filtered(lambda m: kind_text in (m.body or ""))

    def _age(self, subscription, days):
        """Move the subscription's invoices' due dates ``days`` days into the past (time
        passing, without freezing the clock of an HTTP test server)."""
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE account_move SET invoice_date_due = invoice_date_due - %s, "
            "invoice_date = invoice_date - %s WHERE isp_platform_subscription_id = %s",
            (days, days, subscription.id),
        )
        self.env.invalidate_all()
