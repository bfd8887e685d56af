from . import isp_router_import
from . import isp_router_import_preview
from . import isp_router_import_create
from . import isp_router_import_bundle
from . import isp_router_import_line
