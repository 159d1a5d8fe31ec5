import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def open_conflicts_owner(apps, schema_editor):
    """An open conflict is about the account's owner as it is now (the best known)."""
    OwnershipConflict = apps.get_model("authorizers", "OwnershipConflict")
    Authorizer = apps.get_model("authorizers", "Authorizer")
    OwnershipConflict.objects.filter(resolved_at__isnull=True).update(
        owner_id=Subquery(
            Authorizer.objects.filter(pk=OuterRef("authorizer_id")).values("merchant_id")[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("authorizers", "0003_quota"),
    ]

    operations = [
        migrations.AddField(
            model_name="ownershipconflict",
            name="owner",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="authorizers.merchant",
                verbose_name="owner when claimed",
            ),
        ),
        migrations.RunPython(open_conflicts_owner, migrations.RunPython.noop),
    ]
