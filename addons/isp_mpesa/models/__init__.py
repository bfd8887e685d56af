from . import account_chart_template
from . import isp_mpesa_callback
from . import payment_provider
from . import payment_transaction
