"""Shared set-up of the operator approval tests: a plan of the platform company (the main
company, Tanzania) and a platform owner who is not a system administrator."""

from odoo import Command


def platform_product(env, company):
    """The service the platform company invoices its plans with, in that company."""
    return env["product.product"].create(
        {"name": "Platform plan (tests)", "type": "service", "company_id": company.id}
    )


class PlatformApprovalMixin:
    @classmethod
    def _platform_setup(cls):
        cls.platform = cls.env.ref("base.main_company")
        cls.plan = cls.env["isp.platform.plan"].create(
            {
                "name": "Approval Test Plan",
                "price": 25000,
                "company_id": cls.platform.id,
                "product_id": platform_product(cls.env, cls.platform).id,
            }
        )
        cls.owner = cls.env["res.users"].create(
            {
                "name": "Platform Owner",
                "login": "platform-owner-p2",
                "email": "owner-p2@platform.example",
                "company_id": cls.platform.id,
                "company_ids": [Command.set(cls.platform.ids)],
                "group_ids": [
                    Command.set(
                        [
                            cls.env.ref("base.group_user").id,
                            cls.env.ref("isp_platform.group_isp_platform_manager").id,
                        ]
                    )
                ],
            }
        )

    @classmethod
    def _application(cls, name, email, country="base.ke", domain=False, currency=None):
        country = cls.env.ref(country)
        return (
            cls.env["isp.platform.application"]
            .sudo()
            .create(
                {
                    "business_name": name,
                    "contact_name": f"{name} Admin",
                    "email": email,
                    "phone": "+254712345678" if country.code == "KE" else "+255712345678",
                    "country_id": country.id,
                    "currency_id": (currency or country.currency_id).id,
                    "plan_id": cls.plan.id,
                    "domain": domain,
                }
            )
        )

    @classmethod
    def _approve(cls, application):
        application.with_user(cls.owner).action_approve()
        return application.company_id
