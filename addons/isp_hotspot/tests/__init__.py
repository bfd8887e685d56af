from . import test_api
from . import test_page
from . import test_voucher
from . import test_openapi_fuzz
