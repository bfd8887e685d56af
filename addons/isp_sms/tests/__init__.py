from . import test_gateway
from . import test_notifications
from . import test_reminders
from . import test_delivery
from . import test_campaign
from . import test_campaign_reseller
from . import test_dashboard
from . import test_gateway_destination
