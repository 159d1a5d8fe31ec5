"""Log levels of what is not our error: a scanner's unknown Host header is a WARNING."""

import logging

import pytest


@pytest.mark.django_db
def test_disallowed_host_is_logged_at_warning(client, caplog):
    with caplog.at_level(logging.DEBUG):
        response = client.get("/admin/login/", HTTP_HOST="scanner.invalid")
    assert response.status_code == 400
    records = [r for r in caplog.records if r.name == "django.security.DisallowedHost"]
    assert records, "the refusal is still logged"
    assert all(r.levelno == logging.WARNING for r in records), [r.levelname for r in records]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_logging_config_applies_the_downgrade_to_the_logger():
    logger = logging.getLogger("django.security.DisallowedHost")
    record = logger.makeRecord(logger.name, logging.ERROR, "f", 1, "Invalid HTTP_HOST", (), None)
    for f in logger.filters:
        f.filter(record)
    assert (record.levelno, record.levelname) == (logging.WARNING, "WARNING")
