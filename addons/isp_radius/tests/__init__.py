from . import test_radius_accounting, test_radius_postauth
from . import test_radius_coa
from . import test_radius_accounting_portal
from . import test_radius_coa_sender
from . import test_radius_auth
from . import test_radius_accounting_freeradius
from . import test_radius_auth_billing
from . import test_radius_config_role
from . import test_radius_config
