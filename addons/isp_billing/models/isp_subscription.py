import logging
import secrets
import string
from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

STATES = [
    ("draft", "Draft"),
    ("active", "Active"),
    ("expired", "Expired"),
    ("suspended", "Suspended"),
    ("cancelled", "Cancelled"),
]
# state -> states it may move to
TRANSITIONS = {
    "draft": {"active", "cancelled"},
    "active": {"expired", "suspended", "cancelled"},
    "suspended": {"active", "expired", "cancelled"},
    "expired": {"active", "cancelled"},
    "cancelled": set(),
}
# Bytes in a MiB: data use is counted in MB of 1024 * 1024 bytes, as routers count.
MIB = 1024 * 1024
# Unambiguous characters for passwords customers may have to type.
PASSWORD_ALPHABET = "".join(c for c in string.ascii_lowercase + string.digits if c not in "0o1il")


class IspSubscription(models.Model):
    _name = "isp.subscription"
    _description = "ISP Subscription"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_expiry desc, id desc"
    _check_company_auto = True

    name = fields.Char(
        string="Reference", required=True, readonly=True, copy=False, default="/", index="trigram"
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        tracking=True,
        check_company=True,
        domain="[('is_isp_customer', '=', True)]",
    )
    phone = fields.Char(related="partner_id.phone")
    bundle_id = fields.Many2one(
        "product.product",
        required=True,
        tracking=True,
        check_company=True,
        domain="[('is_isp_bundle', '=', True)]",
    )
    service_type = fields.Selection(
        [("hotspot", "Hotspot"), ("pppoe", "PPPoE")],
        required=True,
        compute="_compute_service_type",
        store=True,
        readonly=False,
        precompute=True,
    )
    state = fields.Selection(
        STATES, default="draft", required=True, readonly=True, tracking=True, index=True, copy=False
    )
    date_start = fields.Datetime(string="Start", tracking=True, copy=False)
    date_expiry = fields.Datetime(string="Expiry", tracking=True, copy=False)
    data_cap_mb = fields.Integer(string="Data Cap (MB)", help="0 means no data cap.")
    data_used_mb = fields.Float(string="Data Used (MB)", digits=(16, 2), copy=False)
    data_left_mb = fields.Float(
        string="Data Left (MB)", compute="_compute_data_left_mb", digits=(16, 2)
    )
    fair_use_active = fields.Boolean(
        string="Slowed Down (Fair Use)",
        compute="_compute_fair_use_active",
        help="The data cap is reached and the bundle has a fair-use speed: the customer is "
        "slowed down to it until the period ends or more data is bought.",
    )
    login = fields.Char(copy=False, tracking=True, help="Hotspot user name or PPPoE secret name.")
    password = fields.Char(
        copy=False,
        groups="isp_billing.group_isp_manager",
        help="Hotspot or PPPoE password; visible to ISP managers only.",
    )
    purchase_ids = fields.One2many("isp.purchase", "subscription_id", string="Purchases")
    # compute_sudo: ISP users without invoicing rights still see their subscriptions' counts
    purchase_count = fields.Integer(compute="_compute_purchase_stats", compute_sudo=True)
    source = fields.Selection(
        [("payment", "Payment"), ("voucher", "Voucher"), ("manual", "Manual")],
        compute="_compute_source",
        store=True,
        help="How the latest period was obtained.",
    )
    source_reference = fields.Char(compute="_compute_source", store=True)
    invoice_ids = fields.Many2many(
        "account.move", compute="_compute_purchase_stats", compute_sudo=True, string="Invoices"
    )
    invoice_count = fields.Integer(compute="_compute_purchase_stats", compute_sudo=True)
    time_left = fields.Char(compute="_compute_time_left")

    _name_unique = models.Constraint(
        "UNIQUE(company_id, name)", "A subscription reference must be unique per company."
    )
    _login_unique = models.UniqueIndex(
        "(company_id, service_type, login) WHERE login IS NOT NULL",
        "This login is already used by another subscription of the same service.",
    )
    # The expiry sweep reads only active rows by expiry: its cost follows what expires.
    _active_expiry_idx = models.Index("(date_expiry) WHERE state = 'active'")
    _partner_service_idx = models.Index("(partner_id, service_type, state)")
    _dates_coherent = models.Constraint(
        "CHECK(date_expiry IS NULL OR date_start IS NULL OR date_expiry >= date_start)",
        "A subscription cannot expire before it starts.",
    )
    _data_not_negative = models.Constraint(
        "CHECK(data_cap_mb >= 0 AND data_used_mb >= 0)",
        "Data cap and data used cannot be negative.",
    )

    # ------------------------------------------------------------------ computes

    @api.depends("bundle_id")
    def _compute_service_type(self):
        for subscription in self:
            if subscription.bundle_id:
                subscription.service_type = subscription.bundle_id.isp_service_type
            elif not subscription.service_type:
                subscription.service_type = "hotspot"

    @api.depends(
        "state",
        "data_cap_mb",
        "data_used_mb",
        "bundle_id.isp_fair_use_download_kbps",
    )
    def _compute_fair_use_active(self):
        for subscription in self:
            subscription.fair_use_active = bool(
                subscription.state == "active"
                and subscription.data_cap_mb
                and subscription.data_used_mb >= subscription.data_cap_mb
                and subscription.bundle_id.product_tmpl_id._isp_fair_use_rates()
            )

    @api.depends("data_cap_mb", "data_used_mb")
    def _compute_data_left_mb(self):
        for subscription in self:
            subscription.data_left_mb = (
                max(subscription.data_cap_mb - subscription.data_used_mb, 0.0)
                if subscription.data_cap_mb
                else 0.0
            )

    @api.depends("purchase_ids.source", "purchase_ids.reference")
    def _compute_source(self):
        # the latest purchase of each subscription in one grouped query: a long-standing
        # customer's whole purchase history is not read at every payment
        latest_ids = dict(
            self.env["isp.purchase"]
            .sudo()
            ._read_group(
                [("subscription_id", "in", self._origin.ids)], ["subscription_id"], ["id:max"]
            )
        )
        for subscription in self:
            latest = self.env["isp.purchase"].sudo().browse(latest_ids.get(subscription._origin))
            subscription.source = latest.source
            subscription.source_reference = latest.reference

    def _compute_purchase_stats(self):
        for subscription in self:
            subscription.purchase_count = len(subscription.purchase_ids)
            subscription.invoice_ids = subscription.purchase_ids.invoice_id
            subscription.invoice_count = len(subscription.invoice_ids)

    def _compute_time_left(self):
        now = fields.Datetime.now()
        for subscription in self:
            if subscription.state != "active" or not subscription.date_expiry:
                subscription.time_left = False
                continue
            seconds = max(int((subscription.date_expiry - now).total_seconds()), 0)
            days, rest = divmod(seconds, 86400)
            hours, rest = divmod(rest, 3600)
            minutes = rest // 60
            if days:
                subscription.time_left = self.env._("%(d)s d %(h)s h", d=days, h=hours)
            elif hours:
                subscription.time_left = self.env._("%(h)s h %(m)s min", h=hours, m=minutes)
            else:
                subscription.time_left = self.env._("%(m)s min", m=minutes)

    # ------------------------------------------------------------------ CRUD

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
                vals["name"] = (
                    self.env["ir.sequence"].with_company(company).next_by_code("isp.subscription")
                    or "/"
                )
            if vals.get("state", "draft") != "draft":
                raise UserError(
                    self.env._("A subscription starts as a draft; activate it afterwards.")
                )
        subscriptions = super().create(vals_list)
        subscriptions.filtered(lambda s: not s.login)._generate_credentials()
        return subscriptions

    def write(self, vals):
        if "state" not in vals:
            return super().write(vals)
        new_state = vals["state"]
        previous = {sub.id: sub.state for sub in self}
        for subscription in self:
            if subscription.state != new_state and new_state not in TRANSITIONS[subscription.state]:
                raise UserError(
                    self.env._(
                        "Subscription %(name)s cannot go from %(old)s to %(new)s.",
                        name=subscription.name,
                        old=dict(STATES)[subscription.state],
                        new=dict(STATES)[new_state],
                    )
                )
        result = super().write(vals)
        changed = self.filtered(lambda s: previous[s.id] != s.state)
        if changed:
            changed._state_changed({sid: previous[sid] for sid in changed.ids})
        return result

    def _generate_credentials(self):
        """Give each subscription a login (the phone's digits, unique per service) and a random
        password. Users type these into routers, so they stay short and unambiguous."""
        taken = {
            (row.company_id.id, row.service_type, row.login)
            for row in self.search(
                [
                    ("login", "!=", False),
                    ("partner_id", "in", self.partner_id.ids),
                ]
            )
        }
        for subscription in self:
            base = "".join(ch for ch in (subscription.partner_id.phone or "") if ch.isdigit())
            base = base or subscription.name.replace("/", "").lower()
            login, suffix = base, 1
            while (subscription.company_id.id, subscription.service_type, login) in taken:
                suffix += 1
                login = f"{base}-{suffix}"
            taken.add((subscription.company_id.id, subscription.service_type, login))
            subscription.sudo().write(
                {
                    "login": login,
                    "password": "".join(secrets.choice(PASSWORD_ALPHABET) for _i in range(8)),
                }
            )

    # ------------------------------------------------------------------ state machine

    def action_activate(self):
        now = fields.Datetime.now()
        for subscription in self:
            if subscription.state not in ("draft", "expired"):
                raise UserError(self.env._("Only draft or expired subscriptions can be activated."))
            subscription.write(
                {
                    "state": "active",
                    "date_start": now,
                    "date_expiry": subscription.bundle_id._isp_add_duration(now),
                    "data_cap_mb": subscription.bundle_id.isp_data_cap_mb,
                    "data_used_mb": 0.0,
                }
            )
        return True

    def action_suspend(self):
        if any(s.state != "active" for s in self):
            raise UserError(self.env._("Only active subscriptions can be suspended."))
        self.write({"state": "suspended"})
        return True

    def action_resume(self):
        if any(s.state != "suspended" for s in self):
            raise UserError(self.env._("Only suspended subscriptions can be resumed."))
        now = fields.Datetime.now()
        running = self.filtered(lambda s: s.date_expiry and s.date_expiry > now)
        running.write({"state": "active"})
        (self - running).write({"state": "expired"})
        return True

    def action_cancel(self):
        if any(s.state == "cancelled" for s in self):
            raise UserError(self.env._("This subscription is already cancelled."))
        self.write({"state": "cancelled"})
        return True

    def _state_changed(self, previous_states):
        """Hook called after every state change, once per write, with ``self`` the changed
        subscriptions and ``previous_states`` their states before ({id: state}).

        isp_mikrotik (router sync) and isp_sms (notifications) extend it. Overrides must stay
        batch-aware and must not fail the state change: queue work, don't do it inline.
        """
        _logger.debug("ISP subscriptions %s changed state (from %s)", self.ids, previous_states)
        self._recurring_state_changed(previous_states)

    def _data_usage_changed(self, previous):
        """Hook called after data use was added to these subscriptions (``data_used_mb``),
        once per batch, with ``previous`` their use before ({id: MB}). isp_sms extends it
        (usage-threshold SMS). Overrides must stay batch-aware and must not fail the
        caller (a router poll)."""
        _logger.debug("ISP subscriptions %s: data use changed (from %s)", self.ids, previous)

    @api.model
    def _add_data_used(self, usage):
        """Add data used to subscriptions: ``usage`` is {subscription (record or id): bytes}
        (one MiB = 1024 * 1024 bytes); ``_data_usage_changed`` is told once. Returns (the
        active ones now over their cap, the fair-use ones that crossed it in this call:
        slowed down instead of cut off). Shared by the router poll (isp_mikrotik) and
        RADIUS accounting (isp_radius)."""
        # no tracking: data use is not a tracked field, and the tracking of the other fields
        # would read each subscription apart before its write
        Subscription = self.sudo().with_context(mail_notrack=True)
        capped, slowed = [], []
        previous = {}
        amounts = defaultdict(int)
        for key, used_bytes in usage.items():
            subscription_id = key if isinstance(key, int) else key.id
            if subscription_id and used_bytes > 0:
                amounts[subscription_id] += used_bytes
        # browsed together: read in one query
        for subscription in Subscription.browse(list(amounts)):
            used_bytes = amounts[subscription.id]
            previous[subscription.id] = before = subscription.data_used_mb
            subscription.data_used_mb = before + used_bytes / MIB
            if not (
                subscription.state == "active"
                and subscription.data_cap_mb
                and subscription.data_used_mb >= subscription.data_cap_mb
            ):
                continue
            if subscription.fair_use_active:
                if before < subscription.data_cap_mb:
                    slowed.append(subscription.id)
            else:
                capped.append(subscription.id)
        if previous:
            self.sudo().browse(list(previous))._data_usage_changed(previous)
        return self.sudo().browse(capped), self.sudo().browse(slowed)

    # ------------------------------------------------------------------ fulfilment

    def _apply_purchase(self, partner, bundle, start_at):
        """Find the customer's subscription for this service and extend or restart it, or
        create one. Returns (subscription, period start, period end).

        An active subscription is extended by ``bundle``'s duration from its expiry and
        keeps its own bundle when that one is bigger (``_keeps_bundle``): a Daily
        voucher or payment added to a Weekly plan adds a day on the Weekly plan.

        No field tracking nor creation message: the fulfilment logs one note saying what
        was bought and until when (``isp.purchase._fulfil``)."""
        quiet = self.with_context(mail_notrack=True, mail_create_nolog=True)
        subscription = quiet.search(
            [
                ("partner_id", "=", partner.id),
                ("company_id", "=", partner.company_id.id or self.env.company.id),
                ("service_type", "=", bundle.isp_service_type),
                ("state", "in", ("active", "suspended", "expired")),
            ],
            order="date_expiry desc, id desc",
            limit=1,
        )
        if subscription.state == "active" and subscription.date_expiry > start_at:
            start = subscription.date_expiry
            end = bundle._isp_add_duration(start)
            cap = (
                0
                if not (subscription.data_cap_mb and bundle.isp_data_cap_mb)
                else subscription.data_cap_mb + bundle.isp_data_cap_mb
            )
            vals = {"date_expiry": end, "data_cap_mb": cap}
            if not subscription._keeps_bundle(bundle):
                vals["bundle_id"] = bundle.id
            subscription.write(vals)
            return subscription, start, end
        start, end = start_at, bundle._isp_add_duration(start_at)
        vals = {
            "bundle_id": bundle.id,
            "date_start": start,
            "date_expiry": end,
            "data_cap_mb": bundle.isp_data_cap_mb,
            "data_used_mb": 0.0,
        }
        if subscription:
            subscription.write(dict(vals, state="active"))
        else:
            subscription = quiet.create(
                dict(
                    vals,
                    partner_id=partner.id,
                    company_id=partner.company_id.id or self.env.company.id,
                )
            )
            subscription.write({"state": "active"})
        return subscription, start, end

    def _keeps_bundle(self, bundle):
        """Whether this active subscription keeps its bundle when ``bundle``'s period is
        added to it.

        "Bigger" is the longer period (``isp_duration_hours``, a month counting 30 days):
        the current bundle stays when its period is longer than ``bundle``'s, so a shorter
        purchase (anyone may redeem a voucher or pay for a phone number) never turns a
        customer's Weekly plan into a Daily one, with the Daily plan's speed, device limit
        and router profile; it only adds its time. A bundle of the same or a longer period
        replaces the current one (a change of plan, an upgrade)."""
        self.ensure_one()
        current = self.bundle_id
        return bool(current) and current.isp_duration_hours > bundle.isp_duration_hours

    # ------------------------------------------------------------------ crons

    @api.model
    def _cron_expire_subscriptions(self, batch_size=1000):
        """Active subscriptions past expiry → expired, set-based and in committed batches."""
        now = fields.Datetime.now()
        domain = [("state", "=", "active"), ("date_expiry", "<=", now)]
        # monthly-billed subscriptions run while they are billed (unpaid: suspended)
        domain.append(("recurring_next_date", "=", False))
        remaining = self.search_count(domain)
        cron = self.env["ir.cron"]
        while remaining:
            batch = self.search(domain, order="date_expiry, id", limit=batch_size)
            if not batch:
                break
            # One batched chatter note per subscription instead of per-record field tracking
            # (one INSERT per row): the sweep's cost stays in what it does, not in its log.
            batch.with_context(mail_notrack=True).write({"state": "expired"})
            body = self.env._("Access expired.")
            batch._message_log_batch(bodies=dict.fromkeys(batch.ids, body))
            remaining = max(remaining - len(batch), 0)
            if not cron._commit_progress(len(batch), remaining=remaining):
                break
        return True

    # ------------------------------------------------------------------ UI

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", self.invoice_ids.ids)]
        action["context"] = {"create": False}
        return action

    def action_view_purchases(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("isp_billing.isp_purchase_action")
        action["domain"] = [("subscription_id", "=", self.id)]
        return action
