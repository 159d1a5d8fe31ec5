"""How long the logs keep their rows: beat prunes older ones (authorizers/services/retention.py)."""

from .env import env

CALL_LOG_RETENTION_DAYS = env.int("CALL_LOG_RETENTION_DAYS", default=30)
COMPONENT_EVENT_RETENTION_DAYS = env.int("COMPONENT_EVENT_RETENTION_DAYS", default=30)
AUTHORIZATION_ATTEMPT_RETENTION_DAYS = env.int("AUTHORIZATION_ATTEMPT_RETENTION_DAYS", default=30)
# Rows deleted per statement (each its own short transaction), and how long one run may go
# on: a backlog is worked off over several runs instead of one long lock or a killed task.
RETENTION_BATCH_SIZE = env.int("RETENTION_BATCH_SIZE", default=5000)
RETENTION_RUN_SECONDS = env.float("RETENTION_RUN_SECONDS", default=40)
