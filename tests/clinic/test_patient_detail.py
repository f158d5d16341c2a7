import datetime as dt

import pytest
from django.urls import reverse

from clinic.models import Alert, AuditEvent, ClinicianNote
from clinic.services import alerts_evaluate, care_link_revoke

from .conftest import TODAY, Personas, add_history, audit_rows, link, login_redirect

pytestmark = pytest.mark.django_db


@pytest.fixture
def url(linked_patient):
    return reverse("clinic:patient_detail", args=[linked_patient.pk])


def test_the_linked_clinician_sees_the_record_and_it_is_audited(
    client, linked_patient, doctor, url
):
    add_history(linked_patient, days=21)
    response = Personas(client, url).request(doctor)
    assert response.status_code == 200
    body = response.content.decode()
    assert "alex@example.org" in body
    assert 'id="patient-figure-summary"' in body  # the patient's charts
    assert "Dose timeline" in body
    [row] = audit_rows(linked_patient)
    assert (row.actor_id, row.action, row.outcome) == (doctor.pk, "view", "allowed")
    assert row.ip_address == "127.0.0.1"


@pytest.mark.parametrize("who", ["stranger", "colleague", "other_patient", "linked_patient"])
def test_anyone_else_gets_404_and_a_denied_audit_row(client, request, linked_patient, url, who):
    user = request.getfixturevalue(who)
    assert Personas(client, url).request(user).status_code == 404
    [row] = audit_rows(linked_patient)
    assert (row.actor_id, row.outcome) == (user.pk, "denied")


def test_anonymous_is_sent_to_log_in_and_nothing_is_shown(client, linked_patient, url):
    assert login_redirect(Personas(client, url).request(None))


def test_a_clinic_link_lets_every_approved_clinician_there_see(
    client, linked_patient, colleague, clinic, url
):
    link(linked_patient, clinic=clinic)
    assert Personas(client, url).request(colleague).status_code == 200


def test_revoking_is_effective_on_the_next_request(client, linked_patient, doctor, url):
    personas = Personas(client, url)
    assert personas.request(doctor).status_code == 200
    care_link_revoke(link=linked_patient.care_links.get(), by=linked_patient)
    assert client.get(url).status_code == 404
    assert [r.outcome for r in audit_rows(linked_patient)] == ["allowed", "denied"]


def test_an_unknown_patient_id_is_404_and_audited(client, doctor):
    Personas(client, reverse("clinic:patient_detail", args=[999999])).request(doctor)
    assert AuditEvent.objects.get(patient_id=999999).outcome == "denied"


def test_it_shows_alerts_notes_and_filters_the_diary(client, linked_patient, doctor, url):
    add_history(linked_patient, days=21)
    linked_patient.diary_entries.filter(date=TODAY - dt.timedelta(days=2)).update(
        headache=3, notes="Bad night", share_notes=True
    )
    alerts_evaluate(patient=linked_patient)
    assert Alert.objects.filter(rule="severe_side_effect").exists()
    ClinicianNote.objects.create(patient=linked_patient, author=doctor, text="Discussed dreams")
    client = Personas(client, url).client
    body = Personas(client, url + "?show=side_effects").request(doctor).content.decode()
    assert "Severe side effect" in body
    assert "Discussed dreams" in body
    assert "Bad night" in body
    assert body.count('<th scope="row">') == 1  # one diary day with moderate+ side effects


def test_plan_dose_adherence_and_response_lead_and_alert_settings_are_folded_away(
    client, linked_patient, doctor, url
):
    add_history(linked_patient, days=21)
    body = Personas(client, url).request(doctor).content.decode()
    order = [
        body.index('id="plan-now"'),
        body.index("4.5 mg, capsules"),  # tonight's dose, from the dose decision
        body.index("Adherence, 7 days"),
        body.index('id="response"'),
        body.index('id="alerts-heading"'),
        body.index('id="charts-heading"'),
        body.index('id="alert-settings-heading"'),
    ]
    assert order == sorted(order)
    settings_at = body.index('id="alert-settings"')
    assert body.index("<details", settings_at) < body.index("Save alert settings", settings_at)
    assert "<details open" not in body


def test_the_clinician_does_not_get_the_patients_footer(client, linked_patient, doctor, url):
    body = Personas(client, url).request(doctor).content.decode()
    assert "contact your prescriber" not in body


def test_a_bad_alert_setting_opens_the_folded_form_with_its_message(client, linked_patient, doctor):
    response = Personas(
        client,
        reverse("clinic:alert_settings", args=[linked_patient.pk]),
        method="post",
        data={"missed_in_a_row": "0"},
    ).request(doctor)
    body = response.content.decode()
    assert "<details open" in body
