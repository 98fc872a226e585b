"""`ziptieai.functional`: the same functions as `ziptieai.nn.functional` (torch's F)."""

from .nn.functional import *  # noqa: F401,F403
from .nn.functional import __all__  # noqa: F401
