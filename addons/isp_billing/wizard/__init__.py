from . import isp_payment_refund
from . import isp_revenue_export
