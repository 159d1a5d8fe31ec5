from django.db import models

from .authorizer import Authorizer
from .merchant import Merchant


class AccountEvent(models.Model):
    """The outbox (SPEC 11): a change to an account, written in the transaction that made it.

    A rolled-back change leaves no row and a committed one always does, so whoever fans events
    out (webhooks/) neither invents nor loses one. `merchant` is whom the event is about at
    that moment (for `authorizer.removed`, the merchant that lost the account). `sequence`
    grows per account, so a receiver can drop an older event that arrives after a newer one.
    `dispatched_at` is set once the event was turned into deliveries.
    """

    class Type(models.TextChoices):
        CONNECTED = "authorizer.connected"
        UPDATED = "authorizer.updated"
        REVOKED = "authorizer.revoked"
        REAUTHORIZATION_REQUIRED = "authorizer.reauthorization_required"
        REMOVED = "authorizer.removed"
        QUOTA_EXHAUSTED = "authorizer.quota_exhausted"
        QUOTA_RESTORED = "authorizer.quota_restored"

    authorizer = models.ForeignKey(Authorizer, on_delete=models.CASCADE, related_name="+")
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=64, choices=Type.choices)
    sequence = models.PositiveBigIntegerField()
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["authorizer", "sequence"], name="one_event_per_account_sequence"
            )
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(dispatched_at__isnull=True),
                name="account_event_undispatched",
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.sequence}"
