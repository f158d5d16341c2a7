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
    assert set(archive.namelist()) == {"README.txt", "doses.csv", "diary.csv", "questionnaires.csv"}
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
    assert bundle.type == "transaction"
    kinds = [entry.resource.get_resource_type() for entry in bundle.entry]
    assert kinds.count("MedicationRequest") == 1
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


def test_a_document_bundle_is_given_when_asked_for(client, linked_patient, doctor):
    add_history(linked_patient, days=10)
    export = url("export_fhir", linked_patient) + "?type=document"
    data = json.loads(Personas(client, export).request(doctor).content)
    assert Bundle.model_validate(data).type == "document"
    assert data["entry"][0]["resource"]["resourceType"] == "Composition"


def test_the_record_number_a_clinician_enters_goes_into_the_fhir_patient(
    client, linked_patient, doctor
):
    identity = url("patient_identity", linked_patient)
    saved = Personas(
        client, identity, "post", {"mrn": " RX 0042 ", "date_of_birth": "1980-05-17"}
    ).request(doctor)
    assert saved.status_code == 302
    assert audit_rows(linked_patient)[-1].action == "identity"
    data = json.loads(client.get(url("export_fhir", linked_patient)).content)
    patient = data["entry"][0]["resource"]
    assert patient["birthDate"] == "1980-05-17"
    (mrn,) = [i for i in patient["identifier"] if i.get("type")]
    assert mrn["value"] == "RX 0042"
    assert mrn["assigner"] == {"display": "Dr Lee"}
    page = client.get(reverse("clinic:patient_detail", args=[linked_patient.pk]))
    assert 'value="RX 0042"' in page.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mrn": "<script>", "date_of_birth": ""}, "Use letters, numbers"),
        ({"mrn": "", "date_of_birth": "2030-01-01"}, "can&#x27;t be in the future"),
        ({"mrn": "", "date_of_birth": "17/05/80x"}, "Enter a valid date"),
    ],
)
def test_a_bad_record_number_or_birth_date_is_explained_beside_the_field(
    client, linked_patient, doctor, data, message
):
    response = Personas(client, url("patient_identity", linked_patient), "post", data).request(
        doctor
    )
    assert response.status_code == 200  # the page again, as the alert settings form does
    assert message in response.content.decode()
    linked_patient.profile.refresh_from_db()
    assert linked_patient.profile.date_of_birth is None


@pytest.mark.parametrize("who", ["stranger", "colleague", "linked_patient"])
def test_no_one_else_can_enter_a_record_number(client, request, linked_patient, who):
    user = request.getfixturevalue(who)
    data = {"mrn": "X1", "date_of_birth": ""}
    response = Personas(client, url("patient_identity", linked_patient), "post", data).request(user)
    assert response.status_code == 404
    assert audit_rows(linked_patient)[-1].outcome == "denied"
