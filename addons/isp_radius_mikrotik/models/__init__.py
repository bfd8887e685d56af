from . import isp_router, isp_router_job, isp_router_session
