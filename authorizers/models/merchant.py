from django.db import models


class Merchant(models.Model):
    """The tenant: a merchant whose backend calls our API for its own Official Accounts."""

    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
