from django.db import models
from django.db.models import Q


class Merchant(models.Model):
    """The tenant: a merchant whose backend calls our API for its own Official Accounts."""

    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    # The one holding merchant: accounts WeChat knows that no invite claimed (found by import,
    # or a push for an authorization not started from one of our invites) wait here. A flag,
    # not a name: a merchant may well be called "Unassigned", and names change.
    is_holding = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_holding"], condition=Q(is_holding=True), name="one_holding_merchant"
            )
        ]

    def __str__(self) -> str:
        return self.name
