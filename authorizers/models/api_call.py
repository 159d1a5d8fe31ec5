from django.db import models

from .api_key import ApiKey
from .authorizer import Authorizer
from .merchant import Merchant


class ApiCall(models.Model):
    """One merchant API call, for operators. Openids are stored masked."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="api_calls")
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL)
    authorizer = models.ForeignKey(
        Authorizer, null=True, blank=True, on_delete=models.SET_NULL, related_name="api_calls"
    )
    authorizer_appid = models.CharField(max_length=64, blank=True, default="")
    endpoint = models.CharField(max_length=100)
    # "ok" or the API error code (e.g. "invalid_openid").
    result = models.CharField(max_length=40, db_index=True)
    status_code = models.PositiveSmallIntegerField()
    wechat_errcode = models.IntegerField(null=True, blank=True)
    rid = models.CharField(max_length=40, blank=True, default="")
    latency_ms = models.PositiveIntegerField(default=0)
    openid_masked = models.CharField(max_length=80, blank=True, default="")
    item_count = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["merchant", "-created_at"]),
            # The admin's filters, newest first, each read from its own index.
            models.Index(fields=["result", "-created_at"], name="apicall_result_recent_idx"),
            models.Index(fields=["endpoint", "-created_at"], name="apicall_endpoint_recent_idx"),
            # An account's recent calls: those linked to it, and those logged before it was
            # stored (its appid only; the partial index holds only those).
            models.Index(
                fields=["authorizer", "-created_at"], name="apicall_authorizer_recent_idx"
            ),
            models.Index(
                fields=["authorizer_appid", "-created_at"],
                condition=models.Q(authorizer__isnull=True),
                name="apicall_unlinked_recent_idx",
            ),
            # The call log's search by rid: only failed calls carry one.
            models.Index(fields=["rid"], condition=~models.Q(rid=""), name="apicall_rid_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.result}"
