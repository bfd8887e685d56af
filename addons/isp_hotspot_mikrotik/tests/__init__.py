from . import test_router_login
