from . import sms_composer
from . import portal_wizard_user
