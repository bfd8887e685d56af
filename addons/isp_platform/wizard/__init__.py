from . import isp_platform_application_reject
