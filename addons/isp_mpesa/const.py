"""Wire-level facts of M-Pesa Daraja and ClickPesa (see docs/architecture.md, isp_mpesa)."""

from datetime import timedelta, timezone

from odoo.addons.payment.const import SENSITIVE_KEYS as PAYMENT_SENSITIVE_KEYS

# Daraja timestamps are in Kenya time (EAT, UTC+3, no daylight saving).
KENYA_TZ = timezone(timedelta(hours=3), "EAT")

DARAJA_HOSTS = {
    "test": "https://sandbox.safaricom.co.ke",
    "enabled": "https://api.safaricom.co.ke",
}
CLICKPESA_URL = "https://api.clickpesa.com/third-parties"  # one for test and production

DARAJA_TOKEN_PATH = "oauth/v1/generate"
DARAJA_STK_PATH = "mpesa/stkpush/v1/processrequest"
DARAJA_QUERY_PATH = "mpesa/stkpushquery/v1/query"
DARAJA_C2B_REGISTER_PATH = "mpesa/c2b/v2/registerurl"
CLICKPESA_TOKEN_PATH = "generate-token"
CLICKPESA_PREVIEW_PATH = "payments/preview-ussd-push-request"
CLICKPESA_INITIATE_PATH = "payments/initiate-ussd-push-request"
CLICKPESA_STATUS_PATH = "payments/%s"

DARAJA_ACCOUNT_REFERENCE_MAX = 12
DARAJA_DESCRIPTION_MAX = 13
DARAJA_AMOUNT_MIN = 1
DARAJA_AMOUNT_MAX = 250000

# A cached token is renewed this long before it expires.
TOKEN_MARGIN_SECONDS = 120

# C2B (Paybill / Till): words Safaricom refuses in registered URLs, validation answers.
DARAJA_C2B_FORBIDDEN_WORDS = ("mpesa", "m-pesa", "safaricom", "sql", "exec", "cmd")
C2B_ACCEPTED = ("0", "Accepted")
C2B_INVALID_ACCOUNT = ("C2B00012", "Rejected")
C2B_INVALID_AMOUNT = ("C2B00013", "Rejected")
C2B_INVALID_SHORTCODE = ("C2B00015", "Rejected")
C2B_OTHER_ERROR = ("C2B00016", "Rejected")

DARAJA_INVALID_TOKEN = "404.001.03"
DARAJA_PROCESSING = "500.001.1001"

# Keys whose values never reach the logs (masked by the payment loggers' filter; added to the
# payment module's, which its request log uses, as payment_stripe does).
SENSITIVE_KEYS = {
    "Password",
    "access_token",
    "token",
    "Authorization",
    "api-key",
    "client-id",
    "clientId",  # in ClickPesa's answers (initiate, status)
    "checksum",
    "CallBackURL",
    "consumer_key",
    "consumer_secret",
    "passkey",
}
PAYMENT_SENSITIVE_KEYS.update(SENSITIVE_KEYS)

# Keys masked in the callback payloads kept on transactions (personal data).
PERSONAL_KEYS = {
    "PhoneNumber",
    "phoneNumber",
    "paymentPhoneNumber",
    "customerPhoneNumber",
    "customerName",
    "customerEmail",
    "accountName",
    "accountNumber",
    "checksum",
    "clientId",
}

# Daraja ResultCode -> transaction state: any other code is an error (messages:
# payment.transaction._daraja_messages).
DARAJA_RESULT_STATES = {"0": "done", "1019": "cancel", "1032": "cancel"}

# Daraja errorCode -> message (the provider's own errorMessage is added for staff).
DARAJA_ERROR_CODES = {
    "400.002.02": "M-Pesa refused a field of the request",
    "404.001.03": "M-Pesa refused the access token",
    "404.001.01": "M-Pesa does not know this resource",
    "405.001": "M-Pesa does not allow this method",
    "500.001.1001": "M-Pesa refused the request",
    "500.003.02": "M-Pesa is busy right now",
    "500.003.03": "The M-Pesa API quota is used up",
    "500.003.1001": "M-Pesa had an internal error",
}

# ClickPesa payment status -> transaction state.
CLICKPESA_STATUS_MAPPING = {
    "pending": ("PROCESSING", "PENDING", "ON-HOLD"),
    "done": ("SUCCESS", "SETTLED"),
    "error": ("FAILED", "REVERSED", "REFUNDED"),
}

PROVIDER_CODES = ("daraja", "clickpesa")

# The one currency each provider takes payments in.
SUPPORTED_CURRENCIES = {"daraja": "KES", "clickpesa": "TZS"}

# The codes of the payment methods to activate with each provider.
DEFAULT_PAYMENT_METHOD_CODES = {"daraja": {"mpesa"}, "clickpesa": {"mobile_money"}}
