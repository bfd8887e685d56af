from . import isp_payment_refund
from . import isp_revenue_export
from . import isp_voucher_batch_sell
