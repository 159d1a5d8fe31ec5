"""The authorization-event receiver over Django's test client (the sandbox pushes: test_e2e)."""

import time
from datetime import UTC, datetime

import pytest

from authorizers.models import Authorizer
from component import signals
from component.models import ComponentEvent, ComponentState
from wechat.crypto import MAX_BODY_LEN

from .pushes import EVENTS_URL, deliver, encrypt, post, push_xml

pytestmark = pytest.mark.django_db


def _ticket_xml(ticket="ticket@@@abc", create_time=None):
    return push_xml(
        "component_verify_ticket",
        create_time or int(time.time()),
        ComponentVerifyTicket=ticket,
    )


def _state_rows():
    return ComponentEvent.objects.count(), ComponentState.objects.count()


def test_ticket_push_is_recorded_and_applied(client):
    created = int(time.time()) - 30
    response = deliver(client, _ticket_xml("ticket@@@first", created))

    assert response.status_code == 200
    assert response.content == b"success"
    assert response["Content-Type"].startswith("text/plain")
    state = ComponentState.objects.get()
    assert state.verify_ticket == "ticket@@@first"
    assert state.ticket_received_at == datetime.fromtimestamp(created, tz=UTC)
    event = ComponentEvent.objects.get()
    assert event.status == ComponentEvent.Status.APPLIED
    assert event.info_type == "component_verify_ticket"
    assert "ComponentVerifyTicket" not in event.payload  # no secret in the operators' record


def test_replay_is_acknowledged_and_not_applied_twice(client, merchant):
    Authorizer.objects.create(merchant=merchant, appid="wx1000000000000002")
    calls = []

    def receiver(sender, **kwargs):
        calls.append(kwargs["authorizer_appid"])

    signals.unauthorized.connect(receiver)
    try:
        xml = push_xml("unauthorized", int(time.time()), AuthorizerAppid="wx1000000000000002")
        first, replay = deliver(client, xml), deliver(client, xml)
    finally:
        signals.unauthorized.disconnect(receiver)

    assert (first.status_code, replay.status_code) == (200, 200)
    assert replay.content == b"success"
    assert calls == ["wx1000000000000002"]
    event = ComponentEvent.objects.get()
    assert (event.status, event.replays) == (ComponentEvent.Status.APPLIED, 1)
    assert Authorizer.objects.get().status == Authorizer.Status.REVOKED


def test_failed_application_is_recorded_and_retried_by_a_replay(client):
    def broken(sender, **kwargs):
        raise RuntimeError("database hiccup")

    signals.unauthorized.connect(broken)
    xml = push_xml("unauthorized", int(time.time()), AuthorizerAppid="wx1000000000000002")
    try:
        assert deliver(client, xml).content == b"success"  # recorded: WeChat need not resend
    finally:
        signals.unauthorized.disconnect(broken)
    event = ComponentEvent.objects.get()
    assert event.status == ComponentEvent.Status.FAILED
    assert "database hiccup" in event.error

    assert deliver(client, xml).status_code == 200
    event.refresh_from_db()
    assert (event.status, event.replays, event.error) == (ComponentEvent.Status.APPLIED, 1, "")


def test_bad_signature_is_403_and_changes_nothing(client):
    params, body = encrypt(_ticket_xml(), token="not-our-token")
    assert post(client, params, body).status_code == 403
    params, body = encrypt(_ticket_xml())
    params["msg_signature"] = "0" * 40
    assert post(client, params, body).status_code == 403
    assert _state_rows() == (0, 0)


def test_push_for_another_component_is_400_and_changes_nothing(client):
    # Signed with our token, but encrypted for another appid: not for us.
    params, body = encrypt(_ticket_xml(), appid="wx0another0component")
    assert post(client, params, body).status_code == 400
    # Our crypto, but the inner AppId names another component.
    xml = _ticket_xml().replace("wx0demo0component01", "wx0another0component")
    assert deliver(client, xml).status_code == 400
    assert _state_rows() == (0, 0)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda p, b: (p, b"garbage"),
        lambda p, b: (p, b"<xml><AppId>x</AppId></xml>"),
        lambda p, b: (p, b"<!DOCTYPE x [<!ENTITY a 'b'>]><xml><Encrypt>&a;</Encrypt></xml>"),
        lambda p, b: ({k: v for k, v in p.items() if k != "timestamp"}, b),
        lambda p, b: ({k: v for k, v in p.items() if k != "msg_signature"}, b),
        lambda p, b: ({**p, "encrypt_type": "raw"}, b),
    ],
    ids=["garbage", "no-encrypt", "dtd", "no-timestamp", "no-signature", "not-aes"],
)
def test_malformed_push_is_400_and_changes_nothing(client, mutate):
    params, body = mutate(*encrypt(_ticket_xml()))
    assert post(client, params, body).status_code == 400
    assert _state_rows() == (0, 0)


@pytest.mark.parametrize(
    "xml",
    [
        push_xml("component_verify_ticket", 1700000000),
        push_xml("authorized", 1700000000, AuthorizerAppid="wx1000000000000002"),
        push_xml("unauthorized", 1700000000),
        push_xml("component_verify_ticket", "soon", ComponentVerifyTicket="t"),  # type: ignore[arg-type]
        "<xml><AppId>wx0demo0component01</AppId><CreateTime>1</CreateTime></xml>",
    ],
    ids=["ticket-missing", "code-missing", "appid-missing", "bad-create-time", "no-info-type"],
)
def test_push_missing_fields_is_400_and_changes_nothing(client, xml):
    assert deliver(client, xml).status_code == 400
    assert _state_rows() == (0, 0)


def test_oversized_body_is_refused_unread(client):
    params, _ = encrypt(_ticket_xml())
    assert post(client, params, b"x" * (MAX_BODY_LEN + 1)).status_code == 413
    assert _state_rows() == (0, 0)


def test_only_post(client):
    assert client.get(EVENTS_URL).status_code == 405


def test_unknown_info_type_is_acknowledged_and_ignored(client):
    xml = push_xml("notify_third_fasteregister", int(time.time()), AuthorizerAppid="wx1")
    assert deliver(client, xml).content == b"success"
    assert ComponentEvent.objects.get().status == ComponentEvent.Status.IGNORED


def test_a_late_older_ticket_does_not_replace_the_newer(client):
    now = int(time.time())
    deliver(client, _ticket_xml("ticket@@@new", now))
    deliver(client, _ticket_xml("ticket@@@old", now - 600))
    assert ComponentState.objects.get().verify_ticket == "ticket@@@new"
    assert ComponentEvent.objects.filter(status=ComponentEvent.Status.IGNORED).count() == 1


def test_a_ticket_from_the_future_counts_as_received_now(client):
    deliver(client, _ticket_xml("ticket@@@skewed", int(time.time()) + 3600))
    state = ComponentState.objects.get()
    assert state.ticket_received_at <= datetime.now(tz=UTC)
