from . import controllers
from . import models
from . import wizard

from odoo.addons.isp_billing.url_secrets import mask_query_params

# the router's set-up token (login.html fetched by the set-up script): not in the request log
mask_query_params("/isp_mikrotik/router/", ("token",))


def post_init_hook(env):
    """Bundles that existed before this module get their router profile name."""
    env["product.template"].with_context(active_test=False).search(
        [("is_isp_bundle", "=", True)]
    )._isp_mikrotik_default_profile()
