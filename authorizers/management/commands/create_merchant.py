"""create_merchant NAME [--json]: a merchant, its first API key (shown once), its invite link."""

import json
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from authorizers.models import Merchant
from authorizers.services.api_keys import api_key_create
from authorizers.services.onboarding.invites import (
    UNASSIGNED_MERCHANT_NAME,
    invite_create,
    invite_url,
)


class Command(BaseCommand):
    help = "Create a merchant and an API key; print the key (once) and the authorization link."

    def add_arguments(self, parser):
        parser.add_argument("name", help="the merchant's display name")
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args, name: str, json: bool = False, **options):
        name = name.strip()
        if not name or len(name) > 200:
            raise CommandError("NAME must be 1 to 200 characters")
        if name == UNASSIGNED_MERCHANT_NAME:
            raise CommandError(f'"{UNASSIGNED_MERCHANT_NAME}" is reserved for unclaimed accounts')
        with transaction.atomic():
            merchant = Merchant.objects.create(name=name)
            api_key, raw_key = api_key_create(merchant=merchant, name="initial")
        url = invite_url(invite=invite_create(merchant=merchant))
        expires = timezone.now() + timedelta(seconds=settings.INVITE_MAX_AGE_SECONDS)
        if json:
            self.stdout.write(_dumps(merchant, api_key.prefix, raw_key, url, expires))
            return
        self.stdout.write(f'Merchant "{merchant.name}" created (id {merchant.pk}).')
        self.stdout.write("API key (shown only now, store it safely):")
        self.stdout.write(f"  {raw_key}")
        self.stdout.write(f"Authorization link (valid until {expires:%Y-%m-%d %H:%M} UTC):")
        self.stdout.write(f"  {url}")


def _dumps(merchant, prefix, raw_key, url, expires) -> str:
    return json.dumps(
        {
            "merchant_id": merchant.pk,
            "name": merchant.name,
            "api_key": raw_key,
            "api_key_prefix": prefix,
            "invite_url": url,
            "invite_expires_at": expires.isoformat(),
        },
        ensure_ascii=False,
    )
