from . import test_phone
from . import test_bundle
from . import test_subscription
from . import test_fulfilment
from . import test_fulfilment_concurrency
from . import test_device
from . import test_expiry
from . import test_multicompany
