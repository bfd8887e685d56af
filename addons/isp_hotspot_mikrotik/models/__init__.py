from . import isp_router
from . import isp_hotspot_router_login
