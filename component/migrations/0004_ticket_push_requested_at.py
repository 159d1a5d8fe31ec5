from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("component", "0003_event_pre_auth_code"),
    ]

    operations = [
        migrations.AddField(
            model_name="componentstate",
            name="ticket_push_requested_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
