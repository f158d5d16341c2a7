import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from clinic import searches
from clinic.models import Alert, AuditEvent, PatientSummary
from clinic.services import alerts_evaluate, care_link_revoke
from tests.factories import onboarded_patient

from .conftest import TODAY, Personas, add_history, link, login_redirect, mfa_login

pytestmark = pytest.mark.django_db
URL = reverse("clinic:panel")


def linked(doctor, email, *, days=21, pain=5, first_name=None, **history):
    patient = onboarded_patient(email=email, start_date=TODAY - dt.timedelta(days=days - 1))
    if first_name:
        patient.first_name = first_name
        patient.save(update_fields=["first_name"])
    link(patient, clinician=doctor)
    add_history(patient, days=days, pain=pain, **history)
    alerts_evaluate(patient=patient)
    return patient


def names(response):
    return [row.patient.email for row in response.context["rows"]]


def test_the_panel_lists_linked_patients_with_their_figures_and_audits_each(
    client, frozen, doctor, stranger
):
    alex = linked(doctor, "alex@example.org")
    linked(stranger, "sam@example.org")
    response = Personas(client, URL).request(doctor)
    assert response.status_code == 200
    assert names(response) == ["alex@example.org"]
    summary = PatientSummary.objects.get(patient=alex)
    assert summary.plan_day == 21
    assert summary.adherence_7 == 100
    assert summary.step_status == "on_track"
    body = response.content.decode()
    assert "4.5 mg" in body and "On track" in body and "100%" in body
    [row] = AuditEvent.objects.filter(action="panel")
    assert (row.actor_id, row.patient_id, row.outcome) == (doctor.pk, alex.pk, "allowed")


@pytest.mark.parametrize("who", ["patient", "clinician"])
def test_patients_and_unapproved_clinicians_do_not_get_the_panel(client, request, who):
    user = request.getfixturevalue(who)
    response = Personas(client, URL).request(user)
    if who == "patient":
        assert response.status_code == 404
    else:  # a clinician is sent to set up two-factor authentication first
        assert response.status_code == 302


def test_an_unapproved_clinician_with_mfa_waits_for_approval(client, clinician):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from clinic.models import ClinicianMembership

    ClinicianMembership.objects.create(clinician=clinician)
    TOTP.activate(clinician, generate_totp_secret())
    response = mfa_login(client, clinician).get(URL)
    assert response["Location"] == reverse("clinic:clinician_pending")


def test_anonymous_is_sent_to_log_in(client):
    assert login_redirect(client.get(URL))


def test_revoked_patients_leave_the_panel_on_the_next_request(client, frozen, doctor):
    alex = linked(doctor, "alex@example.org")
    mfa_login(client, doctor)
    assert names(client.get(URL)) == ["alex@example.org"]
    care_link_revoke(link=alex.care_links.get(), by=alex)
    assert names(client.get(URL)) == []


def test_needs_attention_first_by_urgency_then_age(client, frozen, doctor):
    calm = linked(doctor, "calm@example.org", first_name="Aaron")
    quiet = linked(doctor, "quiet@example.org", first_name="Beth")
    severe = linked(doctor, "severe@example.org", first_name="Cara")
    older = linked(doctor, "older@example.org", first_name="Dan")
    now = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
    Alert.objects.create(patient=quiet, rule="gone_quiet", urgency=4, episode=TODAY, opened_at=now)
    Alert.objects.create(
        patient=severe, rule="severe_side_effect", urgency=2, episode=TODAY, opened_at=now
    )
    Alert.objects.create(
        patient=older,
        rule="persistent_side_effects",
        urgency=2,
        episode=TODAY,
        opened_at=now - dt.timedelta(days=2),
    )
    response = mfa_login(client, doctor).get(URL)
    assert names(response) == [older.email, severe.email, quiet.email, calm.email]
    filtered = client.get(URL, {"show": "attention"})
    assert calm.email not in names(filtered)


def test_filters_and_search(client, frozen, doctor):
    linked(doctor, "steady@example.org", first_name="Steady")
    linked(doctor, "better@example.org", first_name="Better", pain=5)
    better = PatientSummary.objects.get(patient__email="better@example.org")
    better.response_band = "moderate"
    better.save()
    skip = {TODAY - dt.timedelta(days=n) for n in range(1, 4)}
    linked(doctor, "missing@example.org", first_name="Missing", skip_days=skip)
    mfa_login(client, doctor)
    assert names(client.get(URL, {"show": "responders"})) == ["better@example.org"]
    assert names(client.get(URL, {"show": "non_adherent"})) == ["missing@example.org"]
    assert names(client.post(URL, {"q": "stead"}, follow=True)) == ["steady@example.org"]
    by_adherence = names(client.get(URL, {"sort": "adherence"}))
    assert by_adherence[0] == "missing@example.org"


def test_a_search_keeps_the_name_out_of_the_address_and_the_audit_log(client, frozen, doctor):
    steady = linked(doctor, "steady@example.org", first_name="Steadman")
    linked(doctor, "better@example.org", first_name="Better")
    mfa_login(client, doctor)
    response = client.post(URL, {"q": "Steadman", "sort": "adherence"})
    assert response.status_code == 302
    address = response["Location"]
    assert "steadman" not in address.lower()
    assert "sort=adherence" in address and "search=" in address

    page = client.get(address)
    assert names(page) == ["steady@example.org"]
    # The box still shows what was typed: the name is in the page, not in its address.
    assert 'value="Steadman"' in page.content.decode()
    [row] = AuditEvent.objects.filter(patient_id=steady.pk)
    assert (row.action, row.path) == ("panel_search", URL)
    assert row.get_action_display() == "Found by a search on the panel"
    assert not AuditEvent.objects.filter(path__contains="?").exists()


def test_a_name_in_the_address_searches_nothing(client, frozen, doctor):
    linked(doctor, "steady@example.org", first_name="Steadman")
    linked(doctor, "better@example.org", first_name="Better")
    mfa_login(client, doctor)
    assert len(names(client.get(URL, {"q": "Steadman"}))) == 2


def test_a_search_id_is_only_good_in_its_own_session_and_for_a_while(
    client, frozen, doctor, colleague
):
    alex = linked(doctor, "alex@example.org", first_name="Alex")
    link(alex, clinician=colleague)
    linked(doctor, "sam@example.org", first_name="Sam")
    mfa_login(client, doctor)
    address = client.post(URL, {"q": "Alex"})["Location"]
    assert names(client.get(address)) == ["alex@example.org"]

    other = mfa_login(Client(), colleague)
    page = other.get(address)
    assert names(page) == ["alex@example.org"]  # the colleague's own patients, unfiltered
    assert "That search has ended" in page.content.decode()

    with time_machine.travel(dt.datetime(2026, 11, 20, 19, 10, tzinfo=dt.UTC), tick=False):
        assert names(client.get(URL)) == ["alex@example.org", "sam@example.org"]
    with time_machine.travel(dt.datetime(2026, 11, 20, 19, 16, tzinfo=dt.UTC), tick=False):
        later = client.get(address)
        assert client.session[searches.SESSION_KEY] == {}  # what was typed is gone from it
    assert len(names(later)) == 2
    assert "That search has ended" in later.content.decode()


def test_pages_of_a_search_keep_the_search(client, frozen, doctor):
    for n in range(52):
        patient = onboarded_patient(email=f"page{n:02d}@example.org", start_date=TODAY)
        link(patient, clinician=doctor)
    linked(doctor, "zed@example.org", first_name="Zed")
    mfa_login(client, doctor)
    address = client.post(URL, {"q": "page"})["Location"]
    first = client.get(address)
    assert len(first.context["rows"]) == 50
    next_page = f"?{first.context['query']}&page=2"
    assert next_page in first.content.decode().replace("&amp;", "&")
    second = client.get(URL + next_page)
    assert len(second.context["rows"]) == 2
    assert "zed@example.org" not in names(first) + names(second)


def test_a_too_long_search_is_explained_next_to_the_box(client, frozen, doctor):
    linked(doctor, "alex@example.org")
    mfa_login(client, doctor)
    response = client.post(URL, {"q": "x" * 81})
    assert response.status_code == 200
    assert "at most 80 characters" in response.content.decode()
    assert names(response) == ["alex@example.org"]


def test_it_pages_at_fifty(client, frozen, doctor):
    for n in range(51):
        patient = onboarded_patient(email=f"p{n:02d}@example.org", start_date=TODAY)
        link(patient, clinician=doctor)
    mfa_login(client, doctor)
    assert len(client.get(URL).context["rows"]) == 50
    assert len(client.get(URL, {"page": 2}).context["rows"]) == 1


def _panel_of(doctor, count):
    for n in range(count):
        patient = onboarded_patient(
            email=f"q{n:03d}@example.org", start_date=TODAY - dt.timedelta(days=89)
        )
        link(patient, clinician=doctor)
        add_history(patient, days=90)
        alerts_evaluate(patient=patient)
        if n % 3 == 0:
            Alert.objects.create(patient=patient, rule="gone_quiet", urgency=4, episode=TODAY)


@pytest.mark.slow
@pytest.mark.parametrize("count", [5, 100])
def test_the_query_count_is_the_same_for_5_and_100_patients_with_90_days(
    client, frozen, doctor, django_assert_num_queries, count
):
    _panel_of(doctor, count)
    mfa_login(client, doctor)
    # session, user, MFA check, approval, count, the page of patients with their rows,
    # their open alerts, one audit insert, and the session save (in a savepoint: 3)
    with django_assert_num_queries(PANEL_QUERIES):
        response = client.get(URL)
    assert len(response.context["rows"]) == min(count, 50)


PANEL_QUERIES = 11
