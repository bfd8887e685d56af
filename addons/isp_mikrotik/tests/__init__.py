from . import test_simulator
from . import test_sync
from . import test_faults
from . import test_sessions
from . import test_router
from . import test_portal_sessions
from . import test_dashboard
from . import test_access
