from . import isp_revenue_report
