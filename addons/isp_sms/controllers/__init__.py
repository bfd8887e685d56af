from . import main
from . import portal_login
