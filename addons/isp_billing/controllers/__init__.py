from . import portal
from . import reseller_portal
