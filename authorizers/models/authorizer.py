from django.db import models

from core.fields import EncryptedTextField

from .merchant import Merchant


class Authorizer(models.Model):
    """An Official Account a merchant authorized to our third-party platform."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        REVOKED = "revoked", "Revoked by the merchant"
        REAUTH_REQUIRED = "reauth_required", "Needs re-authorization"

    class ServiceType(models.IntegerChoices):
        SUBSCRIPTION = 0, "Subscription Account"
        SUBSCRIPTION_UPGRADED = 1, "Subscription Account (upgraded legacy)"
        SERVICE = 2, "Service Account"

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="authorizers")
    appid = models.CharField(max_length=64, unique=True)
    nickname = models.CharField(max_length=200, blank=True, default="")
    principal_name = models.CharField(max_length=200, blank=True, default="")
    user_name = models.CharField(max_length=64, blank=True, default="")
    alias = models.CharField(max_length=64, blank=True, default="")
    head_img = models.URLField(max_length=500, blank=True, default="")
    # service_type_info.id and verify_type_info.id; null until the info sync ran.
    service_type = models.IntegerField(null=True, blank=True, choices=ServiceType.choices)
    verify_type = models.IntegerField(null=True, blank=True)
    # funcscope_category ids from func_info.
    permission_sets = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )

    access_token = EncryptedTextField(blank=True, default="")
    access_token_expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Bumped on every new access token: a caller that saw version N and got a dead-token
    # answer knows someone already refreshed when the row shows N+1.
    token_version = models.PositiveIntegerField(default=0)
    # Bumped by every write of the token state (services/token_state.py): an answer WeChat
    # gave to a call made while the row held version N is stored only if it still holds N.
    state_version = models.PositiveBigIntegerField(default=0)
    refresh_token = EncryptedTextField(blank=True, default="")
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    last_refresh_error = models.CharField(max_length=300, blank=True, default="")

    # WeChat quota (SPEC 10): {cgi_path: {"until": ISO time, "rid": ...}} after a 45009, so later
    # calls of that API are refused locally until WeChat's midnight; cached with the row, so the
    # check costs no query. And the quota resets we spent: {"month": "YYYY-MM", "count": n}.
    quota_stops = models.JSONField(default=dict, blank=True)
    quota_resets = models.JSONField(default=dict, blank=True)

    authorized_at = models.DateTimeField(null=True, blank=True)
    info_synced_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["merchant_id", "nickname", "appid"]
        indexes = [
            models.Index(fields=["status", "access_token_expires_at"]),
            # The merchant API's account list: a merchant's accounts by id, page after page.
            models.Index(fields=["merchant", "id"], name="authorizer_merchant_id_idx"),
            # A merchant's accounts counted by status (its admin page) from the index alone.
            models.Index(fields=["merchant", "status"], name="authorizer_merchant_status_idx"),
            # The dashboard's accounts needing re-authorization, most recent first.
            models.Index(
                fields=["-updated_at"],
                condition=~models.Q(status="active"),
                name="authorizer_stopped_recent_idx",
            ),
        ]
        # PostgreSQL also has a trigram index on UPPER(nickname) for the admin's search
        # (migration 0006_scale_indexes; pg_trgm), which Django's Meta cannot express.

    def __str__(self) -> str:
        return f"{self.nickname or self.appid}"

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE
