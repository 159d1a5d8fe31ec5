"""Authorizer token refresh: how early, how wide, how hard to retry (issue 5, SPEC section 5)."""

from .env import env

# The sweep refreshes every active token expiring within this many seconds. Tokens live 7200 s
# and beat sweeps every 60 s, so a 15-minute margin leaves ~14 sweeps to get through an outage.
AUTHORIZER_REFRESH_MARGIN_SECONDS = env.int("AUTHORIZER_REFRESH_MARGIN_SECONDS", default=15 * 60)
# The request path treats a token with less than this left as expired: a caller must never
# be handed a token that dies during its own WeChat call.
AUTHORIZER_TOKEN_SAFETY_MARGIN_SECONDS = env.int(
    "AUTHORIZER_TOKEN_SAFETY_MARGIN_SECONDS", default=60
)
# The request path waits at most this long for another process's refresh (PostgreSQL
# lock_timeout); past it the caller gets a retryable error instead of hanging.
AUTHORIZER_TOKEN_LOCK_TIMEOUT_SECONDS = env.float(
    "AUTHORIZER_TOKEN_LOCK_TIMEOUT_SECONDS", default=20
)
# Sweep batches: ids per Celery message and concurrent refreshes inside one worker process.
AUTHORIZER_REFRESH_BATCH_SIZE = env.int("AUTHORIZER_REFRESH_BATCH_SIZE", default=250)
AUTHORIZER_REFRESH_CONCURRENCY = env.int("AUTHORIZER_REFRESH_CONCURRENCY", default=16)
# A batch starts no new refresh after this long; the rest stay expiring and the next sweep
# takes them, so a batch never runs into the task time limit during a WeChat slowdown.
AUTHORIZER_REFRESH_BATCH_DEADLINE_SECONDS = env.float(
    "AUTHORIZER_REFRESH_BATCH_DEADLINE_SECONDS", default=45
)
# Per-authorizer retries of -1 / timeouts / 45009: exponential backoff with full jitter.
AUTHORIZER_REFRESH_RETRY_BACKOFF_SECONDS = env.float(
    "AUTHORIZER_REFRESH_RETRY_BACKOFF_SECONDS", default=10
)
AUTHORIZER_REFRESH_RETRY_BACKOFF_MAX_SECONDS = env.float(
    "AUTHORIZER_REFRESH_RETRY_BACKOFF_MAX_SECONDS", default=300
)
AUTHORIZER_REFRESH_MAX_RETRIES = env.int("AUTHORIZER_REFRESH_MAX_RETRIES", default=5)
# A refresh task redelivered after its worker died waits this long, then forces a refresh:
# longer than a call WeChat may still be acting on, well inside its 5-minute grace for a
# rotated-out refresh token (see authorizers/tasks/refresh.py).
AUTHORIZER_REFRESH_REDELIVERY_DELAY_SECONDS = env.float(
    "AUTHORIZER_REFRESH_REDELIVERY_DELAY_SECONDS", default=30
)
# A refresh whose answer never reached the database (its process died, or its commit failed)
# is forced again by the sweep once its intent is this old: well inside WeChat's 5-minute grace
# for a rotated-out refresh token, longer than any call in flight (transport timeouts).
AUTHORIZER_REFRESH_INTENT_STALE_SECONDS = env.float(
    "AUTHORIZER_REFRESH_INTENT_STALE_SECONDS", default=60
)
