from . import controllers
from . import models
from . import report
from . import wizard

from .rpc_log import install as _install_rpc_log_filter

# secrets typed in the web client stay out of Odoo's debug RPC log
_install_rpc_log_filter()
