from django.db import models

from core.fields import EncryptedTextField


class ComponentState(models.Model):
    """The third-party platform's own credentials: one row per component appid."""

    component_appid = models.CharField(max_length=64, unique=True)
    verify_ticket = EncryptedTextField(blank=True, default="")
    ticket_received_at = models.DateTimeField(null=True, blank=True)
    access_token = EncryptedTextField(blank=True, default="")
    access_token_expires_at = models.DateTimeField(null=True, blank=True)
    access_token_fetched_at = models.DateTimeField(null=True, blank=True)
    # When a process last asked WeChat to push a ticket (api_start_push_ticket): the
    # once-a-minute limit is held here, where every process sees it, cache shared or not.
    ticket_push_requested_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "component"

    def __str__(self) -> str:
        return self.component_appid


class ComponentEvent(models.Model):
    """Every authorization-event push WeChat sent, recorded before it is applied."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        APPLIED = "applied", "Applied"
        FAILED = "failed", "Failed"
        IGNORED = "ignored", "Ignored"

    # sha256 of the decrypted message: a replayed push has the same one.
    dedup_key = models.CharField(max_length=64, unique=True)
    info_type = models.CharField(max_length=64, db_index=True)
    authorizer_appid = models.CharField(max_length=64, blank=True, default="", db_index=True)
    create_time = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    applied_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    # The decrypted fields minus secrets (ticket and authorization code are dropped).
    payload = models.JSONField(default=dict, blank=True)
    replays = models.PositiveIntegerField(default=0)
    # authorized/updateauthorized: the code until someone exchanges it, and its SHA-256 so the
    # browser callback can find the event that carried the same code (61009 race).
    authorization_code = EncryptedTextField(blank=True, default="")
    authorization_code_sha256 = models.CharField(
        max_length=64, blank=True, default="", db_index=True
    )
    # The PreAuthCode of the authorization page the admin confirmed on (hashed): tells which
    # invite's /start/ the authorization came from.
    pre_auth_code_sha256 = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["info_type", "-received_at"])]

    def __str__(self) -> str:
        return f"{self.info_type} {self.authorizer_appid}".strip()
