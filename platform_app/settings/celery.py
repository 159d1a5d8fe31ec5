from kombu import Exchange, Queue

from .env import VAR_DIR, env

# The default broker needs no server and works across processes (web, worker and
# beat are separate even in the demo): kombu's SQLAlchemy transport on a file under var/.
CELERY_BROKER_URL = env.str(
    "CELERY_BROKER_URL", default=f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}"
)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
# A refresh task whose worker dies is redelivered, not lost (the row lock makes a rerun safe).
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

CELERY_BEAT_SCHEDULE = {
    "component-token-refresh": {
        "task": "platform_app.component.tasks.component_token_refresh",
        "schedule": env.float("COMPONENT_TOKEN_REFRESH_INTERVAL", default=300.0),
    },
    "authorizer-token-sweep": {
        "task": "authorizers.tasks.refresh.authorizer_tokens_sweep",
        "schedule": env.float("AUTHORIZER_SWEEP_INTERVAL", default=60.0),
    },
    # Webhook events a lost task left undelivered, and retries whose time came (SPEC 11).
    "webhook-deliveries-sweep": {
        "task": "webhooks.tasks.webhook_deliveries_sweep",
        "schedule": env.float("WEBHOOK_SWEEP_INTERVAL", default=10.0),
    },
    "dashboard-counts": {
        "task": "authorizers.tasks.retention.dashboard_counts",
        "schedule": env.float("DASHBOARD_COUNTS_INTERVAL", default=60.0),
    },
    "logs-prune": {
        "task": "authorizers.tasks.retention.logs_prune",
        "schedule": env.float("RETENTION_PRUNE_INTERVAL", default=3600.0),
    },
}

# Webhook attempts (an HTTP POST to a merchant's server, up to 10 s each) have a queue of their
# own. A worker started without -Q consumes both queues; a deployment that wants webhooks never
# to take a slot from token refreshes runs `-Q celery` workers beside a `-Q webhooks -P threads`
# one (the attempts wait on the network, not the CPU).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (
    Queue("celery", Exchange("celery"), routing_key="celery"),
    Queue("webhooks", Exchange("webhooks"), routing_key="webhooks"),
)
CELERY_TASK_ROUTES = {"webhooks.tasks.webhook_deliver": {"queue": "webhooks"}}
