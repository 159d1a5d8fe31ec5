"""refresh_authorizer_tokens [--appid X] [--all]: refresh authorizer tokens now, for operators.

Without --all only tokens the sweep would take (expiring within the refresh margin) are
refreshed; --all refreshes every active one regardless. Each refresh takes the same row lock
as the workers, so running this next to them never makes a second call for one account.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from authorizers.models import Authorizer
from authorizers.selectors.tokens import authorizer_list_expiring, authorizer_list_refreshable
from authorizers.services.tokens.errors import RETRYABLE_RESULTS, RefreshResult
from authorizers.services.tokens.sweep import (
    authorizer_refresh_margin,
    authorizer_tokens_refresh_many,
    refresh_results_count,
)

_STOPPED = {RefreshResult.REAUTH_REQUIRED, RefreshResult.REVOKED}
_FAILED = RETRYABLE_RESULTS | {RefreshResult.ERROR}


class Command(BaseCommand):
    help = "Refresh authorizer access tokens now (only the expiring ones unless --all)."

    def add_arguments(self, parser):
        parser.add_argument("--appid", help="only this authorizer")
        parser.add_argument(
            "--all",
            action="store_true",
            dest="refresh_all",
            help="refresh even tokens that are not expiring yet",
        )

    def handle(self, *args, appid: str | None = None, refresh_all: bool = False, **options):
        ids = self._select(appid, force=refresh_all)
        appids = dict(Authorizer.objects.filter(pk__in=ids).values_list("pk", "appid"))
        if not ids:
            self.stdout.write("Nothing to refresh: no token expires within the margin.")
            return
        with tqdm(total=len(ids), unit="account", disable=not sys.stderr.isatty()) as bar:
            results = authorizer_tokens_refresh_many(
                authorizer_ids=ids, force=refresh_all, on_result=lambda _id, _result: bar.update()
            )
        self._report(results, appids)
        failed = sum(1 for r in results.values() if r in _FAILED)
        if failed:
            raise CommandError(f"{failed} refresh(es) failed; run the command again later")

    def _select(self, appid: str | None, *, force: bool) -> list[int]:
        if appid:
            authorizer = Authorizer.objects.filter(appid=appid).first()
            if authorizer is None:
                raise CommandError(f"no authorizer with appid {appid}")
            return [authorizer.pk]
        accounts = authorizer_list_refreshable() if force else authorizer_list_expiring(
            within=authorizer_refresh_margin()
        )  # fmt: skip
        return list(accounts.values_list("pk", flat=True))

    def _report(self, results: dict[int, RefreshResult], appids: dict[int, str]) -> None:
        counts = refresh_results_count(results)
        self.stdout.write(f"{len(results)} authorizer(s):")
        for result, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            self.stdout.write(f"  {result:<22} {count}")
        for pk, result in sorted(results.items(), key=lambda item: appids.get(item[0], "")):
            if result in _FAILED:
                self.stderr.write(f"  {appids.get(pk, pk)}: {result} (try again later)")
            elif result in _STOPPED:
                self.stderr.write(
                    f"  {appids.get(pk, pk)}: {result}: the merchant must authorize again"
                )
