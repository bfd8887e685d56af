from . import signup, subscription
