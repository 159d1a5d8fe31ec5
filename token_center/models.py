"""Service clients (the provider's own systems that borrow tokens) and the loan log."""

from __future__ import annotations

from django.db import models

from authorizers.models import Authorizer, Merchant


class ServiceClient(models.Model):
    """A credential of one of the provider's own services. Only its SHA-256 is stored; the
    key is shown once at creation. Scope: every account, or the named merchants' accounts."""

    name = models.CharField(max_length=100, unique=True)
    # The first characters of the key, kept to tell clients apart in the admin.
    prefix = models.CharField(max_length=16, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    all_accounts = models.BooleanField(
        default=False, help_text="Every account; otherwise only the chosen merchants' accounts."
    )
    merchants = models.ManyToManyField(
        Merchant, blank=True, related_name="service_clients", help_text="Ignored for all accounts."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Token bucket; null means the settings' defaults.
    rate_limit_burst = models.PositiveIntegerField(null=True, blank=True)
    rate_limit_per_minute = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class TokenLoan(models.Model):
    """One loan or report: who asked, for which token, what came of it. No token in it."""

    class Kind(models.TextChoices):
        LOAN = "loan", "loan"
        REPORT = "report", "report of a refused token"

    client = models.ForeignKey(ServiceClient, on_delete=models.PROTECT, related_name="loans")
    # Empty appid: the component token.
    authorizer = models.ForeignKey(
        Authorizer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    authorizer_appid = models.CharField(max_length=64, blank=True, default="")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # lent, refreshed, already_refreshed, not_current, revoked, not_found, error codes.
    outcome = models.CharField(max_length=40)
    status_code = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["client", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.authorizer_appid or 'component'} → {self.outcome}"
