from . import test_clickpesa
from . import test_concurrency
from . import test_daraja
from . import test_public_routes
from . import test_journals
from . import test_provider_destination
from . import test_public_exposure
from . import test_provider_branding
