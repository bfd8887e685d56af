"""Resellers: prepaid balance on the receivable account, commission, their customers."""

from odoo import api, fields, models
from odoo.fields import Domain


class ResPartner(models.Model):
    _inherit = "res.partner"  # pylint: disable=consider-merging-classes-inherited

    isp_is_reseller = fields.Boolean(
        string="Reseller", index=True, help="Sells the operator's vouchers (shop, agent)."
    )
    isp_reseller_commission_percent = fields.Float(
        string="Reseller Commission (%)",
        digits=(5, 2),
        default=lambda self: self.env.company.isp_reseller_commission_percent,
        help="Discount this reseller gets on the face value of the vouchers it buys.",
    )
    isp_reseller_balance = fields.Monetary(
        string="Reseller Balance",
        compute="_compute_isp_reseller_balance",
        currency_field="isp_reseller_currency_id",
        help="Prepaid balance: the reseller's unspent credit on its receivable account "
        "(top-ups paid in, less the voucher batches bought).",
    )
    isp_reseller_currency_id = fields.Many2one(
        "res.currency", compute="_compute_isp_reseller_balance"
    )
    isp_reseller_purchase_ids = fields.One2many(
        "isp.reseller.purchase", "reseller_id", string="Voucher Purchases"
    )
    isp_reseller_commission_total = fields.Monetary(
        string="Commission Earned",
        compute="_compute_isp_reseller_balance",
        currency_field="isp_reseller_currency_id",
    )
    isp_voucher_reseller_ids = fields.Many2many(
        "res.partner",
        string="Voucher Resellers",
        compute="_compute_isp_voucher_reseller_ids",
        search="_search_isp_voucher_reseller_ids",
        help="The resellers whose voucher codes this customer redeemed.",
    )

    _isp_reseller_commission_range = models.Constraint(
        "CHECK(isp_reseller_commission_percent >= 0 AND isp_reseller_commission_percent < 100)",
        "A reseller commission is a percentage from 0 to below 100.",
    )

    def _isp_reseller_ledger_domain(self, company):
        """The reseller's posted receivable lines in ``company`` (its account statement)."""
        self.ensure_one()
        return (
            Domain("partner_id", "child_of", self.commercial_partner_id.ids)
            & Domain("company_id", "=", company.id)
            & Domain("account_id.account_type", "=", "asset_receivable")
            & Domain("parent_state", "=", "posted")
        )

    def _isp_reseller_balance_amount(self, company=None):
        """What the reseller may spend: the credit balance of its receivable account."""
        self.ensure_one()
        company = company or self.company_id or self.env.company
        self.env["account.move.line"].flush_model()
        [(balance,)] = (
            self.env["account.move.line"]
            .sudo()
            ._read_group(self._isp_reseller_ledger_domain(company), [], ["balance:sum"])
        )
        return company.currency_id.round(-(balance or 0.0))

    @api.depends_context("company")
    def _compute_isp_reseller_balance(self):
        commissions = dict(
            self.env["isp.reseller.purchase"]
            .sudo()
            ._read_group(
                [("reseller_id", "in", self.ids)], ["reseller_id"], ["amount_commission:sum"]
            )
        )
        for partner in self:
            company = partner.company_id or self.env.company
            partner.isp_reseller_currency_id = company.currency_id
            partner.isp_reseller_balance = (
                partner._isp_reseller_balance_amount(company)
                if partner.isp_is_reseller and partner.id
                else 0.0
            )
            partner.isp_reseller_commission_total = commissions.get(partner._origin, 0.0)

    def _compute_isp_voucher_reseller_ids(self):
        rows = (
            self.env["isp.voucher"]
            .sudo()
            ._read_group(
                [("partner_id", "in", self.ids), ("reseller_id", "!=", False)],
                ["partner_id", "reseller_id"],
            )
        )
        resellers = {}
        for partner, reseller in rows:
            resellers.setdefault(partner.id, []).append(reseller.id)
        for partner in self:
            partner.isp_voucher_reseller_ids = [
                fields.Command.set(resellers.get(partner._origin.id, []))
            ]

    def _search_isp_voucher_reseller_ids(self, operator, value):
        """Customers of resellers: ``[('isp_voucher_reseller_ids', 'in', reseller_ids)]``."""
        if operator not in ("in", "="):
            return NotImplemented
        ids = [value] if isinstance(value, int) else list(value)
        rows = (
            self.env["isp.voucher"]
            .sudo()
            ._read_group(
                [
                    ("reseller_id", "in", ids),
                    ("state", "=", "redeemed"),
                    ("partner_id", "!=", False),
                ],
                ["partner_id"],
            )
        )
        return Domain("id", "in", [partner.id for (partner,) in rows])

    def _isp_reseller_bundles(self):
        """Bundles this reseller may buy vouchers of: its company's hotspot bundles on sale."""
        self.ensure_one()
        company = self.company_id or self.env.company
        return (
            self.env["product.product"]
            .sudo()
            .search(
                [
                    ("is_isp_bundle", "=", True),
                    ("sale_ok", "=", True),
                    ("isp_service_type", "=", "hotspot"),
                    ("company_id", "in", (company.id, False)),
                ],
                order="list_price, id",
            )
        )

    def action_isp_reseller_top_up(self):
        """Staff: record a payment the reseller made (cash, bank, mobile money) as a
        customer payment; its credit is the reseller's balance."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Top up %(name)s", name=self.display_name),
            "res_model": "account.payment",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_payment_type": "inbound",
                "default_partner_type": "customer",
                "default_partner_id": self.commercial_partner_id.id,
                "default_memo": self.env._("Reseller top-up"),
                # a journal entry even where bank reconciliation is in use: the balance is
                # the receivable credit
                "force_payment_move": True,
            },
        }

    def action_isp_view_reseller_purchases(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "isp_billing.isp_reseller_purchase_action"
        )
        action["domain"] = [("reseller_id", "=", self.commercial_partner_id.id)]
        return action
