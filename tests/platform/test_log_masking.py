"""Invite tokens and openids travel in URL paths; no log line shows them in clear: Django's
request log, runserver's log and gunicorn's access log, through the handlers really used."""

import datetime
import io
import json
import logging
import runpy
import secrets
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core import signing

from core.logs import MaskSecretsFilter, mask_secrets

ROOT = Path(__file__).resolve().parents[2]
OPENID = "oAbCdEfGhIjKlMnOpQrStUvWxYz1"


def _invite() -> str:
    # the shape of a real invite (signing.dumps of a merchant id), for a merchant that is not
    return signing.dumps(10**9 + secrets.randbelow(10**6), salt="authorizers.invite")


def _console_handler() -> logging.Handler:
    [handler] = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, MaskSecretsFilter) for f in h.filters)
    ]
    return handler


@pytest.fixture
def console_output():
    """What the configured console handler writes (stdout in production)."""
    handler = _console_handler()
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


def test_mask_secrets_hides_invites_and_openids_in_paths():
    invite = _invite()
    text = mask_secrets(
        f"Bad Request: /authorize/{invite}/start/ and "
        f"GET /api/v1/authorizers/wx1234567890abcdef/users/{OPENID}/tags?expand=names"
    )
    assert invite not in text and OPENID not in text
    assert "/authorize/***/start/" in text
    assert "/users/***/tags?expand=names" in text
    assert "wx1234567890abcdef" in text  # appids are not personal data
    assert mask_secrets("POST /api/v1/authorizers/wx1/users/tags") == (
        "POST /api/v1/authorizers/wx1/users/tags"
    )


@pytest.mark.django_db
def test_django_request_log_masks_the_invite(client, console_output):
    invite = _invite()
    response = client.get(f"/authorize/{invite}/")
    assert response.status_code == 400
    written = console_output.getvalue()
    assert "django.request" in written and "/authorize/***/" in written
    assert invite not in written


@pytest.mark.django_db
def test_django_request_log_masks_the_openid(client, console_output):
    response = client.get(f"/api/v1/authorizers/wx1234567890abcdef/users/{OPENID}/tags")
    assert response.status_code == 401
    written = console_output.getvalue()
    assert "/users/***/tags" in written
    assert OPENID not in written


def test_runserver_log_goes_through_the_masking_handler(console_output):
    """django.server (runserver, `make run`) has its own handler in Django's defaults: ours
    replaces it, so its lines are masked too."""
    invite = _invite()
    logger = logging.getLogger("django.server")
    logger.info('"%s" %s %s', f"GET /authorize/{invite}/callback/?auth_code=x HTTP/1.1", 400, 9)
    written = console_output.getvalue()
    assert "/authorize/***/callback/" in written and invite not in written


@pytest.mark.parametrize("name", ["django.request", "django.server", "django.security", "django"])
def test_every_handler_django_logs_reach_masks(name):
    logger = logging.getLogger(name)
    handlers = []
    while logger:
        handlers += logger.handlers
        logger = logger.parent if logger.propagate else None
    assert handlers
    for handler in handlers:
        if type(handler).__module__.startswith("_pytest"):
            continue  # pytest's own capture, not a configured handler
        assert any(isinstance(f, MaskSecretsFilter) for f in handler.filters), (name, handler)


def test_gunicorn_access_log_masks_invites_and_openids(tmp_path, monkeypatch):
    from gunicorn.config import Config

    # the config sets a default PROMETHEUS_MULTIPROC_DIR in os.environ: keep it to this test
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    conf = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    cfg = Config()
    cfg.set("accesslog", "-")
    access_logger = conf["JsonAccessLogger"](cfg)
    lines = []
    access_logger.access_log.info = lines.append
    invite = _invite()
    for path in (f"/authorize/{invite}/start/", f"/api/v1/authorizers/wx1/users/{OPENID}/tags"):
        access_logger.access(
            SimpleNamespace(status="400 Bad Request", headers=[], sent=10),
            None,
            {"REQUEST_METHOD": "GET", "PATH_INFO": path, "REMOTE_ADDR": "127.0.0.1"},
            datetime.timedelta(milliseconds=3),
        )
    records = [json.loads(line) for line in lines]
    assert [r["path"] for r in records] == [
        "/authorize/***/start/",
        "/api/v1/authorizers/wx1/users/***/tags",
    ]
    assert invite not in "".join(lines) and OPENID not in "".join(lines)
