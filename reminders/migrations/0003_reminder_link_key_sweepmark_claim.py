import secrets

from django.db import migrations, models

import reminders.models


def link_keys_fill(apps, schema_editor):
    Reminder = apps.get_model("reminders", "Reminder")
    batch = []
    for reminder in Reminder.objects.filter(link_key=None).only("pk").iterator(chunk_size=2000):
        reminder.link_key = secrets.token_urlsafe(16)
        batch.append(reminder)
        if len(batch) == 2000:
            Reminder.objects.bulk_update(batch, ["link_key"])
            batch = []
    Reminder.objects.bulk_update(batch, ["link_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("reminders", "0002_due_patient_indexes"),
    ]

    operations = [
        # Null first, then one random key per existing row, then required and unique: a
        # default would give every existing row the same key.
        migrations.AddField(
            model_name="reminder",
            name="link_key",
            field=models.CharField(editable=False, max_length=24, null=True),
        ),
        migrations.RunPython(link_keys_fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="reminder",
            name="link_key",
            field=models.CharField(
                default=reminders.models.new_link_key, editable=False, max_length=24
            ),
        ),
        migrations.AddConstraint(
            model_name="reminder",
            constraint=models.UniqueConstraint(
                fields=("link_key",), name="reminder_link_key_unique"
            ),
        ),
        migrations.AddField(
            model_name="sweepmark",
            name="claim_token",
            field=models.UUIDField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="sweepmark",
            name="claimed_until",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
