"""A production process (DJANGO_DEBUG off) refuses development secrets, the sandbox's demo
WeChat credentials and SQLite, in every process kind: web, Celery worker and beat, commands."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from platform_app.production import production_problems, refuse_insecure_defaults

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEMO = {
    "WECHAT_COMPONENT_APPID": "wx0demo0component01",
    "WECHAT_COMPONENT_APPSECRET": "demo-component-secret-0123456789ab",
    "WECHAT_COMPONENT_TOKEN": "demotoken",
    "WECHAT_COMPONENT_ENCODING_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
}


def _real_wechat_settings(settings):
    settings.WECHAT_COMPONENT_APPID = "wx" + secrets.token_hex(8)
    settings.WECHAT_COMPONENT_APPSECRET = secrets.token_hex(16)
    settings.WECHAT_COMPONENT_TOKEN = secrets.token_hex(8)
    settings.WECHAT_COMPONENT_ENCODING_AES_KEY = secrets.token_urlsafe(32)[:43]
    settings.ALLOW_DEMO_WECHAT_CREDENTIALS = False
    settings.ALLOW_SQLITE_IN_PRODUCTION = False
    settings.INSECURE_DEFAULTS_IN_PRODUCTION = False
    settings.DEBUG = False


@pytest.fixture
def production(settings, monkeypatch):
    _real_wechat_settings(settings)
    # the engine alone (restored after), not the DATABASES setting and its connections
    monkeypatch.setitem(settings.DATABASES["default"], "ENGINE", "django.db.backends.postgresql")
    return settings


def test_real_settings_pass(production):
    assert production_problems() == []
    refuse_insecure_defaults()


@pytest.mark.parametrize("name", sorted(DEMO))
def test_each_demo_wechat_credential_is_refused(production, name):
    setattr(production, name, DEMO[name])
    with pytest.raises(ImproperlyConfigured) as info:
        refuse_insecure_defaults()
    message = str(info.value)
    assert name in message and "ALLOW_DEMO_WECHAT_CREDENTIALS" in message
    assert DEMO[name] not in message  # a secret never goes into an error text


def test_demo_credentials_pass_when_explicitly_allowed(production):
    for name, value in DEMO.items():
        setattr(production, name, value)
    production.ALLOW_DEMO_WECHAT_CREDENTIALS = True
    assert production_problems() == []


def test_sqlite_is_refused_unless_allowed(production, monkeypatch):
    monkeypatch.setitem(production.DATABASES["default"], "ENGINE", "django.db.backends.sqlite3")
    with pytest.raises(ImproperlyConfigured) as info:
        refuse_insecure_defaults()
    assert "DATABASE_URL" in str(info.value) and "ALLOW_SQLITE_IN_PRODUCTION" in str(info.value)
    production.ALLOW_SQLITE_IN_PRODUCTION = True
    assert production_problems() == []


def test_a_proxy_in_front_needs_the_trusted_proxy_count(production):
    """Behind a proxy with API_TRUSTED_PROXY_COUNT=0 one attacker's unknown keys would spend
    the failed-authentication budget of every client (they all have the proxy's address)."""
    production.TRUST_X_FORWARDED_PROTO = True
    production.API_TRUSTED_PROXY_COUNT = 0
    with pytest.raises(ImproperlyConfigured) as info:
        refuse_insecure_defaults()
    message = str(info.value)
    assert "API_TRUSTED_PROXY_COUNT" in message and "DJANGO_TRUST_X_FORWARDED_PROTO" in message
    production.API_TRUSTED_PROXY_COUNT = 1
    assert production_problems() == []
    production.TRUST_X_FORWARDED_PROTO = False  # no proxy said: REMOTE_ADDR is the client
    production.API_TRUSTED_PROXY_COUNT = 0
    assert production_problems() == []


def test_development_secrets_are_still_refused(production):
    production.INSECURE_DEFAULTS_IN_PRODUCTION = True
    with pytest.raises(ImproperlyConfigured) as info:
        refuse_insecure_defaults()
    assert "DJANGO_SECRET_KEY" in str(info.value) and "FIELD_ENCRYPTION_KEYS" in str(info.value)


def test_debug_mode_is_not_production(settings):
    settings.DEBUG = True
    for name, value in DEMO.items():
        setattr(settings, name, value)
    settings.ALLOW_DEMO_WECHAT_CREDENTIALS = False
    assert production_problems() == []


# ---- every process kind runs the guard ---------------------------------------------------

_STRIPPED = {
    "DJANGO_DEBUG",
    "ALLOW_DEMO_WECHAT_CREDENTIALS",
    "ALLOW_SQLITE_IN_PRODUCTION",
    "PROMETHEUS_MULTIPROC_DIR",
    "CELERY_METRICS_PORT",
    *DEMO,
}


def _production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _STRIPPED}
    env.update(
        DJANGO_SETTINGS_MODULE="platform_app.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        DATABASE_URL="postgres://nobody@127.0.0.1:1/none",  # never connected to
        PYTHONWARNINGS="ignore::RuntimeWarning",
    )
    env.update(extra)
    return env


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_management_commands_refuse_demo_credentials():
    result = _run([sys.executable, "manage.py", "check"], _production_env())
    assert result.returncode != 0
    assert "Refusing to start" in result.stderr, result.stderr
    assert "WECHAT_COMPONENT_APPSECRET" in result.stderr
    assert "ALLOW_DEMO_WECHAT_CREDENTIALS" in result.stderr


def test_management_commands_refuse_sqlite():
    env = _production_env(
        ALLOW_DEMO_WECHAT_CREDENTIALS="1", DATABASE_URL=f"sqlite:///{ROOT}/var/guard.sqlite3"
    )
    result = _run([sys.executable, "manage.py", "check"], env)
    assert result.returncode != 0
    assert "ALLOW_SQLITE_IN_PRODUCTION" in result.stderr, result.stderr
    env["ALLOW_SQLITE_IN_PRODUCTION"] = "1"
    allowed = _run([sys.executable, "manage.py", "check"], env)
    assert allowed.returncode == 0, allowed.stderr


@pytest.mark.parametrize("kind", ["worker", "beat"])
def test_celery_processes_refuse_demo_credentials(kind, tmp_path):
    argv = [str(BIN / "celery"), "-A", "platform_app", kind, "--loglevel", "INFO"]
    if kind == "beat":
        argv += ["--schedule", str(tmp_path / "schedule")]
    else:
        argv += ["--pool", "solo", "--without-gossip", "--without-mingle"]
    result = _run(argv, _production_env(CELERY_BROKER_URL="redis://127.0.0.1:1/0"))
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Refusing to start" in output and "ALLOW_DEMO_WECHAT_CREDENTIALS" in output, output


def test_the_web_process_refuses_demo_credentials():
    result = _run([sys.executable, "-c", "import platform_app.wsgi"], _production_env())
    assert result.returncode != 0
    assert "ALLOW_DEMO_WECHAT_CREDENTIALS" in result.stderr, result.stderr
