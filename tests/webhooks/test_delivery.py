"""SPEC 11 delivery: retries keep the webhook-id, 410 disables, Retry-After and the schedule,
rotation signs with both secrets, and the targets we refuse (at registration and delivery)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from tests.api.support import make_tenant


def register(tenant, url: str, **extra):
    return tenant.client.post("/api/v1/webhooks/", {"url": url, **extra}, format="json")


def send_test(tenant, endpoint_id: int) -> str:
    response = tenant.client.post(f"/api/v1/webhooks/{endpoint_id}/test")
    assert response.status_code == 202, response.content
    return response.json()["webhook_id"]


def attempt(msg_id: str, *, due_now: bool = True):
    """One attempt; `due_now` moves a scheduled retry's time to now (no sleeping in tests)."""
    from webhooks.models import WebhookDelivery
    from webhooks.services.delivery import webhook_delivery_attempt

    delivery = WebhookDelivery.objects.get(msg_id=msg_id)
    if due_now:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    return webhook_delivery_attempt(delivery_id=delivery.pk)


@pytest.mark.django_db
def test_500_then_200_sends_the_same_webhook_id_twice(receiver, private_targets):
    from webhooks.models import WebhookDelivery

    tenant = make_tenant("M")
    hook = register(tenant, receiver.url("/flaky")).json()
    receiver.script("/flaky", 500, 200)
    msg_id = send_test(tenant, hook["id"])

    first = attempt(msg_id)
    assert first.result == "retry" and 4 <= first.retry_in <= 6  # about 5 s, with jitter
    assert attempt(msg_id, due_now=False).result == "early"  # not before its time
    assert attempt(msg_id).result == "succeeded"

    arrived = receiver.at("/flaky")
    assert [r.headers["webhook-id"] for r in arrived] == [msg_id, msg_id]
    assert arrived[0].body == arrived[1].body
    for request in arrived:
        Webhook(hook["secret"]).verify(request.body, request.headers)
    delivery = WebhookDelivery.objects.get(msg_id=msg_id)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("succeeded", 2, 200)
    listed = tenant.client.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["deliveries"]
    assert listed[0]["webhook_id"] == msg_id and listed[0]["attempts"] == 2


@pytest.mark.django_db
def test_retry_after_is_honoured_and_the_last_failure_fails_then_replays(receiver, private_targets):
    from webhooks.models import WebhookDelivery
    from webhooks.services.delivery import MAX_ATTEMPTS

    tenant = make_tenant("M")
    hook = register(tenant, receiver.url("/busy")).json()
    receiver.script("/busy", (503, 0, {"Retry-After": "120"}))
    receiver.default = 500
    msg_id = send_test(tenant, hook["id"])
    assert attempt(msg_id).retry_in >= 120  # the schedule says ~5 s; the receiver asked 120
    for _ in range(MAX_ATTEMPTS - 1):
        outcome = attempt(msg_id)
    assert outcome.result == "failed"
    delivery = WebhookDelivery.objects.get(msg_id=msg_id)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        "failed",
        MAX_ATTEMPTS,
        None,
    )

    receiver.default = 200
    url = f"/api/v1/webhooks/{hook['id']}/deliveries/{msg_id}/replay"
    assert tenant.client.post(url).status_code == 202
    assert attempt(msg_id).result == "succeeded"
    assert receiver.at("/busy")[-1].headers["webhook-id"] == msg_id
    # Only a failed delivery is replayed.
    assert tenant.client.post(url).json()["error"]["code"] == "invalid_request"


@pytest.mark.django_db
def test_410_disables_the_endpoint(receiver, private_targets):
    from webhooks.models import WebhookDelivery, WebhookEndpoint

    tenant = make_tenant("M")
    hook = register(tenant, receiver.url("/gone")).json()
    receiver.script("/gone", 410)
    first, second = send_test(tenant, hook["id"]), send_test(tenant, hook["id"])
    assert attempt(first).result == "gone"
    assert not WebhookEndpoint.objects.get(pk=hook["id"]).enabled
    assert tenant.client.get(f"/api/v1/webhooks/{hook['id']}/").json()["enabled"] is False
    # The rest is not sent to an endpoint that said it is gone.
    assert attempt(second).result == "failed"
    assert len(receiver.at("/gone")) == 1
    assert WebhookDelivery.objects.get(msg_id=first).status == "failed"


@pytest.mark.django_db
def test_rotation_signs_with_both_secrets_for_24_hours(receiver, private_targets):
    from webhooks.models import WebhookEndpoint

    tenant = make_tenant("M")
    hook = register(tenant, receiver.url("/rot")).json()
    rotated = tenant.client.post(f"/api/v1/webhooks/{hook['id']}/rotate-secret").json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != hook["secret"]
    attempt(send_test(tenant, hook["id"]))
    request = receiver.at("/rot")[-1]
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(hook["secret"]).verify(request.body, request.headers)
    Webhook(rotated["secret"]).verify(request.body, request.headers)

    WebhookEndpoint.objects.filter(pk=hook["id"]).update(
        previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
    )
    attempt(send_test(tenant, hook["id"]))
    request = receiver.at("/rot")[-1]
    Webhook(rotated["secret"]).verify(request.body, request.headers)
    with pytest.raises(Exception, match="signature"):
        Webhook(hook["secret"]).verify(request.body, request.headers)


@pytest.mark.django_db
def test_endpoints_api_is_per_merchant(receiver, private_targets):
    from webhooks.models import WebhookEndpoint

    mine, theirs = make_tenant("Mine"), make_tenant("Theirs")
    hook = register(mine, receiver.url("/x")).json()
    assert set(hook) == {"id", "url", "events", "enabled", "secret", "created_at"}
    listed = mine.client.get("/api/v1/webhooks/").json()["webhooks"]
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
    assert "secret" not in mine.client.get(f"/api/v1/webhooks/{hook['id']}/").json()
    assert theirs.client.get("/api/v1/webhooks/").json()["webhooks"] == []
    for method, suffix in [
        ("get", "/"),
        ("delete", "/"),
        ("post", "/rotate-secret"),
        ("post", "/test"),
        ("get", "/deliveries"),
        ("post", "/deliveries/msg_2KWPBgLlAfxdpx2AI54pPJ85f4W/replay"),
    ]:
        response = getattr(theirs.client, method)(f"/api/v1/webhooks/{hook['id']}{suffix}")
        assert response.status_code == 404, (method, suffix)
    stored = WebhookEndpoint.objects.get(pk=hook["id"])
    assert stored.secret == hook["secret"]  # unchanged by the other merchant's rotate
    assert mine.client.delete(f"/api/v1/webhooks/{hook['id']}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {"url": "not a url"},
        {"url": "ftp://example.com/hook"},
        {"url": "http://example.com/hook"},  # https only
        {"url": "https://127.0.0.1/hook"},  # loopback
        {"url": "https://10.1.2.3/hook"},  # private
        {"url": "https://169.254.169.254/latest/meta-data"},  # link-local
        {"url": "https://[::1]/hook"},
        {"url": "https://[::ffff:127.0.0.1]/hook"},
        {"url": "https://0.0.0.0/hook"},
        {"url": "https://93.184.216.34/hook", "events": ["authorizer.exploded"]},
        {"url": "https://93.184.216.34/hook", "events": "authorizer.revoked"},
        {"url": 42},
        {},
    ],
)
def test_bad_input_is_400_and_changes_nothing(body):
    from webhooks.models import WebhookEndpoint

    tenant = make_tenant("M")
    response = tenant.client.post("/api/v1/webhooks/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid_request"
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_link_local_stays_refused_with_private_targets_allowed(private_targets):
    tenant = make_tenant("M")
    for url in ("http://169.254.169.254/", "http://[fe80::1]/", "http://0.0.0.0/"):
        assert register(tenant, url).status_code == 400, url
    assert register(tenant, "http://10.1.2.3/").status_code == 201


@pytest.mark.django_db
def test_at_most_ten_endpoints(receiver, private_targets):
    from webhooks.models import WebhookEndpoint

    tenant = make_tenant("M")
    for index in range(10):
        assert register(tenant, receiver.url(f"/{index}")).status_code == 201
    response = register(tenant, receiver.url("/eleven"))
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_request"
    assert WebhookEndpoint.objects.count() == 10


@pytest.mark.django_db
def test_a_name_that_resolves_to_loopback_at_delivery_is_refused(receiver, monkeypatch):
    """Registered while the name resolved to a public address; at delivery it resolves to
    loopback (DNS rebinding): nothing is sent."""
    from webhooks import targets
    from webhooks.models import WebhookDelivery

    answers = {"hooks.example.test": ["93.184.216.34"]}
    monkeypatch.setattr(targets, "resolve", lambda host, port: answers[host])
    tenant = make_tenant("M")
    url = f"https://hooks.example.test:{receiver.port}/hook"
    hook = register(tenant, url).json()
    answers["hooks.example.test"] = ["127.0.0.1"]
    msg_id = send_test(tenant, hook["id"])
    assert attempt(msg_id).result == "retry"
    delivery = WebhookDelivery.objects.get(msg_id=msg_id)
    assert "loopback" in delivery.last_error and delivery.last_status_code is None
    assert receiver.received == []


@pytest.mark.django_db
def test_the_connection_goes_to_the_checked_address(receiver, private_targets, monkeypatch):
    """The name is resolved once, checked, and that address is connected to (with the URL's
    host in the Host header): the name does not exist in real DNS at all."""
    from webhooks import targets

    monkeypatch.setattr(targets, "resolve", lambda host, port: ["127.0.0.1"])
    tenant = make_tenant("M")
    hook = register(tenant, f"http://hooks.example.test:{receiver.port}/pinned").json()
    assert attempt(send_test(tenant, hook["id"])).result == "succeeded"
    request = receiver.at("/pinned")[0]
    assert request.headers["host"] == f"hooks.example.test:{receiver.port}"


@pytest.mark.django_db
def test_a_redirect_is_not_followed(receiver, private_targets):
    from webhooks.models import WebhookDelivery

    tenant = make_tenant("M")
    hook = register(tenant, receiver.url("/moved")).json()
    receiver.script("/moved", (307, 0, {"Location": receiver.url("/elsewhere")}))
    msg_id = send_test(tenant, hook["id"])
    assert attempt(msg_id).result == "retry"
    assert receiver.at("/elsewhere") == []
    assert WebhookDelivery.objects.get(msg_id=msg_id).last_status_code == 307
