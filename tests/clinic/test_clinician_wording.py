"""Clinician screens speak about the patient, and exports are named by patient and date."""

import pytest
from django.urls import reverse

from accounts.models import User
from tests.factories import onboarded_patient

from .conftest import TODAY, Personas, add_history, link

pytestmark = pytest.mark.django_db


def _named(email, first_name):
    patient = onboarded_patient(email=email)
    User.objects.filter(pk=patient.pk).update(first_name=first_name)
    patient.refresh_from_db()
    return patient


def test_the_patient_page_speaks_about_the_patient_not_to_them(client, linked_patient, doctor):
    add_history(linked_patient, days=21)
    page = Personas(client, reverse("clinic:patient_detail", args=[linked_patient.pk]))
    html = page.request(doctor).content.decode()
    assert "the patient&#x27;s baseline" in html
    for patient_voice in ["your baseline", "Your week", "your dose", "your plan"]:
        assert patient_voice not in html


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("export_pdf", 'attachment; filename="ldn-report-zoe-ann-2026-11-20.pdf"'),
        ("export_csv", 'attachment; filename="ldn-data-zoe-ann-2026-11-20.zip"'),
        ("export_fhir", 'attachment; filename="ldn-fhir-zoe-ann-2026-11-20.json"'),
    ],
)
def test_exports_are_named_by_patient_and_date_in_plain_ascii(
    client, frozen, doctor, name, expected
):
    patient = _named("zoe@example.org", "Zoë Ann")
    link(patient, clinician=doctor)
    add_history(patient, days=5)
    response = Personas(client, reverse(f"clinic:{name}", args=[patient.pk])).request(doctor)
    assert response.status_code == 200
    assert response["Content-Disposition"] == expected
    assert str(patient.pk) not in response["Content-Disposition"]


def test_a_name_with_no_latin_letters_still_gives_a_clean_filename(client, frozen, doctor):
    patient = _named("li@example.org", "李")
    link(patient, clinician=doctor)
    response = Personas(client, reverse("clinic:export_csv", args=[patient.pk])).request(doctor)
    assert response["Content-Disposition"] == (
        f'attachment; filename="ldn-data-patient-{TODAY:%Y-%m-%d}.zip"'
    )
