from . import api
from . import main
