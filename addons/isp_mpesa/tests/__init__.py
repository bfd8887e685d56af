from . import test_clickpesa
from . import test_concurrency
from . import test_daraja
from . import test_public_routes
