"""The company's payment reminders for unpaid PPPoE invoices (isp.dunning.step)."""

from odoo import api, fields, models
from odoo.exceptions import ValidationError

# days relative to the due date a reminder may be set at: a month before to two after
DUNNING_DAY_MIN = -30
DUNNING_DAY_MAX = 60


class ResCompany(models.Model):
    _inherit = "res.company"  # pylint: disable=consider-merging-classes-inherited

    isp_dunning_enabled = fields.Boolean(
        string="Payment Reminders for PPPoE Invoices",
        help="Remind customers of their unpaid PPPoE invoices on the days set, by SMS (and an "
        "M-Pesa prompt when set), until the invoice is paid.",
    )
    isp_dunning_days = fields.Char(
        string="Reminder Days",
        default="0,3,7",
        help="Days relative to the invoice's due date, separated by commas: 0 is the due "
        "date, 3 three days after it, -2 two days before it (from -30 to 60).",
    )
    isp_dunning_push = fields.Boolean(
        string="Send an M-Pesa Prompt",
        default=True,
        help="With each reminder, send a payment prompt (STK push) for the amount due to the "
        "customer's phone, through an enabled payment provider that can send one; without "
        "such a provider, the reminder is an SMS only.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._isp_normalize_dunning_days(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._isp_normalize_dunning_days(vals)
        return super().write(vals)

    def _isp_normalize_dunning_days(self, vals):
        """Write the reminder days sorted and once each ("7, 0,3" is "0,3,7"); a wrong list
        raises a ValidationError before anything is written."""
        if vals.get("isp_dunning_days"):
            vals["isp_dunning_days"] = ",".join(
                str(day) for day in self._isp_parse_dunning_days(vals["isp_dunning_days"])
            )

    @api.constrains("isp_dunning_days", "isp_dunning_enabled")
    def _check_isp_dunning_days(self):
        for company in self:
            days = company._isp_parse_dunning_days(company.isp_dunning_days)
            if company.isp_dunning_enabled and not days:
                raise ValidationError(
                    self.env._(
                        "Payment reminders need at least one day, e.g. 0,3,7 (the due date, "
                        "then 3 and 7 days after it)."
                    )
                )

    def _isp_parse_dunning_days(self, text):
        """ "0, 3,7" → [0, 3, 7]: whole numbers of days from -30 to 60 relative to the due
        date, sorted, each once; a ValidationError saying what is wrong otherwise."""
        days = set()
        for part in (text or "").split(","):
            part = part.strip()
            if not part:
                continue
            try:
                day = int(part)
            except ValueError:
                day = None
            if day is None or not DUNNING_DAY_MIN <= day <= DUNNING_DAY_MAX:
                raise ValidationError(
                    self.env._(
                        "Reminder days are whole numbers of days from %(min)s to %(max)s "
                        "relative to the due date, separated by commas (e.g. 0,3,7; -2 is two "
                        "days before it): %(value)r is not.",
                        min=DUNNING_DAY_MIN,
                        max=DUNNING_DAY_MAX,
                        value=part,
                    )
                )
            days.add(day)
        return sorted(days)

    def _isp_dunning_day_list(self):
        """The company's reminder days, sorted ([] when its reminders are off)."""
        self.ensure_one()
        if not self.isp_dunning_enabled:
            return []
        return self._isp_parse_dunning_days(self.isp_dunning_days)
