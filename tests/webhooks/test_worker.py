"""SPEC 11 with a real Celery worker on the real broker: a hanging endpoint delays no other
endpoint, and a worker SIGKILLed mid-delivery loses nothing (beat's sweep re-sends it)."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.api.support import make_tenant
from tests.plugins.celery_worker import wait_until

pytestmark = [pytest.mark.celery, pytest.mark.django_db(transaction=True)]

WORKER_ENV = {"WEBHOOK_ALLOW_PRIVATE_TARGETS": "1", "WEBHOOK_ENDPOINT_CONCURRENCY": "2"}


def register(tenant, url: str) -> dict:
    response = tenant.client.post("/api/v1/webhooks/", {"url": url}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def send_test(tenant, endpoint_id: int) -> str:
    response = tenant.client.post(f"/api/v1/webhooks/{endpoint_id}/test")
    assert response.status_code == 202, response.content
    return response.json()["webhook_id"]


def test_a_hanging_endpoint_delays_no_other_endpoint(
    celery_worker, receiver, private_targets, resilience_figures
):
    from webhooks.models import WebhookDelivery

    celery_worker(concurrency=4, env=WORKER_ENV)
    slow, fast = make_tenant("Slow"), make_tenant("Fast")
    hanging = register(slow, receiver.url("/hang"))
    healthy = register(fast, receiver.url("/fast"))
    receiver.script("/hang", *[(200, 60.0)] * 6)  # each answer waits until released

    stuck = [send_test(slow, hanging["id"]) for _ in range(6)]
    receiver.wait_for("/hang", 2)
    started = time.monotonic()
    msg_id = send_test(fast, healthy["id"])
    arrived = receiver.wait_for("/fast", 1)[0]
    latency = arrived.started - started
    wait_until(lambda: WebhookDelivery.objects.get(msg_id=msg_id).status == "succeeded")

    # The hanging endpoint holds its 2 slots and no more, and neither attempt has ended
    # (timed out) yet: the healthy endpoint's delivery did not wait for them.
    assert len(receiver.at("/hang")) == 2
    hung = WebhookDelivery.objects.filter(msg_id__in=stuck)
    assert sum(1 for d in hung if d.lease_until is not None) == 2
    assert all(d.last_error == "" and d.last_status_code is None for d in hung)
    resilience_figures.record("webhook_hanging_endpoint", healthy_delivery_seconds=latency)
    print(f"healthy endpoint's delivery arrived {latency:.3f} s after it was sent")

    receiver.release.set()  # the receiver answers; the queued ones follow through the slots
    wait_until(lambda: all(d.status == "succeeded" for d in hung.all()), timeout=60)


def test_a_worker_killed_mid_delivery_loses_nothing(celery_worker, receiver, private_targets):
    from webhooks.models import WebhookDelivery
    from webhooks.tasks import webhook_deliveries_sweep_task

    worker = celery_worker(concurrency=1, env=WORKER_ENV)
    tenant = make_tenant("M")
    hook = register(tenant, receiver.url("/kill"))
    receiver.script("/kill", (200, 60.0))
    msg_id = send_test(tenant, hook["id"])
    receiver.wait_for("/kill", 1)
    for pid in worker.child_pids():
        os.kill(pid, signal.SIGKILL)
    receiver.release.set()
    # The task comes back (acks_late) to a new pool process, which finds the attempt's lease
    # still held and leaves it: without beat's sweep nothing would send it again.
    wait_until(lambda: "'busy'" in worker.log, 20)
    # The killed attempt's lease runs out (moved to the past here rather than waited for).
    past = timezone.now() - timedelta(minutes=5)
    WebhookDelivery.objects.filter(msg_id=msg_id).update(lease_until=past, enqueued_at=past)
    assert WebhookDelivery.objects.get(msg_id=msg_id).status == "pending"

    webhook_deliveries_sweep_task.delay()  # what beat runs
    wait_until(lambda: WebhookDelivery.objects.get(msg_id=msg_id).status == "succeeded", 30)
    assert [r.headers["webhook-id"] for r in receiver.at("/kill")] == [msg_id, msg_id]
