from . import controllers
from . import models

from odoo.addons.isp_billing.url_secrets import mask_query_params

# a voucher card's QR link (?voucher=CODE, also inside MikroTik's link-orig) and the waiting
# view's token (it signs the paying device in): not in the logs
mask_query_params("/hotspot", ("voucher", "token"))
# payment access tokens go in a header; one still put in a URL is refused, and masked here
mask_query_params("/api/", ("access_token",))
