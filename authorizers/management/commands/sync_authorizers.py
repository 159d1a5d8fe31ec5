"""sync_authorizers: import every account WeChat says has authorized the platform."""

import sys

from django.core.management.base import BaseCommand, CommandError

from authorizers.services.onboarding.invites import UNASSIGNED_MERCHANT_NAME
from authorizers.services.sync import ImportSummary, authorizers_import_all
from component.services.token import ComponentTicketMissing
from wechat.errors import WeChatError


class Command(BaseCommand):
    help = "Import every authorizer via api_get_authorizer_list, then sync each one's info."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-info", action="store_true", help="skip api_get_authorizer_info per account"
        )

    def handle(self, *args, no_info: bool = False, **options):
        bar = None
        progress = None
        if _is_tty(self.stdout):
            from tqdm import tqdm

            bar = tqdm(unit="account", desc="authorizers", file=sys.stderr)

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

        try:
            summary = authorizers_import_all(sync_info=not no_info, on_progress=progress)
        except ComponentTicketMissing as exc:
            raise CommandError(str(exc)) from None
        except WeChatError as exc:
            raise CommandError(f"WeChat refused the authorizer list: {exc}") from None
        finally:
            if bar is not None:
                bar.close()
        self._report(summary)

    def _report(self, s: ImportSummary) -> None:
        out = self.stdout.write
        out(f"WeChat lists {s.total} authorizer(s); processed {s.seen}.")
        out(f"  created: {s.created}, updated: {s.updated}, unchanged: {s.unchanged}")
        if s.unassigned:
            out(
                f"  {len(s.unassigned)} new account(s) have no merchant yet, so they went under "
                f'the merchant "{UNASSIGNED_MERCHANT_NAME}"; assign them in the admin: '
                + ", ".join(s.unassigned)
            )
        if s.without_refresh_token:
            out(
                f"  {len(s.without_refresh_token)} account(s) skipped: WeChat has no refresh token "
                "for them (authorization never completed; the merchant must authorize again): "
                + ", ".join(s.without_refresh_token)
            )
        if s.info_failed:
            out("  account info could not be fetched for: " + ", ".join(s.info_failed))


def _is_tty(stream) -> bool:
    target = getattr(stream, "_out", stream)
    return hasattr(target, "isatty") and target.isatty()
