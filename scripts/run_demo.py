"""`make run`: the whole product on one machine with no server installed.

Migrates a SQLite database, creates a demo operator and the broker's queues, then runs web,
worker, beat, the WeChat sandbox and the demo onboarding together under honcho (Ctrl-C stops
them all).
Anything already set in the environment (DATABASE_URL, CELERY_BROKER_URL, ...) wins.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
BIN = Path(sys.executable).parent


def demo_environment() -> dict[str, str]:
    web_port = os.environ.get("DEMO_WEB_PORT", "8000")
    sandbox_port = os.environ.get("DEMO_SANDBOX_PORT", "8100")
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    env = dict(os.environ)
    defaults = {
        # A development setup: the dev secret and derived field key are acceptable here only.
        "DJANGO_DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "platform_app.settings",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{web_port}",
        "WECHAT_API_BASE": sandbox,
        "WECHAT_MP_BASE": sandbox,
        "DEMO_WEB_PORT": web_port,
        "DEMO_SANDBOX_PORT": sandbox_port,
        "PYTHONUNBUFFERED": "1",
        # The demo merchant's webhook endpoint is the product's own inbox page, on loopback.
        "WEBHOOK_ALLOW_PRIVATE_TARGETS": "1",
        "PYTHONWARNINGS": "ignore::RuntimeWarning",
    }
    for key, value in defaults.items():
        env.setdefault(key, value)
    return env


def operator_password() -> str:
    path = VAR / "demo-operator-password"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(12))
        path.chmod(0o600)
    return path.read_text().strip()


def procfile(env: dict[str, str]) -> Path:
    python = BIN / "python"
    celery = BIN / "celery"
    web_port, sandbox_port = env["DEMO_WEB_PORT"], env["DEMO_SANDBOX_PORT"]
    callback = f"http://127.0.0.1:{web_port}/wechat/component/events/"
    lines = {
        "sandbox": f"{python} manage.py wechat_sandbox --port {sandbox_port} --callback {callback}"
        + (f" {env['DEMO_SANDBOX_ARGS']}" if env.get("DEMO_SANDBOX_ARGS") else ""),
        "web": f"{python} manage.py runserver 127.0.0.1:{web_port} --noreload",
        "worker": f"{celery} -A platform_app worker -l info -c 2 --without-gossip --without-mingle",
        "beat": f"{celery} -A platform_app beat -l info",
        "demo": f"{python} scripts/demo_onboard.py",
    }
    path = VAR / "Procfile"
    path.write_text("".join(f"{name}: {command}\n" for name, command in lines.items()))
    return path


def main() -> int:
    VAR.mkdir(exist_ok=True)
    env = demo_environment()
    env["DEMO_OPERATOR_PASSWORD"] = operator_password()
    manage = [str(BIN / "python"), "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run(
        [*manage, "shell", "-v", "0", "-c", _CREATE_OPERATOR], cwd=ROOT, env=env, check=True
    )
    subprocess.run(
        [*manage, "shell", "-v", "0", "-c", _PREPARE_BROKER], cwd=ROOT, env=env, check=True
    )
    path = procfile(env)
    os.chdir(ROOT)
    os.execve(str(BIN / "honcho"), ["honcho", "-f", str(path), "start"], env)
    return 0


_CREATE_OPERATOR = """
import os
from django.contrib.auth import get_user_model
User = get_user_model()
user, _ = User.objects.get_or_create(username="operator", defaults={"is_staff": True})
user.is_staff = user.is_superuser = True
user.set_password(os.environ["DEMO_OPERATOR_PASSWORD"])
user.save()
"""

# kombu's SQLAlchemy transport creates its tables and queue rows on first use, guarded by a
# lock that only covers one process: on a fresh file, web (the onboarding's first task), the
# worker and beat race to insert the same queue row, and the loser dies of an IntegrityError
# (the worker: "Unrecoverable error"; web: a 500 on the authorization callback). Declaring
# the queues here, before any of them starts, leaves nothing to race for.
_PREPARE_BROKER = """
from platform_app.celery import app
if app.conf.broker_url.startswith("sqla+"):
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        for queue in app.amqp.queues.values():
            queue(channel).declare()
"""

if __name__ == "__main__":
    sys.exit(main())
