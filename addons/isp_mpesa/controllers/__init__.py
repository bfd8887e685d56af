from . import main
from . import pesapal
