"""Health data on the admin site is audited as a clinician's views are: each list page, each
record opened, each change and deletion writes audit rows naming the administrator."""

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from clinic.models import Alert, AuditEvent, Clinic
from symptoms.models import DiaryEntry
from titration.models import DoseLog

from .conftest import TODAY, link, mfa_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator(db):
    user = User.objects.create_superuser(email="admin@example.org", password="x" * 16)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    user.totp_secret = generate_totp_secret()
    TOTP.activate(user, user.totp_secret)
    return user


@pytest.fixture
def admin_client(client, administrator):
    return mfa_login(client, administrator)


@pytest.fixture
def diary(patient):
    return DiaryEntry.objects.create(patient=patient, date=TODAY, pain=7, notes="Bad night")


@pytest.fixture
def dose(patient):
    plan = patient.plans.get()
    return DoseLog.objects.create(
        patient=patient,
        plan=plan,
        date=plan.start_date,
        status=DoseLog.Status.SKIPPED,
        dose_mg=plan.planned_dose_on(plan.start_date).dose_mg,
        skip_reason="Felt sick",
        logged_at=timezone.now(),
    )


def rows(**filters):
    return list(
        AuditEvent.objects.filter(**filters)
        .order_by("id")
        .values_list("actor_id", "patient_id", "action", "outcome", "path")
    )


def test_a_list_of_diary_entries_writes_a_row_per_patient_on_the_page(
    admin_client, administrator, diary, other_patient
):
    DiaryEntry.objects.create(patient=other_patient, date=TODAY, pain=3)
    url = reverse("admin:symptoms_diaryentry_changelist")
    assert admin_client.get(url, {"q": "alex"}).status_code == 200
    assert rows() == [(administrator.pk, diary.patient_id, "admin_list", "allowed", url)]
    admin_client.get(url)
    assert {row[1] for row in rows()[1:]} == {diary.patient_id, other_patient.pk}


def test_opening_a_diary_entry_writes_a_view_row(admin_client, administrator, diary):
    url = reverse("admin:symptoms_diaryentry_change", args=[diary.pk])
    assert admin_client.get(url).status_code == 200
    assert rows() == [(administrator.pk, diary.patient_id, "admin_view", "allowed", url)]


def test_changing_a_dose_writes_a_change_row(admin_client, administrator, dose):
    url = reverse("admin:titration_doselog_change", args=[dose.pk])
    admin_client.get(url)
    response = admin_client.post(
        url,
        {
            "patient": dose.patient_id,
            "plan": dose.plan_id,
            "date": dose.date.isoformat(),
            "status": "skipped",
            "dose_mg": f"{dose.dose_mg}",
            "skip_reason": "Forgot",
            "source": dose.source,
            "logged_at_0": dose.logged_at.strftime("%Y-%m-%d"),
            "logged_at_1": dose.logged_at.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    dose.refresh_from_db()
    assert dose.skip_reason == "Forgot"
    assert [r[2] for r in rows(patient_id=dose.patient_id)] == ["admin_view", "admin_change"]


def test_deleting_a_diary_entry_writes_a_change_row(admin_client, administrator, diary):
    url = reverse("admin:symptoms_diaryentry_delete", args=[diary.pk])
    admin_client.get(url)
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not DiaryEntry.objects.exists()
    assert rows()[-1][:3] == (administrator.pk, diary.patient_id, "admin_change")


def test_profiles_plans_and_alerts_are_audited_too(admin_client, patient):
    alert = Alert.objects.create(
        patient=patient, rule=Alert.Rule.choices[0][0], urgency=1, episode=TODAY
    )
    for name, pk in [
        ("admin:accounts_patientprofile_change", patient.profile.pk),
        ("admin:titration_plan_change", patient.plans.get().pk),
        ("admin:titration_safetyscreening_changelist", None),
        ("admin:clinic_alert_change", alert.pk),
    ]:
        url = reverse(name, args=[pk] if pk else [])
        assert admin_client.get(url).status_code == 200
    assert [r[1:3] for r in rows()] == [
        (patient.pk, "admin_view"),
        (patient.pk, "admin_view"),
        (patient.pk, "admin_list"),
        (patient.pk, "admin_view"),
    ]


def test_the_patient_sees_the_administrators_look_on_who_viewed_my_record(
    client, admin_client, diary, patient
):
    admin_client.get(reverse("admin:symptoms_diaryentry_change", args=[diary.pk]))
    client.logout()
    client.force_login(patient)
    page = client.get(reverse("clinic:sharing_log")).content.decode()
    assert "opened on the admin site" in page


def test_admin_pages_without_health_data_write_no_rows(admin_client, doctor, patient):
    link(patient, clinician=doctor)
    admin_client.get(reverse("admin:clinic_clinic_changelist"))
    admin_client.get(reverse("admin:clinic_clinic_change", args=[Clinic.objects.get().pk]))
    assert rows() == []
