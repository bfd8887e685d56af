"""What the customer portal shows of a subscription (speed, sessions, invoices) and the
change-of-plan request it sends to staff."""

from odoo import fields, models
from odoo.exceptions import UserError


class IspSubscription(models.Model):
    _inherit = "isp.subscription"  # pylint: disable=consider-merging-classes-inherited

    def _portal_speed(self):
        """'10 Mbit/s down, 5 Mbit/s up' for the customer, or '' when unlimited; after the
        data cap of a fair-use bundle, the slower speed, said so."""
        self.ensure_one()
        bundle = self.bundle_id
        fair_use = self.fair_use_active and bundle.product_tmpl_id._isp_fair_use_rates()

        def rate(kbps):
            if kbps >= 1024 and kbps % 1024 == 0:
                return self.env._("%(value)s Mbit/s", value=kbps // 1024)
            return self.env._("%(value)s kbit/s", value=kbps)

        if fair_use:
            upload, download = fair_use
            return self.env._(
                "%(down)s down, %(up)s up (slowed down after the data cap)",
                down=rate(download),
                up=rate(upload),
            )
        parts = []
        if bundle.isp_download_kbps:
            parts.append(self.env._("%(rate)s down", rate=rate(bundle.isp_download_kbps)))
        if bundle.isp_upload_kbps:
            parts.append(self.env._("%(rate)s up", rate=rate(bundle.isp_upload_kbps)))
        return ", ".join(parts)

    def _portal_sessions(self, limit=10):
        """Hook: the customer's recent sessions for the portal, newest first, as dicts with
        ``start``, ``last_seen`` (datetimes), ``data_mb``, ``ip`` and ``online``. isp_billing
        records none; a module that polls the routers (isp_mikrotik) returns them."""
        self.ensure_one()
        return []

    def _portal_invoices(self):
        """The invoices of this subscription: its period invoices and its purchases'."""
        self.ensure_one()
        moves = self.sudo().recurring_invoice_ids | self.sudo().purchase_ids.invoice_id
        return moves.filtered(lambda m: m.state == "posted").sorted(
            lambda m: (m.invoice_date or fields.Date.today(), m.id), reverse=True
        )

    def _portal_plan_options(self):
        """Bundles the customer may ask to move to: the company's other bundles of the same
        service."""
        self.ensure_one()
        return (
            self.env["product.product"]
            .sudo()
            .search(
                [
                    ("is_isp_bundle", "=", True),
                    ("sale_ok", "=", True),
                    ("isp_service_type", "=", self.service_type),
                    ("company_id", "in", (self.company_id.id, False)),
                    ("id", "!=", self.bundle_id.id),
                ],
                order="list_price, id",
            )
        )

    def _request_plan_change(self, bundle, note=""):
        """Record a customer's change-of-plan request for staff: a chatter message and a to-do
        activity. A repeated request for the same bundle while one is open adds nothing."""
        self.ensure_one()
        if bundle not in self._portal_plan_options():
            raise UserError(self.env._("Choose one of the plans offered."))
        if self.state == "cancelled":
            raise UserError(self.env._("This subscription is cancelled."))
        summary = self.env._("Plan change: %(bundle)s", bundle=bundle.display_name)
        subscription = self.sudo()
        todo = self.env.ref("mail.mail_activity_data_todo")
        if subscription.activity_ids.filtered(
            lambda a: a.activity_type_id == todo and a.summary == summary
        ):
            return False
        note = (note or "").strip()[:500]
        subscription.message_post(
            body=self.env._(
                "%(customer)s asks to move from %(old)s to %(new)s.%(note)s",
                customer=self.partner_id.display_name,
                old=self.bundle_id.display_name,
                new=bundle.display_name,
                note=self.env._(" Note: %(note)s", note=note) if note else "",
            ),
            author_id=self.partner_id.id,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        subscription.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=summary,
            note=note,
            user_id=self._staff_user().id,
        )
        return True

    def _staff_user(self):
        """Who gets customers' requests: the customer's salesperson, else an ISP manager of
        the company."""
        self.ensure_one()
        salesperson = self.partner_id.user_id or self.partner_id.commercial_partner_id.user_id
        if salesperson and not salesperson.share:
            return salesperson
        managers = self.env.ref("isp_billing.group_isp_manager").sudo().all_user_ids
        managers = managers.filtered(
            lambda u: not u.share and u.active and self.company_id in u.company_ids
        )
        return managers.sorted("id")[:1] or self.env.ref("base.user_admin")
