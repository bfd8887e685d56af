"""A RADIUS accounting session (one row of FreeRADIUS's radacct), as last ingested."""

from odoo import api, fields, models

MIB = 1024 * 1024
SESSION_STATES = [("open", "Online"), ("closed", "Closed"), ("stale", "Stale")]


class IspRadiusSession(models.Model):
    """What Odoo knows of a radacct session: who, where, how much, and how much of it was
    already counted into the subscription's data use (``counted_octets``), so a repeated
    ingestion or a duplicate Interim-Update adds nothing. Written only by the ingestion
    (isp.radius.accounting), in SQL batches: nobody writes it from the UI."""

    _name = "isp.radius.session"
    _description = "RADIUS Session"
    _order = "last_update desc, id desc"
    _rec_name = "login"

    acctuniqueid = fields.Char(string="Unique Session ID", required=True, readonly=True)
    acctsessionid = fields.Char(string="Session ID", readonly=True)
    radacct_id = fields.Integer(string="radacct ID", readonly=True, index=True)
    nas_id = fields.Many2one("isp.radius.nas", string="NAS", readonly=True, ondelete="set null")
    nas_address = fields.Char(string="NAS Address", readonly=True)
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    service = fields.Selection(
        [("hotspot", "Hotspot"), ("pppoe", "PPPoE")], required=True, readonly=True
    )
    login = fields.Char(readonly=True, index=True)
    subscription_id = fields.Many2one(
        "isp.subscription", readonly=True, index="btree_not_null", ondelete="set null"
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
    )
    mac = fields.Char(string="MAC Address", readonly=True)
    ip = fields.Char(string="IP Address", readonly=True)
    start = fields.Datetime(readonly=True)
    last_update = fields.Datetime(readonly=True)
    stop = fields.Datetime(readonly=True)
    session_time = fields.Integer(string="Session Time (s)", readonly=True)
    input_octets = fields.Float(digits=(20, 0), readonly=True)
    output_octets = fields.Float(digits=(20, 0), readonly=True)
    counted_octets = fields.Float(
        digits=(20, 0),
        readonly=True,
        help="The session's byte counter (input + output) up to which its use was added to "
        "the subscription's data use.",
    )
    usage_octets = fields.Float(
        string="Bytes Counted",
        digits=(20, 0),
        readonly=True,
        help="Bytes of this session added to the subscription's data use.",
    )
    data_mb = fields.Float(string="Data (MB)", compute="_compute_data_mb", digits=(16, 2))
    terminate_cause = fields.Char(readonly=True)
    state = fields.Selection(SESSION_STATES, required=True, default="open", readonly=True)

    _acctuniqueid_unique = models.Constraint(
        "UNIQUE(acctuniqueid)", "A RADIUS session is recorded once."
    )
    # online figures and the postauth device-limit reason: open sessions per subscription
    _open_idx = models.Index("(subscription_id, start) WHERE state = 'open'")
    _company_update_idx = models.Index("(company_id, last_update DESC)")

    @api.depends("input_octets", "output_octets")
    def _compute_data_mb(self):
        for session in self:
            session.data_mb = (session.input_octets + session.output_octets) / MIB
