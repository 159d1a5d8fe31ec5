"""`make run`: the whole product on one machine with no server installed.

Migrates a SQLite database, creates a demo operator and the broker's queues, then runs web,
worker, beat, the WeChat sandbox and the demo onboarding together under honcho (Ctrl-C stops
them all).
Anything already set in the environment (DATABASE_URL, CELERY_BROKER_URL, ...) wins.
The demo's environment is also written to var/dev.env, which settings read when DJANGO_DEBUG
is not set: `python manage.py create_merchant ...` in another shell then works on this demo.
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


# What a command run beside the demo needs to reach the same database, cache, broker, sandbox
# and public URL; the rest has the same default in both.
DEV_ENV_KEYS = (
    "DJANGO_DEBUG",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CACHE_KEY_PREFIX",
    "CACHE_DIR",
    "PUBLIC_BASE_URL",
    "WECHAT_API_BASE",
    "WECHAT_MP_BASE",
)


def write_dev_env(env: dict[str, str]) -> Path:
    values = {
        "DATABASE_URL": f"sqlite:///{VAR / 'db.sqlite3'}",
        "CACHE_DIR": str(VAR / "cache"),
        **{key: env[key] for key in DEV_ENV_KEYS if env.get(key)},
    }
    path = VAR / "dev.env"
    lines = [
        "# Written by `make run` (scripts/run_demo.py) on each start: the demo's environment for",
        "# manage.py commands run beside it. Read only while DJANGO_DEBUG is unset; the",
        "# environment wins over every line. Delete it to stop using it.",
        *(f"{key}={value}" for key, value in values.items()),
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


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
        # Threads, not prefork: honcho stops a process by SIGTERM to its whole process group,
        # and prefork's pool children dying of it first made the worker log two ERROR lines
        # and hang in its warm shutdown until honcho's SIGKILL. Two threads suit a demo.
        "worker": f"{celery} -A platform_app worker -l info -P threads -c 2 --without-gossip "
        "--without-mingle",
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
    write_dev_env(env)
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
    os.environ.clear()
    os.environ.update(env)
    return run_honcho(path)


# How long honcho waits after Ctrl-C's SIGTERM before it SIGKILLs what is left: the 10 s a
# clean stop may take, not honcho's fixed 5 (it has no option for it). The worker needs more
# than 5 on a busy machine: kombu's SQLAlchemy transport has no I/O events, so celery's loop
# polls it in 2 s windows (each overrun by up to its 1 s polling interval) and runs one more
# window after it sees the shutdown; measured on 2 shared cores: 3-4 s to leave the loop,
# then 1-5 s for the interpreter's exit.
STOP_GRACE_SECONDS = 10


def run_honcho(procfile_path: Path) -> int:
    """`honcho start` in this process with the stop grace above; exits with honcho's code."""
    import honcho.manager
    from honcho.command import main as honcho_main

    honcho.manager.KILL_WAIT = STOP_GRACE_SECONDS
    sys.argv = ["honcho", "-f", str(procfile_path), "start"]
    honcho_main()
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
