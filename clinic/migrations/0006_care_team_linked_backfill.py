from django.db import migrations


def backfill(apps, schema_editor):
    CareLink = apps.get_model("clinic", "CareLink")
    PatientProfile = apps.get_model("accounts", "PatientProfile")
    linked = CareLink.objects.filter(accepted_at__isnull=False, revoked_at__isnull=True)
    PatientProfile.objects.filter(user_id__in=linked.values("patient_id")).update(
        care_team_linked=True
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_care_team_linked"),
        ("clinic", "0005_alert_review_mark"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
