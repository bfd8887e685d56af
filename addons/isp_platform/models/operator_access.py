"""The operator administrator's access to its own company's credentials.

isp_mpesa, isp_sms and isp_mikrotik keep their credential fields (and the fields that decide
where a credential is sent) for base.group_system: staff who may use a provider, gateway or
router must not read its secret nor send it elsewhere. An operator administrator owns its
company's accounts, so it enters them, through *operator fields*: non-stored fields of its own
group (``groups=OPERATOR_GROUP``) that show and write the system field of the same record as
superuser, after the ORM checked that the user may write that record (ACL and the models'
company rules: the operator's own company only). The fields that decide where a secret goes
(API / base / callback URLs) get no operator field: an operator pointing them at an internal
address would make this server call it. Routers must be reachable wherever the operator has
them, so their address is an operator field, refused on this machine and link-local
addresses (``isp_router.py``).
"""

from odoo.exceptions import AccessError

OPERATOR_GROUP = "isp_platform.group_isp_operator_admin"


def operator_field(field_type, string, **kwargs):
    """A field of the operator administrator showing and writing another (system) field.
    Its label says so: two fields of one model may not share a label (Odoo warns), and the
    operator's form names it as the system field (``string`` in the view)."""
    return field_type(
        string=f"{string} (Operator)",
        compute="_compute_isp_operator_fields",
        readonly=False,
        store=False,
        copy=False,
        groups=OPERATOR_GROUP,
        **kwargs,
    )


def compute_operator_fields(records, mapping):
    for record in records:
        source = record.sudo()
        for operator_name, system_name in mapping.items():
            record[operator_name] = source[system_name]


def split_operator_values(records, mapping, vals):
    """(values without the operator fields, {system field: value} of the operator fields).
    Only operator administrators (and the superuser) may write operator fields: the ORM
    never sees them, so their group is checked here."""
    vals = dict(vals)
    targets = {mapping[name]: vals.pop(name) for name in list(vals) if name in mapping}
    env = records.env
    if targets and not (env.su or env.user.has_group(OPERATOR_GROUP)):
        raise AccessError(env._("Only the operator's administrator sets these credentials."))
    return vals, targets


def check_company_move(records, vals):
    """A user who is not a system administrator cannot move these records to a company
    that is not one of their own (an operator into another operator's company)."""
    env = records.env
    if env.su or "company_id" not in vals or env.user._is_system():
        return
    if vals["company_id"] and vals["company_id"] not in env.user.company_ids.ids:
        raise AccessError(env._("You cannot move this record to another company."))


def write_operator_fields(records, super_write, targets):
    """Write the operator fields' targets as superuser once the user may write ``records``
    (ACL and record rules: its own company). ``super_write``: the next ``write`` in the MRO,
    bound to the records as superuser."""
    if not targets:
        return True
    records.check_access("write")
    result = super_write(targets)
    records.invalidate_recordset()
    return result


def create_with_operator_fields(model, super_create, vals_list, mapping, check_targets=None):
    """Create records whose values hold operator fields: as superuser after the ACL check,
    in one of the user's companies, then checked against the record rules."""
    env = model.env
    model.check_access("create")
    prepared = []
    for vals in vals_list:
        vals, targets = split_operator_values(model, mapping, vals)
        company_id = vals.get("company_id") or env.company.id
        if company_id not in env.user.company_ids.ids:
            raise AccessError(env._("You cannot create records of another company."))
        vals["company_id"] = company_id
        if check_targets:
            check_targets(targets)
        prepared.append({**vals, **targets})
    records = super_create(prepared).with_env(env)
    records.check_access("write")
    return records
