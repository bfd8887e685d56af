from . import test_api
from . import test_page
from . import test_price
from . import test_voucher
from . import test_openapi_fuzz
from . import test_security
from . import test_router_login_address
