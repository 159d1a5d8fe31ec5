"""clear_authorizer_quota APPID: reset an account's WeChat daily quotas (clear_quota/v2)."""

from django.core.management.base import BaseCommand, CommandError

from authorizers.models import Authorizer
from authorizers.services.quota.readings import QUOTA_RESETS_PER_MONTH, authorizer_quota_clear
from wechat.errors import WeChatError, WeChatQuotaResetLimit


class Command(BaseCommand):
    help = "Reset an authorizer's WeChat API quotas (10 resets per account per month)."

    def add_arguments(self, parser):
        parser.add_argument("appid")

    def handle(self, *args, appid: str, **options):
        authorizer = Authorizer.objects.filter(appid=appid).first()
        if authorizer is None:
            raise CommandError(f"no authorizer with appid {appid}")
        try:
            used = authorizer_quota_clear(authorizer_id=authorizer.pk)
        except WeChatQuotaResetLimit:
            raise CommandError(
                f"WeChat refused: {appid} used all {QUOTA_RESETS_PER_MONTH} quota resets of this "
                "month (48006). Quotas reset on their own at midnight, China time."
            ) from None
        except WeChatError as exc:
            raise CommandError(f"WeChat refused the reset: {exc}") from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{appid}: quotas reset; {used} of {QUOTA_RESETS_PER_MONTH} resets used this month"
            )
        )
