"""X-Forwarded-Proto is trusted only where a proxy sets it (DJANGO_TRUST_X_FORWARDED_PROTO):
without one, any client could claim HTTPS and get secure-only behaviour over plain HTTP."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRINT_HEADER = (
    "import django; django.setup(); from django.conf import settings; "
    "print(repr(settings.SECURE_PROXY_SSL_HEADER))"
)


def _settings_value(**env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "DJANGO_TRUST_X_FORWARDED_PROTO"}
    environ |= {"DJANGO_SETTINGS_MODULE": "platform_app.settings", **env}
    result = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", PRINT_HEADER],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_header_is_not_trusted_by_default():
    assert _settings_value() == "None"


def test_the_setting_turns_trust_on():
    assert (
        # (a proxy in front also needs its count: the production guard says so)
        _settings_value(DJANGO_TRUST_X_FORWARDED_PROTO="1", API_TRUSTED_PROXY_COUNT="1")
        == "('HTTP_X_FORWARDED_PROTO', 'https')"
    )


@pytest.mark.django_db
def test_untrusted_header_does_not_make_a_request_secure(client, settings):
    from django.conf import settings as live

    assert live.SECURE_PROXY_SSL_HEADER is None  # this process runs with the default
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/admin/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


@pytest.mark.django_db
def test_trusted_header_makes_a_request_secure(client, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/admin/login/", HTTP_X_FORWARDED_PROTO="https").status_code == 200
