from . import isp_revenue_export
