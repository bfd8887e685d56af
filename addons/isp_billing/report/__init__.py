from . import isp_revenue_report
from . import isp_voucher_report
