"""Settings, one module per topic; every value comes from the environment (SPEC section 3)."""

from .api import *  # noqa: F403
from .base import *  # noqa: F403
from .cache import *  # noqa: F403
from .celery import *  # noqa: F403
from .database import *  # noqa: F403
from .logging import *  # noqa: F403
from .refresh import *  # noqa: F403
from .retention import *  # noqa: F403
from .security import *  # noqa: F403
from .wechat import *  # noqa: F403
