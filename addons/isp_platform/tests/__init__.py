from . import test_platform_isolation_http, test_platform_isolation_orm
from . import test_platform_subscription
from . import test_platform_subscription_http
from . import test_platform_signup, test_platform_approval, test_platform_approval_hotspot
from . import test_platform_subscription_screen
from . import test_platform_dashboard
from . import test_platform_approval_concurrency
from . import test_platform_isolation_routes
from . import test_platform_company_settings
from . import test_platform_isolation_http_more
from . import test_platform_isolation_http_callbacks
