import io
import json
import zipfile

import pytest
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle

from symptoms.models import QuestionnaireResponse

from .conftest import NOW, Personas, add_history, audit_rows, login_redirect

pytestmark = pytest.mark.django_db
EXPORTS = ["export_pdf", "export_csv", "export_fhir"]


def url(name, patient):
    return reverse(f"clinic:{name}", args=[patient.pk])


@pytest.mark.parametrize("who", ["stranger", "colleague", "linked_patient"])
@pytest.mark.parametrize("name", EXPORTS)
def test_anyone_else_gets_404_and_a_denied_audit_row(client, request, linked_patient, name, who):
    user = request.getfixturevalue(who)
    assert Personas(client, url(name, linked_patient)).request(user).status_code == 404
    assert audit_rows(linked_patient)[-1].outcome == "denied"


@pytest.mark.parametrize("name", EXPORTS)
def test_anonymous_is_sent_to_log_in(client, linked_patient, name):
    assert login_redirect(Personas(client, url(name, linked_patient)).request(None))


def test_the_csv_zip_holds_the_patients_data_and_is_audited(client, linked_patient, doctor):
    add_history(linked_patient, days=10)
    response = Personas(client, url("export_csv", linked_patient)).request(doctor)
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert set(archive.namelist()) == {"doses.csv", "diary.csv", "questionnaires.csv"}
    assert audit_rows(linked_patient)[-1].action == "export_csv"


def test_the_pdf_report_is_a_pdf_and_is_audited(client, linked_patient, doctor):
    add_history(linked_patient, days=10)
    response = Personas(client, url("export_pdf", linked_patient)).request(doctor)
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")
    assert audit_rows(linked_patient)[-1].action == "export_pdf"


def test_the_fhir_bundle_is_valid_r4_with_every_resource_kind(client, linked_patient, doctor):
    add_history(linked_patient, days=10)
    linked_patient.dose_logs.filter(date=linked_patient.plans.get().start_date).update(
        status="skipped", skip_reason="Felt sick"
    )
    QuestionnaireResponse.objects.create(
        patient=linked_patient, kind="pgic", week=4, answers={"pgic": 5}, score=5, completed_at=NOW
    )
    response = Personas(client, url("export_fhir", linked_patient)).request(doctor)
    assert response["Content-Type"] == "application/fhir+json"
    data = json.loads(response.content)
    bundle = Bundle.model_validate(data)  # raises on anything R4(B) does not allow
    kinds = [entry.resource.get_resource_type() for entry in bundle.entry]
    assert kinds.count("MedicationStatement") == 1
    assert kinds.count("MedicationAdministration") == linked_patient.dose_logs.count()
    assert kinds.count("QuestionnaireResponse") == 1
    pain = [
        e["resource"]
        for e in data["entry"]
        if e["resource"]["resourceType"] == "Observation"
        and e["resource"]["code"]["coding"][0]["code"] == "72514-3"
    ]
    assert len(pain) == linked_patient.diary_entries.count()
    statuses = {
        e["resource"]["status"]
        for e in data["entry"]
        if e["resource"]["resourceType"] == "MedicationAdministration"
    }
    assert statuses == {"completed", "not-done"}
    assert audit_rows(linked_patient)[-1].action == "export_fhir"
