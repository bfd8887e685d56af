from . import controllers
from . import models


def post_init_hook(env):
    """Bundles that existed before this module get their router profile name."""
    env["product.template"].with_context(active_test=False).search(
        [("is_isp_bundle", "=", True)]
    )._isp_mikrotik_default_profile()
