import pytest
from django.core.management import call_command

from accounts.models import User
from clinic.models import CareLink
from titration.models import DoseLog

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_a_patient_three_weeks_in_shared_with_a_ready_clinician(capsys):
    call_command("seed_demo")
    call_command("seed_demo")  # running it again changes nothing
    patient = User.objects.get(email="demo.patient@example.org")
    clinician = User.objects.get(email="demo.clinician@example.org")
    assert patient.check_password("demo-patient-2026")
    assert patient.plans.get().planned_dose_on(patient.profile.local_today()).plan_day == 21
    assert DoseLog.objects.filter(patient=patient).count() == 19  # one day missed, tonight open
    assert CareLink.objects.filter(patient=patient, clinician=clinician).active().count() == 1
    assert clinician.authenticator_set.filter(type="totp").exists()
    assert "demo-clinician-2026" in capsys.readouterr().out


def test_seed_demo_prints_the_address_and_where_emails_go(capsys, settings):
    settings.SITE_URL = "http://127.0.0.1:8001"
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "Open http://127.0.0.1:8001/" in out
    assert "demo.patient@example.org / demo-patient-2026" in out
    assert "Emails (sign-up links, reminders): printed in this terminal" in out
