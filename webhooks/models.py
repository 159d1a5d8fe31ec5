"""Merchant webhooks (SPEC 11): where a merchant wants its events, and each event's delivery."""

from __future__ import annotations

from django.db import models

from authorizers.models import AccountEvent, Merchant
from core.fields import EncryptedTextField


class WebhookEndpoint(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    url = models.URLField(max_length=500)
    # Event types this endpoint wants; empty: all of them.
    events = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)
    # Why it was disabled ("gone": the receiver answered 410; "operator").
    disabled_reason = models.CharField(max_length=100, blank=True, default="")
    secret = EncryptedTextField()
    # After a rotation the old secret keeps signing beside the new one until this time.
    previous_secret = EncryptedTextField(blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["merchant", "enabled"], name="webhook_endpoint_merchant")]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


class WebhookDelivery(models.Model):
    """One event to one endpoint: the same `msg_id` (webhook-id header) on every attempt."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(
        AccountEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    msg_id = models.CharField(max_length=64, unique=True)
    event_type = models.CharField(max_length=64)
    # The JSON body as sent, byte for byte the same on every attempt.
    body = models.TextField()
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # An attempt in flight holds the delivery until this time (a worker killed mid-attempt
    # lets it go when it passes); also the per-endpoint concurrency count.
    lease_until = models.DateTimeField(null=True, blank=True)
    # When a task was last queued for it: beat queues another only after a while, so a task
    # lost with its worker is replaced without flooding the queue while one waits.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_recent"),
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.msg_id}"
