"""explain_rid APPID RID: what WeChat recorded for one of the account's calls, as JSON."""

import json

from django.core.management.base import BaseCommand, CommandError

from authorizers.models import Authorizer
from authorizers.services.quota.readings import authorizer_rid_explain
from authorizers.services.tokens.errors import AuthorizerTokenRefreshError, AuthorizerUnavailable
from wechat.errors import WeChatError, WeChatRidUnknown


class Command(BaseCommand):
    help = "Ask WeChat (openapi/rid/get) what it recorded for a rid; secrets masked."

    def add_arguments(self, parser):
        parser.add_argument("appid")
        parser.add_argument("rid")

    def handle(self, *args, appid: str, rid: str, **options):
        authorizer = Authorizer.objects.filter(appid=appid).first()
        if authorizer is None:
            raise CommandError(f"no authorizer with appid {appid}")
        try:
            request = authorizer_rid_explain(authorizer_id=authorizer.pk, rid=rid)
        except WeChatRidUnknown as exc:
            raise CommandError(
                f"WeChat knows no such call of {appid} ({exc.errcode}): rids are kept 7 days, "
                "and only for the account that made the call"
            ) from None
        except (AuthorizerUnavailable, AuthorizerTokenRefreshError) as exc:
            raise CommandError(f"{appid} has no usable token: {exc}") from None
        except WeChatError as exc:
            raise CommandError(f"WeChat refused: {exc}") from None
        self.stdout.write(json.dumps(request, ensure_ascii=False, indent=2, sort_keys=True))
