"""Celery discovers `authorizers.tasks`; each topic lives in its own module."""

from .refresh import *  # noqa: F403
from .retention import *  # noqa: F403
from .sync import *  # noqa: F403
