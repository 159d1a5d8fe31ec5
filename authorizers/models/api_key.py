from django.db import models

from .merchant import Merchant


class ApiKey(models.Model):
    """A merchant's API key. Only its SHA-256 is stored; the key is shown once at creation."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True, default="")
    # The first characters of the key, kept to tell keys apart in the admin.
    prefix = models.CharField(max_length=16, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Token bucket; null means the settings' defaults.
    rate_limit_burst = models.PositiveIntegerField(null=True, blank=True)
    rate_limit_per_minute = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.merchant})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
