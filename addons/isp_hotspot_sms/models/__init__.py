from . import isp_hotspot_login_code
