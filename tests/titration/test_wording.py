"""Today's words and state: the week card follows a tap, last night's skip says so, no
doubled full stops, and calm words when side effects come on the lowest dose."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from symptoms import progress
from titration.models import DoseLog
from titration.templatetags.dose import unstop

from ..factories import DiaryEntryFactory, DoseLogFactory, onboarded_patient

pytestmark = pytest.mark.django_db

EVENING = dt.datetime(2026, 11, 20, 20, 0, tzinfo=dt.UTC)  # 20:00 in London


@pytest.fixture(autouse=True)
def _evening():
    with time_machine.travel(EVENING, tick=False):
        yield


def test_i_took_it_also_swaps_the_week_card_out_of_band(client):
    patient = onboarded_patient(start_date=dt.date(2026, 11, 20))
    client.force_login(patient)
    response = client.post(reverse("dose_take"), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert 'id="dose-card"' in body
    assert 'id="week-card"' in body and 'hx-swap-oob="true"' in body
    assert "1 of 1" in body
    assert "1 day in a row" in body
    assert "none due yet" not in body


def test_the_full_page_week_card_is_not_out_of_band(client):
    patient = onboarded_patient(start_date=dt.date(2026, 11, 20))
    client.force_login(patient)
    body = client.get(reverse("today")).content.decode()
    assert 'id="week-card"' in body and "hx-swap-oob" not in body


def test_skipping_last_nights_dose_names_last_night_not_tonight(client):
    patient = onboarded_patient(start_date=dt.date(2026, 11, 10))
    # 08:00 on the 21st: the 20th's window is still open and nothing is logged.
    with time_machine.travel(dt.datetime(2026, 11, 21, 8, 0, tzinfo=dt.UTC), tick=False):
        client.force_login(patient)
        body = client.get(reverse("dose_skip")).content.decode()
    assert "Record last night's dose (Friday 20 November) as not taken?" in body
    assert "Skip tonight" not in body


def test_skipping_tonights_dose_still_says_tonight(client):
    patient = onboarded_patient(start_date=dt.date(2026, 11, 10))
    client.force_login(patient)
    body = client.get(reverse("dose_skip")).content.decode()
    assert "Skip tonight's dose?" in body


def test_a_held_reason_ending_in_a_full_stop_is_not_doubled_on_the_plan_page(client):
    patient = onboarded_patient(start_date=dt.date(2026, 11, 1))
    plan = patient.plans.get()
    # Three nights missed, then nothing taken since: the step-up waits for doses in a row.
    for day in range(1, 5):
        DoseLogFactory(patient=patient, plan=plan, date=dt.date(2026, 11, day))
    client.force_login(patient)
    body = client.get(reverse("plan")).content.decode()
    assert ".." not in body.replace("...", "")
    assert ".)." not in body


def test_unstop_drops_one_closing_full_stop():
    assert unstop("Held for a few more days.") == "Held for a few more days"
    assert unstop("In a row") == "In a row"
    assert unstop(None) == ""


def test_severe_side_effects_on_the_first_step_say_to_contact_the_prescriber(client):
    patient = onboarded_patient(start_date=dt.date(2026, 11, 19))
    DiaryEntryFactory(patient=patient, date=dt.date(2026, 11, 20), nausea=3)
    client.force_login(patient)
    body = client.get(reverse("today")).content.decode()
    assert "already on the lowest dose of your plan" in body
    assert "contact your prescriber" in body
    response = client.get(reverse("step_back"), follow=True)
    assert "there is no step back" in response.content.decode()
    assert not DoseLog.objects.exists()


# The baseline: compared only once its 7 days are over, and says how many days it has.


def test_a_first_week_baseline_is_not_ready_until_its_seven_days_are_over():
    start = dt.date(2026, 11, 1)
    pain = {start: 6.0}
    base = progress.baseline_of(pain, start)
    assert (base.mean, base.days) == (6.0, 1)
    assert base.complete_on == dt.date(2026, 11, 8)
    assert not base.ready(start)
    assert not base.ready(dt.date(2026, 11, 7))
    assert base.ready(dt.date(2026, 11, 8))


def test_a_run_in_baseline_is_ready_from_the_first_dose_and_counts_its_days():
    start = dt.date(2026, 11, 8)
    pain = {dt.date(2026, 11, 5): 6.0, dt.date(2026, 11, 7): 8.0, start: 1.0}
    base = progress.baseline_of(pain, start)
    assert (base.mean, base.days, base.complete_on) == (7.0, 2, start)
    assert base.ready(start)
    assert progress.baseline(pain, start) == base.mean


def test_no_diary_means_no_baseline():
    assert progress.baseline_of({}, dt.date(2026, 11, 1)) is None


def test_the_progress_page_does_not_compare_a_one_day_baseline_with_itself(client):
    patient = onboarded_patient(start_date=dt.date(2026, 11, 20))
    DiaryEntryFactory(patient=patient, date=dt.date(2026, 11, 20), pain=6)
    client.force_login(patient)
    body = client.get(reverse("progress")).content.decode()
    assert "Pain 6.0 → 6.0" not in body
    assert "your baseline has 1 diary day so far" in body
    assert "We compare with it from Friday 27 November" in body
