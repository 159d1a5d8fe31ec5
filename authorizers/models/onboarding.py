from django.db import models

from .authorizer import Authorizer
from .merchant import Merchant


class AuthorizationAttempt(models.Model):
    """A pre_auth_code that `/authorize/<invite>/start/` obtained, and whose invite it was.

    WeChat's `authorized` push carries the PreAuthCode of the authorization page the admin
    confirmed on: matching it here is the only proof of which merchant an authorization
    belongs to when the push, not the browser callback, exchanges the code.
    """

    pre_auth_code_sha256 = models.CharField(max_length=64, unique=True)
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"attempt for merchant {self.merchant_id}"


class OwnershipConflict(models.Model):
    """An active account was authorized through another merchant's invite: it stayed put.

    Operators decide: transfer it to the claimant, or dismiss the claim.
    """

    authorizer = models.ForeignKey(Authorizer, on_delete=models.CASCADE, related_name="+")
    claimant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    # Who owned the account when the claim was refused: the conflict is about that ownership
    # only, and is closed once the account belongs to anyone else.
    owner = models.ForeignKey(
        Merchant,
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
        verbose_name="owner when claimed",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["authorizer", "claimant"],
                condition=models.Q(resolved_at__isnull=True),
                name="one_open_conflict_per_claim",
            )
        ]

    def __str__(self) -> str:
        return f"{self.authorizer} claimed by {self.claimant}"


class RefreshIntent(models.Model):
    """Written (and committed) before a refresh calls WeChat; deleted with the new tokens.

    One left behind means WeChat may have answered (and rotated the refresh token) while the
    answer never reached the row: a crash, or a failed commit. The sweep forces a refresh of
    such an account inside WeChat's grace period for the rotated-out token.
    """

    authorizer = models.ForeignKey(Authorizer, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"refresh of {self.authorizer_id} at {self.started_at:%Y-%m-%d %H:%M:%S}"
