"""Credentials kept out of Odoo's debug RPC log.

At debug level (``--log-level=debug`` / ``debug_rpc``) Odoo's ``odoo.service.model`` logger
writes every model call with its arguments ("call isp.router(7,).web_save({'password': ...})"),
so a router password, a gateway's API key or a provider's secret typed in the web client
would land in the log in clear. The filter installed here masks, in those records, the
values of the fields that hold secrets: the clear fields of ``isp.secret.mixin`` models
(``_isp_secret_fields``, both names) and any field whose name says it is one (password,
secret, api key, passkey, token). Only the log line changes: the call is made as it came.
"""

import logging
import re

from odoo.service.model import Params

SECRET_NAME = re.compile(
    r"password|passwd|secret|api_?key|passkey|token|checksum_key|client_id", re.IGNORECASE
)
MASK = "***"


def _secret_names(records):
    fields = getattr(records, "_isp_secret_fields", None) or {}
    return set(fields) | set(fields.values())


def _mask(value, names):
    if isinstance(value, dict):
        return {
            key: MASK
            if isinstance(key, str)
            and (key in names or SECRET_NAME.search(key))
            and value[key] not in (None, False, "")
            else _mask(value[key], names)
            for key in value
        }
    if isinstance(value, list | tuple):
        return type(value)(_mask(item, names) for item in value)
    return value


class RpcParamsFilter(logging.Filter):
    """Masks secret field values in ``odoo.service.model``'s "call ..." records."""

    def filter(self, record):
        args = record.args
        if isinstance(args, tuple) and len(args) == 3 and isinstance(args[2], Params):
            names = _secret_names(args[0])
            params = args[2]
            record.args = (
                args[0],
                args[1],
                Params(_mask(params.args, names), _mask(params.kwargs, names)),
            )
        return True


_FILTER = RpcParamsFilter()


def install():
    logger = logging.getLogger("odoo.service.model")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
