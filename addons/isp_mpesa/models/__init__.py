from . import account_chart_template
from . import isp_mpesa_callback
from . import payment_provider
from . import payment_provider_clickpesa
from . import payment_provider_daraja
from . import payment_transaction
from . import payment_transaction_clickpesa
from . import payment_transaction_daraja
