from . import controllers
from . import models

from odoo.addons.isp_billing.url_secrets import mask_path_secret
from odoo.addons.payment import reset_payment_provider, setup_provider

# the callback URL's per-transaction token authenticates Daraja's callbacks: not in the logs
mask_path_secret(r"^/payment/daraja/callback/(?P<secret>[^/?#]+)")
mask_path_secret(r"^/payment/daraja/c2b/(?P<secret>[^/?#]+)")


def post_init_hook(env):
    setup_provider(env, "daraja")
    setup_provider(env, "clickpesa")


def uninstall_hook(env):
    reset_payment_provider(env, "daraja")
    reset_payment_provider(env, "clickpesa")
