from . import test_login_code_sms
