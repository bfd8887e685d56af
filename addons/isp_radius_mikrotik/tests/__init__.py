from . import test_radius_router
