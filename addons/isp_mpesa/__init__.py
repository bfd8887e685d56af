from . import controllers
from . import models

from odoo.addons.payment import reset_payment_provider, setup_provider


def post_init_hook(env):
    setup_provider(env, "daraja")
    setup_provider(env, "clickpesa")


def uninstall_hook(env):
    reset_payment_provider(env, "daraja")
    reset_payment_provider(env, "clickpesa")
