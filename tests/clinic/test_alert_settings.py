"""The "Alert settings" form on a patient's record: only a linked clinician may change a
patient's thresholds; each change is audited and the alerts are checked again at once."""

from decimal import Decimal

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from clinic import alert_rules
from clinic.forms import AlertThresholdsForm
from clinic.models import AlertThresholds
from tests.security.test_fuzz_patient_forms import FUZZ, HOSTILE

from .conftest import NOW, Personas, audit_rows, link, login_redirect, mfa_login

pytestmark = pytest.mark.django_db

VALID = {
    "persistent_days": "2",
    "pain_points": "1.5",
    "pain_percent": "20",
    "missed_in_a_row": "5",
    "quiet_days": "10",
}


@pytest.fixture
def url(linked_patient):
    return reverse("clinic:alert_settings", args=[linked_patient.pk])


def detail(patient):
    return reverse("clinic:patient_detail", args=[patient.pk])


def test_the_linked_clinician_saves_the_thresholds_and_it_is_audited(
    client, linked_patient, doctor, url
):
    response = Personas(client, url, "post", VALID).request(doctor)
    assert response.status_code == 302
    assert response["Location"] == detail(linked_patient) + "#alert-settings"
    row = AlertThresholds.objects.get(patient=linked_patient)
    assert (
        row.persistent_days,
        row.pain_points,
        row.pain_percent,
        row.missed_in_a_row,
        row.quiet_days,
    ) == (2, Decimal("1.5"), 20, 5, 10)
    assert (row.changed_by, row.changed_at) == (doctor, NOW)
    [event] = audit_rows(linked_patient)
    assert (event.actor_id, event.action, event.outcome) == (doctor.pk, "alert_settings", "allowed")


def test_the_record_shows_the_form_with_the_defaults_and_the_saved_values(
    client, linked_patient, doctor
):
    mfa_login(client, doctor)
    body = client.get(detail(linked_patient)).content.decode()
    assert "Alert settings" in body
    for default in ("Default: 3 days", "Default: 2 points", "Default: 30%", "Default: 3 doses"):
        assert default in body
    AlertThresholds.objects.create(patient=linked_patient, quiet_days=12, changed_by=doctor)
    response = client.get(detail(linked_patient))
    assert response.context["thresholds_form"]["quiet_days"].value() == 12
    assert 'name="quiet_days" value="12"' in response.content.decode()
    assert "Last changed by Dr Lee" in response.content.decode()


def test_a_colleague_reaching_the_patient_through_the_clinic_may_change_them(
    client, linked_patient, colleague, clinic, url
):
    link(linked_patient, clinic=clinic)
    assert Personas(client, url, "post", VALID).request(colleague).status_code == 302
    assert AlertThresholds.objects.get().changed_by == colleague


@pytest.mark.parametrize("who", ["stranger", "colleague", "other_patient", "linked_patient"])
def test_anyone_else_gets_404_and_nothing_changes(client, request, linked_patient, url, who):
    user = request.getfixturevalue(who)
    assert Personas(client, url, "post", VALID).request(user).status_code == 404
    assert not AlertThresholds.objects.exists()
    [event] = audit_rows(linked_patient)
    assert (event.actor_id, event.outcome) == (user.pk, "denied")


def test_anonymous_is_sent_to_log_in(client, linked_patient, url):
    assert login_redirect(Personas(client, url, "post", VALID).request(None))
    assert not AlertThresholds.objects.exists()


def test_a_revoked_link_is_a_404_on_the_next_request(client, linked_patient, doctor, url):
    linked_patient.care_links.update(revoked_at=NOW)
    assert Personas(client, url, "post", VALID).request(doctor).status_code == 404
    assert not AlertThresholds.objects.exists()


def test_the_form_only_takes_a_post(client, doctor, url):
    assert Personas(client, url).request(doctor).status_code == 405


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("persistent_days", "1", "from 2 to 14 days"),
        ("persistent_days", "15", "from 2 to 14 days"),
        ("persistent_days", "2.5", "a whole number from 2 to 14 days"),
        ("persistent_days", "three", "a whole number from 2 to 14 days"),
        ("pain_points", "0.4", "from 0.5 to 5 points"),
        ("pain_points", "5.1", "from 0.5 to 5 points"),
        ("pain_points", "2.55", "one decimal place at most"),
        ("pain_points", "NaN", "from 0.5 to 5 points"),
        ("pain_points", "1e9", "from 0.5 to 5 points"),
        ("pain_points", "-inf", "from 0.5 to 5 points"),
        ("pain_percent", "9", "from 10 to 100%"),
        ("pain_percent", "101", "from 10 to 100%"),
        ("missed_in_a_row", "0", "from 1 to 14 doses"),
        ("quiet_days", "-1", "from 2 to 30 days"),
        ("quiet_days", "99999999999999999999999", "from 2 to 30 days"),
    ],
)
def test_a_bad_value_is_explained_next_to_its_field_and_nothing_is_saved(
    client, linked_patient, doctor, url, field, value, message
):
    AlertThresholds.objects.create(patient=linked_patient, quiet_days=12)
    mfa_login(client, doctor)
    response = client.post(url, {**VALID, field: value})
    assert response.status_code == 200  # the record again, with the message
    form = response.context["thresholds_form"]
    assert list(form.errors) == [field]
    assert message in form.errors[field][0]
    body = response.content.decode()
    assert 'aria-invalid="true"' in body or "is-invalid" in body
    assert message in body.replace("&#x27;", "'")
    row = AlertThresholds.objects.get()
    assert (row.quiet_days, row.persistent_days) == (12, None)


def test_a_trailing_zero_is_not_a_second_decimal_place(client, linked_patient, doctor, url):
    mfa_login(client, doctor)
    assert client.post(url, {"pain_points": "2.50"}).status_code == 302
    assert AlertThresholds.objects.get().pain_points == Decimal("2.5")


def test_emptying_the_fields_goes_back_to_the_defaults(client, linked_patient, doctor, url):
    AlertThresholds.objects.create(patient=linked_patient, quiet_days=12, missed_in_a_row=5)
    mfa_login(client, doctor)
    assert client.post(url, {"quiet_days": "", "missed_in_a_row": ""}).status_code == 302
    assert AlertThresholds.objects.get().adjusted() == {}


def test_fields_naming_another_patient_are_ignored(
    client, linked_patient, other_patient, doctor, url
):
    mfa_login(client, doctor)
    client.post(url, {**VALID, "patient": other_patient.pk, "patient_id": other_patient.pk})
    assert list(AlertThresholds.objects.values_list("patient_id", flat=True)) == [linked_patient.pk]


@FUZZ
@given(field=st.sampled_from(alert_rules.ADJUSTABLE), value=HOSTILE)
def test_whatever_is_typed_the_form_accepts_only_values_within_bounds(field, value):
    form = AlertThresholdsForm({field: value})
    if form.is_valid():
        saved = form.cleaned_data[field]
        low, high = alert_rules.BOUNDS[field]
        assert saved is None or low <= saved <= high
    else:
        assert list(form.errors) == [field]
        assert "Enter" in form.errors[field][0] or "decimal place" in form.errors[field][0]
