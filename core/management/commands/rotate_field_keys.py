"""Re-encrypts every encrypted column with the first FIELD_ENCRYPTION_KEYS key.

Rotation: prepend the new key, deploy, run this, then drop the old key.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from core.fields import EncryptedTextField


class Command(BaseCommand):
    help = "Re-encrypt stored secrets with the newest FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args, **options) -> None:
        total = 0
        for model in apps.get_models():
            fields = [f.name for f in model._meta.fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            for pk in model.objects.values_list("pk", flat=True).iterator():
                # Reading decrypts with any key; update() encrypts with the first one. The
                # row lock keeps a concurrent token refresh from being overwritten.
                with transaction.atomic():
                    row = model.objects.select_for_update().filter(pk=pk)
                    stored = row.values_list(*fields).first()
                    if stored is None:
                        continue
                    updates = {n: v for n, v in zip(fields, stored, strict=True) if v}
                    if updates:
                        row.update(**updates)
                        total += 1
            self.stdout.write(f"{model._meta.label}: {', '.join(fields)}")
        self.stdout.write(self.style.SUCCESS(f"{total} rows re-encrypted with the newest key"))
