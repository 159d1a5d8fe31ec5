"""The embedded default as separate processes: a SQLite file database and its file cache.

pytest-django's SQLite test database is in memory and private to the test process, so the
tests that need several processes on one SQLite file build their own: `SqliteStack` migrates
a file under the test's tmp_path and seeds it in subprocesses (`manage.py`), and starts web
processes (gunicorn, as tests/resilience/web_process.py does) with DATABASE_URL pointing at
it and REDIS_URL unset, exactly what `make run` and the product's defaults use.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.plugins.celery_worker import ROOT

from .web_process import WebProcess

# Everything the test run's own environment says about its services: the subprocesses must
# see only the embedded defaults (SQLite file, file cache), never PostgreSQL/Redis.
_SERVICE_PREFIXES = ("DATABASE_URL", "REDIS_URL", "CELERY_", "TEST_DATABASE", "CACHE_")

_SEED = """
import json, os
from datetime import timedelta
from django.utils import timezone
from authorizers.models import Authorizer, Merchant
from authorizers.services.api_keys import api_key_create
from authorizers.services.onboarding.authorization import authorization_complete
from component.services.token import component_ticket_store

component_ticket_store(ticket=os.environ["SEED_TICKET"], received_at=timezone.now())
merchant = Merchant.objects.create(name="SQLite single flight")
authorizer = authorization_complete(
    merchant=merchant, authorization_code=os.environ["SEED_AUTH_CODE"]
)
# The token the account was onboarded with has expired: the next lookup must refresh it.
Authorizer.objects.filter(pk=authorizer.pk).update(
    access_token_expires_at=timezone.now() - timedelta(minutes=5)
)
_, key = api_key_create(merchant=merchant, name="sqlite")
print(json.dumps({"api_key": key, "authorizer_id": authorizer.pk}))
"""


class SqliteStack:
    def __init__(self, sandbox, directory: Path) -> None:
        self.sandbox = sandbox
        self.directory = directory
        self.database = directory / "db.sqlite3"

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(_SERVICE_PREFIXES)}
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        env.update(
            DJANGO_SETTINGS_MODULE="platform_app.settings",
            DATABASE_URL=f"sqlite:///{self.database}",
            # The stack's own cache files, as its own database: the repo's var/cache holds
            # entries of other databases (an earlier stack's rows under the same appid).
            CACHE_DIR=str(self.directory / "cache"),
            # The embedded default on purpose: the production guard must let it through.
            ALLOW_SQLITE_IN_PRODUCTION="1",
            # Nothing here runs a worker: a broker in memory keeps var/ of the repo untouched.
            CELERY_BROKER_URL="memory://",
            WECHAT_API_BASE=self.sandbox.base_url,
            WECHAT_MP_BASE=self.sandbox.base_url,
            WECHAT_BACKOFF_BASE="0.01",
            WECHAT_BACKOFF_MAX="0.05",
            DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
            PYTHONUNBUFFERED="1",
        )
        return env

    def manage(self, *args: str, **extra_env: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.environment(), **extra_env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def migrate(self) -> None:
        self.manage("migrate", "--noinput", "-v", "0")

    def seed_expired_authorizer(self, appid: str, **extra_env: str) -> dict[str, object]:
        """Onboard `appid` through the product's own callback service (api_query_auth and
        the info sync, inline), then let its access token expire. Returns the API key."""
        ticket = self.sandbox.state.ticket or self.sandbox.state.issue_ticket()
        consent = self.sandbox.state.consent(appid)
        out = self.manage(
            "shell",
            "-v",
            "0",
            "-c",
            _SEED,
            SEED_TICKET=ticket,
            SEED_AUTH_CODE=consent.auth_code,
            CELERY_TASK_ALWAYS_EAGER="1",
            **extra_env,
        )
        return json.loads(out.strip().splitlines()[-1])

    def web_process(self, name: str, **extra_env: str) -> SqliteWebProcess:
        log_dir = self.directory / name
        log_dir.mkdir()
        return SqliteWebProcess(self.sandbox, log_dir, env={**self.environment(), **extra_env})


class SqliteWebProcess(WebProcess):
    def __init__(self, sandbox, log_dir: Path, *, env: dict[str, str]) -> None:
        super().__init__(sandbox, log_dir)
        self.env = env

    def environment(self) -> dict[str, str]:
        return dict(self.env)
