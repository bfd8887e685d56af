from . import sms_api
from . import sms_api_africastalking
from . import sms_api_nextsms
