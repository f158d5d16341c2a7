"""The opioid block and "My medicines changed" (DOMAIN.md, dose safety)."""

import datetime as dt
import re
from types import SimpleNamespace

import pytest
import time_machine
from django.urls import reverse

from accounts.models import PatientProfile
from titration import safety
from titration.models import DoseLog, SafetyScreening

from ..factories import SafetyScreeningFactory, onboarded_patient

T0 = dt.datetime(2026, 11, 20, 20, 0, tzinfo=dt.UTC)  # 20:00 in London
ALL_NO = {"opioid_use": "no", "alcohol": "no", "liver_medications": "no", "liver_disease": "no"}


def _answer(days, opioid_use=False, confirmed=False, cleared=False):
    return SimpleNamespace(
        opioid_use=opioid_use,
        opioid_free_confirmed=confirmed,
        cleared_at=T0 if cleared else None,
        created_at=T0 + dt.timedelta(days=days),
    )


# The pure rule ---------------------------------------------------------------------------


def test_no_report_no_block():
    assert safety.open_opioid_report([_answer(0), _answer(3)]) is None


def test_a_report_blocks():
    report = _answer(0, opioid_use=True)
    assert safety.open_opioid_report([_answer(-1), report]) is report


def test_answering_no_a_minute_later_lifts_nothing():
    report = _answer(0, opioid_use=True)
    again = _answer(1 / 1440, confirmed=True)
    assert safety.open_opioid_report([report, again]) is report


def test_a_confirmed_answer_seven_days_later_lifts_the_block():
    report = _answer(0, opioid_use=True)
    assert safety.open_opioid_report([report, _answer(7, confirmed=True)]) is None
    assert safety.patient_clear_from(report) == T0 + dt.timedelta(days=7)


def test_seven_days_later_without_the_statement_lifts_nothing():
    report = _answer(0, opioid_use=True)
    assert safety.open_opioid_report([report, _answer(8)]) is report


def test_a_patient_with_a_linked_clinician_cannot_lift_it_themselves():
    report = _answer(0, opioid_use=True)
    answers = [report, _answer(30, confirmed=True)]
    assert safety.open_opioid_report(answers, patient_may_clear=False) is report


def test_a_clinicians_clearance_lifts_it_and_a_new_report_blocks_again():
    assert safety.open_opioid_report([_answer(0, opioid_use=True, cleared=True)]) is None
    again = _answer(2, opioid_use=True)
    assert safety.open_opioid_report([_answer(0, opioid_use=True, cleared=True), again]) is again


# The page --------------------------------------------------------------------------------


@pytest.fixture
def evening():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def patient_on_plan(db, evening):
    return onboarded_patient(start_date=dt.date(2026, 11, 10))


def _today(client):
    return client.get(reverse("today")).content.decode()


@pytest.mark.django_db
def test_today_and_settings_offer_my_medicines_changed(client, patient_on_plan):
    client.force_login(patient_on_plan)
    url = reverse("medicines_changed")
    assert url in _today(client)
    assert url in client.get(reverse("account_settings")).content.decode()
    body = client.get(url).content.decode()
    assert "Do you take any opioid painkiller" in body
    # Nothing is blocked, so the opioid-free statement isn't asked.
    assert "opioid_free_confirmed" not in body


@pytest.mark.django_db
def test_reporting_an_opioid_pauses_the_plan_and_a_minute_later_no_does_not_restart_it(
    client, patient_on_plan, evening
):
    client.force_login(patient_on_plan)
    url = reverse("medicines_changed")
    response = client.post(url, {**ALL_NO, "opioid_use": "yes"})
    assert response.status_code == 200
    assert "Please talk to your prescriber before your next dose" in response.content.decode()
    assert "I took it" not in _today(client)

    evening.shift(dt.timedelta(minutes=1))
    form = client.get(url).content.decode()
    assert "opioid_free_confirmed" in form
    body = _today(client)
    assert "from Friday 27 November" in body
    client.post(url, {**ALL_NO, "opioid_free_confirmed": "on"})
    body = _today(client)
    assert "Please talk to your prescriber before your next dose" in body
    assert "I took it" not in body
    client.post(reverse("dose_take"))
    assert not DoseLog.objects.exists()


@pytest.mark.django_db
def test_seven_days_later_the_patient_restarts_the_plan_with_the_statement(
    client, patient_on_plan, evening
):
    client.force_login(patient_on_plan)
    url = reverse("medicines_changed")
    client.post(url, {**ALL_NO, "opioid_use": "yes"})
    evening.shift(dt.timedelta(days=7))
    client.force_login(patient_on_plan)

    # Without the statement it stays paused.
    response = client.post(url, ALL_NO)
    assert "stays paused" in response.content.decode()
    assert "I took it" not in _today(client)

    response = client.post(url, {**ALL_NO, "opioid_free_confirmed": "on"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("today")
    body = response.content.decode()
    assert "Your answers are saved" in body
    assert "I took it" in body
    assert SafetyScreening.objects.filter(patient=patient_on_plan).count() == 4


@pytest.mark.django_db
def test_with_a_linked_clinician_only_the_clinician_restarts_the_plan(
    client, patient_on_plan, evening
):
    PatientProfile.objects.filter(user=patient_on_plan).update(care_team_linked=True)
    client.force_login(patient_on_plan)
    url = reverse("medicines_changed")
    client.post(url, {**ALL_NO, "opioid_use": "yes"})
    evening.shift(dt.timedelta(days=10))
    client.force_login(patient_on_plan)
    form = client.get(url).content.decode()
    assert "opioid_free_confirmed" not in form
    assert "Your clinician will restart it" in form
    client.post(url, {**ALL_NO, "opioid_free_confirmed": "on"})
    assert "Your clinician has been told" in _today(client)
    assert SafetyScreening.objects.plan_blocked(patient_on_plan)


@pytest.mark.django_db
def test_unanswered_or_contradictory_answers_are_explained_next_to_the_field(
    client, patient_on_plan
):
    SafetyScreeningFactory(patient=patient_on_plan, opioid_use=True)
    client.force_login(patient_on_plan)
    url = reverse("medicines_changed")
    response = client.post(url, {"opioid_use": "no"})
    assert response.status_code == 400
    assert "Please answer yes or no." in response.content.decode()
    response = client.post(url, {**ALL_NO, "opioid_use": "yes", "opioid_free_confirmed": "on"})
    assert response.status_code == 400
    assert "so this can&#x27;t be ticked" in response.content.decode()
    # What was typed is kept.
    body = response.content.decode()
    assert re.search(r'name="opioid_use" value="yes"[^>]*\bchecked\b', body)
    assert SafetyScreening.objects.filter(patient=patient_on_plan).count() == 2


@pytest.mark.django_db
def test_clinicians_get_404(client, clinician):
    client.force_login(clinician)
    assert client.get(reverse("medicines_changed")).status_code == 404
