from . import controllers
from . import models
from . import tools
from . import wizard

from odoo.addons.isp_billing.url_secrets import mask_path_secret

# the Africa's Talking delivery-report path token (whoever has it can post reports): not in
# the request log
mask_path_secret(r"^/isp_sms/africastalking/\d+/(?P<secret>[^/?#]+)")
