from django.db import models

from .authorizer import Authorizer


class QuotaReading(models.Model):
    """The last quota/get answer for one API of one account: what the admin's bars and the
    dashboard's "above 80%" list show without asking WeChat on every page."""

    authorizer = models.ForeignKey(Authorizer, on_delete=models.CASCADE, related_name="+")
    api = models.CharField(max_length=128)
    daily_limit = models.BigIntegerField()
    used = models.BigIntegerField()
    remain = models.BigIntegerField()
    checked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["authorizer", "api"], name="one_reading_per_api")
        ]

    def __str__(self) -> str:
        return f"{self.api}: {self.used} of {self.daily_limit}"

    @property
    def share_used(self) -> float:
        return self.used / self.daily_limit if self.daily_limit else 0.0
