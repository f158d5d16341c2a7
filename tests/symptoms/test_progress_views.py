import datetime as dt
import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from symptoms.models import DiaryEntry

from .conftest import RUN_IN_PAIN, TODAY, add_history, login_redirect, patient_on_day

pytestmark = pytest.mark.django_db

URL = reverse("progress")
PAIN_SUMMARY = "Pain 6.0 → 4.2, 30% lower than your baseline."


@pytest.fixture
def tracked(frozen):
    """A patient on plan day 30 with a run-in week and every day since logged."""
    patient = patient_on_day(30, email="pat@example.org")
    add_history(patient)
    return patient


def page(client, user, query=""):
    client.force_login(user)
    response = client.get(URL + query)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_anonymous_visitors_are_sent_to_login(client):
    assert login_redirect(client.get(URL))


def test_clinicians_get_404(client, clinician):
    client.force_login(clinician)
    assert client.get(URL).status_code == 404


def test_a_patient_without_a_plan_is_sent_to_onboarding(client, new_patient):
    client.force_login(new_patient)
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == reverse("onboarding")


@pytest.mark.parametrize("query", ["", "?period=all", "?period=4w"])
def test_the_page_says_how_pain_compares_with_the_baseline(client, tracked, query):
    body = page(client, tracked, query)
    assert PAIN_SUMMARY in body
    assert "That counts as <strong>moderate improvement</strong>" in body


def test_the_other_ratings_get_a_summary_too(client, tracked):
    body = page(client, tracked)
    assert "Sleep quality 5.0 → 5.0, about the same as your baseline." in body
    assert "Fatigue 6.0 → 6.0, about the same as your baseline." in body
    assert "(higher is better)" in body and "(higher is worse)" in body


def test_the_four_week_view_marks_its_button_as_current(client, tracked):
    body = page(client, tracked, "?period=4w")
    assert 'href="?period=4w" aria-current="page"' in body
    assert 'href="?period=all" aria-current="page"' not in body


def test_a_patient_with_no_diary_days_is_asked_to_keep_going(client, frozen):
    patient = patient_on_day(3, email="fresh@example.org")
    body = page(client, patient)
    assert "after a week we can compare with your baseline" in body
    assert "Pain: not enough diary days yet to compare with your baseline." in body


def test_a_substantial_drop_is_called_substantial(client, tracked):
    DiaryEntry.objects.filter(patient=tracked, pain=4).update(pain=3)
    DiaryEntry.objects.filter(patient=tracked, pain=5).update(pain=3)
    body = page(client, tracked)
    assert "Pain 6.0 → 3.0, 50% lower than your baseline." in body
    assert "<strong>substantial improvement</strong>" in body


def test_rising_pain_is_no_clear_change(client, tracked):
    DiaryEntry.objects.filter(patient=tracked, date__gt=TODAY - dt.timedelta(days=7)).update(pain=8)
    body = page(client, tracked)
    assert "Pain 6.0 → 8.0, 33% higher than your baseline." in body
    assert "<strong>no clear change yet</strong>" in body


def test_a_zero_baseline_does_not_call_a_rise_the_same(client, tracked):
    DiaryEntry.objects.filter(patient=tracked, pain=RUN_IN_PAIN).update(pain=0)
    body = page(client, tracked)
    assert "Pain 0.0 → 4.2" in body
    assert "Pain 0.0 → 4.2, about the same" not in body
    assert "4.2 points higher than your baseline." in body


def test_side_effects_are_counted_per_dose_step(client, tracked):
    body = page(client, tracked)
    assert "<strong>1.5 mg</strong> (7 diary days): headache on" in body
    assert "<strong>4.5 mg</strong> (16 diary days)" in body


def test_patterns_appear_once_there_are_enough_days(client, tracked):
    body = page(client, tracked)
    assert "On days with alcohol" in body
    assert "days with," in body


def test_another_patients_diary_never_appears(client, tracked, other_patient):
    DiaryEntry.objects.create(patient=other_patient, date=TODAY, pain=10)
    other = page(client, other_patient)
    # One diary day on the first day of the plan is a baseline of one day: not compared yet.
    assert "Pain: your baseline has 1 diary day so far." in other
    assert "Pain 10.0 → 10.0" not in other
    assert "6.0 →" not in other and "4.2" not in other
    mine = page(client, tracked)
    assert PAIN_SUMMARY in mine
    assert "Pain 10.0" not in mine


def _queries_for(client, patient):
    client.force_login(patient)
    with CaptureQueriesContext(connection) as context:
        assert client.get(URL).status_code == 200
    return len(context.captured_queries)


def test_the_page_costs_the_same_queries_for_30_and_180_days(
    client, frozen, django_assert_num_queries
):
    short = patient_on_day(30, email="short@example.org")
    add_history(short)
    long = patient_on_day(180, email="long@example.org")
    add_history(long)
    measured = _queries_for(client, short)
    # Session, user, plan, profile, diary entries, FIQR check-ins; the dose record (plan
    # events, dose log, side effects, safety screen) for the dose band; and the session
    # saved again (SESSION_SAVE_EVERY_REQUEST: savepoint, update, release).
    assert measured == 13

    client.force_login(long)
    with django_assert_num_queries(measured):
        response = client.get(URL)
    assert PAIN_SUMMARY in html.unescape(response.content.decode())


def test_with_a_run_in_the_page_compares_with_before_ldn_and_dates_the_baseline(client, tracked):
    body = page(client, tracked)
    assert "Pain compared with before LDN" in body
    assert "Your baseline is the 7 days before the first dose: 15 Oct to 21 Oct 2026." in body


def test_without_a_run_in_the_page_never_says_before_ldn(client, tracked):
    DiaryEntry.objects.filter(patient=tracked, date__lt=tracked.plans.get().start_date).delete()
    body = page(client, tracked)
    assert "before LDN" not in body
    assert "Pain compared with your first week on LDN" in body
    assert "Your baseline is the first 7 days on LDN" in body


def test_a_first_diary_day_on_ldn_already_says_first_week_before_there_is_a_baseline(
    client, frozen
):
    newcomer = patient_on_day(2, email="new@example.org")
    DiaryEntry.objects.create(patient=newcomer, date=TODAY, pain=5)
    body = page(client, newcomer)
    assert "Pain compared with your first week on LDN" in body


def test_one_figure_has_all_five_ratings_on_a_dated_axis_with_a_text_summary(client, tracked):
    body = page(client, tracked)
    assert body.count("<svg") == 1
    for panel in ("panel-pain", "panel-sleep", "panel-fatigue", "panel-fog", "panel-mood"):
        assert panel in body
    for tick in ("19 Oct", "2 Nov", "16 Nov"):  # every other Monday on a phone-wide figure
        assert f'class="tick-label" fill="#333">{tick}</text>' in body
    assert 'aria-labelledby="progress-figure-summary"' in body
    assert PAIN_SUMMARY in body
    assert "Dose: 1.5 mg from 22 Oct to 28 Oct 2026; 3.0 mg from 29 Oct to 4 Nov 2026" in body
    assert 'class="ref ref-moderate"' in body  # the 30% line on pain


def test_the_patient_sees_the_contact_your_prescriber_footer(client, tracked):
    assert "contact your prescriber" in page(client, tracked)
