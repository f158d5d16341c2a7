import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from titration.models import DoseLog, SupplyEntry
from titration.services import supply_record

from ..factories import (
    DiaryEntryFactory,
    DoseLogFactory,
    SafetyScreeningFactory,
    onboarded_patient,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _evening():
    # The dose's window opens 6 hours before its time: these tests act in the evening.
    with time_machine.travel(dt.datetime(2026, 11, 20, 20, 0, tzinfo=dt.UTC), tick=False):
        yield


PATIENT_PAGES = ["today", "dose_skip", "dose_late"]
# Session, user, profile, plan, the opioid check, events, logs, diary (side effects,
# today, week), questionnaires, supply, session save: a fixed number whatever the history.
TODAY_QUERIES = 16
PATIENT_POSTS = ["dose_take", "dose_skip", "dose_undo", "dose_late"]
EVENING = dt.datetime(2026, 11, 20, 20, 0, tzinfo=dt.UTC)  # 20:00 in London


@pytest.mark.parametrize("name", PATIENT_PAGES)
def test_anonymous_visitors_are_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("name", PATIENT_PAGES + PATIENT_POSTS)
def test_clinicians_get_404_on_patient_pages(client, clinician, name):
    client.force_login(clinician)
    method = client.post if name in PATIENT_POSTS else client.get
    assert method(reverse(name)).status_code == 404
    assert DoseLog.objects.count() == 0


@pytest.mark.parametrize("name", PATIENT_PAGES)
def test_patient_without_a_plan_is_sent_to_onboarding(client, new_patient, name):
    client.force_login(new_patient)
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"] == reverse("onboarding")


def test_logging_a_dose_never_touches_another_patients_day(patient_client, patient, other_patient):
    DoseLogFactory(plan=other_patient.plans.get())
    patient_client.post(reverse("dose_take"))
    assert DoseLog.objects.filter(patient=patient).count() == 1
    assert DoseLog.objects.filter(patient=other_patient).count() == 1
    body = patient_client.get(reverse("today")).content.decode()
    assert "Taken at" in body


def test_get_on_post_only_urls_is_refused(patient_client):
    assert patient_client.get(reverse("dose_take")).status_code == 405
    assert patient_client.get(reverse("dose_undo")).status_code == 405


def test_skipping_asks_for_an_optional_reason_and_records_it(patient_client, patient):
    page = patient_client.get(reverse("dose_skip"))
    assert "Why are you skipping tonight? (optional)" in page.content.decode()
    patient_client.post(reverse("dose_skip"), {"reason": "Felt sick"})
    log = DoseLog.objects.get(patient=patient)
    assert log.status == DoseLog.Status.SKIPPED
    assert log.skip_reason == "Felt sick"


def test_a_too_long_skip_reason_is_refused_and_kept(patient_client, patient):
    reason = "x" * 201
    response = patient_client.post(reverse("dose_skip"), {"reason": reason})
    assert response.status_code == 200
    assert "under 200 characters" in response.content.decode()
    assert reason in response.content.decode()
    assert not DoseLog.objects.exists()


def test_undo_removes_tonights_log(patient_client, patient):
    patient_client.post(reverse("dose_take"))
    patient_client.post(reverse("dose_undo"), {"day": patient.profile.local_today().isoformat()})
    assert not DoseLog.objects.filter(patient=patient).exists()
    assert "I took it" in patient_client.get(reverse("today")).content.decode()


def test_undo_with_nothing_logged_says_so(patient_client):
    response = patient_client.post(reverse("dose_undo"), follow=True)
    assert "nothing logged tonight" in response.content.decode()


def test_a_late_entry_for_yesterday_is_stamped_late(client):
    with time_machine.travel(dt.datetime(2026, 11, 20, 20, 0, tzinfo=dt.UTC), tick=False):
        user = onboarded_patient(start_date=dt.date(2026, 11, 10))
        for offset in range(9):  # taken every day up to the 18th
            DoseLogFactory(
                plan=user.plans.get(), date=dt.date(2026, 11, 10) + dt.timedelta(days=offset)
            )
        client.force_login(user)
        response = client.post(
            reverse("dose_late"),
            {"day": "2026-11-19", "status": DoseLog.Status.TAKEN, "taken_at": "2026-11-19T21:45"},
        )
    assert response.status_code == 302
    log = DoseLog.objects.get(patient=user, date=dt.date(2026, 11, 19))
    assert log.is_late_entry is True
    assert str(log.dose_mg) == "3.00"  # day 10 of the standard plan


@pytest.mark.parametrize("day", ["2026-11-17", "2026-11-21", "not-a-date"])
def test_late_entry_refuses_dates_outside_the_window(client, day):
    with time_machine.travel(dt.datetime(2026, 11, 20, 20, 0, tzinfo=dt.UTC), tick=False):
        user = onboarded_patient(start_date=dt.date(2026, 11, 10))
        client.force_login(user)
        response = client.post(reverse("dose_late"), {"day": day, "status": "taken"})
    assert response.status_code == 200
    assert "today or the 2 days before" in response.content.decode()
    assert not DoseLog.objects.exists()


def test_late_entry_for_an_already_logged_day_says_so(client):
    with time_machine.travel(dt.datetime(2026, 11, 20, 20, 0, tzinfo=dt.UTC), tick=False):
        user = onboarded_patient(start_date=dt.date(2026, 11, 10))
        DoseLogFactory(plan=user.plans.get(), date=dt.date(2026, 11, 19))
        client.force_login(user)
        response = client.post(reverse("dose_late"), {"day": "2026-11-19", "status": "skipped"})
    assert "already logged" in response.content.decode()
    assert DoseLog.objects.get(patient=user).status == DoseLog.Status.TAKEN


def test_today_uses_the_patients_local_date_not_the_servers(client):
    # 05:00 UTC on the 21st is 21:00 on the 20th in Los Angeles: day 2 of a plan from the 19th.
    with time_machine.travel(dt.datetime(2026, 11, 21, 5, 0, tzinfo=dt.UTC), tick=False):
        user = onboarded_patient(time_zone="America/Los_Angeles", start_date=dt.date(2026, 11, 19))
        client.force_login(user)
        body = client.get(reverse("today")).content.decode()
        client.post(reverse("dose_take"))
    assert "Day 2 of your plan" in body
    assert DoseLog.objects.get(patient=user).date == dt.date(2026, 11, 20)


def test_after_midnight_the_button_logs_last_nights_dose(client):
    # 00:40 in London on the 21st, nothing logged for the 20th: the dose belongs to last night.
    with time_machine.travel(dt.datetime(2026, 11, 21, 0, 40, tzinfo=dt.UTC), tick=False):
        user = onboarded_patient(start_date=dt.date(2026, 11, 15))
        DoseLogFactory(plan=user.plans.get(), date=dt.date(2026, 11, 19))
        client.force_login(user)
        client.post(reverse("dose_take"))
    log = DoseLog.objects.get(patient=user, date=dt.date(2026, 11, 20))
    assert log.status == DoseLog.Status.TAKEN
    assert not DoseLog.objects.filter(patient=user, date=dt.date(2026, 11, 21)).exists()


def test_missed_yesterday_shows_a_gentle_line_and_a_single_dose(client):
    with time_machine.travel(dt.datetime(2026, 11, 20, 20, 0, tzinfo=dt.UTC), tick=False):
        user = onboarded_patient(start_date=dt.date(2026, 11, 15))
        client.force_login(user)
        body = client.get(reverse("today")).content.decode()
    assert "No dose was logged last night" in body
    assert "Never take two doses" in body
    assert "1.5 mg" in body
    assert "3.0 mg" not in body.split("Next step")[0]


def test_liquid_patients_see_ml_to_one_decimal(client):
    user = onboarded_patient(formulation="liquid", concentration_mg_per_ml=5)
    client.force_login(user)
    body = client.get(reverse("today")).content.decode()
    assert "1.5 mg" in body
    assert "0.3 mL" in body


def test_the_next_step_date_is_shown(client):
    with time_machine.travel(dt.datetime(2026, 11, 20, 20, 0, tzinfo=dt.UTC), tick=False):
        user = onboarded_patient(start_date=dt.date(2026, 11, 20))
        client.force_login(user)
        body = client.get(reverse("today")).content.decode()
    assert "Next step: 3.0 mg from Friday 27 November" in body


@pytest.mark.parametrize("days", [10, 90])
def test_today_page_query_count_does_not_grow_with_history(client, django_assert_num_queries, days):
    start = timezone.now().date() - dt.timedelta(days=days)
    user = onboarded_patient(start_date=start)
    plan = user.plans.get()
    for offset in range(days):
        DoseLogFactory(plan=plan, date=start + dt.timedelta(days=offset))
    client.force_login(user)
    with django_assert_num_queries(TODAY_QUERIES):
        assert client.get(reverse("today")).status_code == 200


def test_the_supply_panel_reuses_the_dose_cards_reading_of_the_plan(client):
    start = timezone.now().date() - dt.timedelta(days=30)
    user = onboarded_patient(start_date=start)
    supply_record(
        patient=user,
        kind=SupplyEntry.Kind.REFILL,
        received_on=start,
        amount=4,  # a few nights left whatever the step
        capsule_strength_mg=Decimal("1.5"),
    )
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        body = client.get(reverse("today")).content.decode()
    assert "Time to order more" in body
    sql = [q["sql"] for q in queries.captured_queries]
    assert sum('FROM "titration_doselog"' in q for q in sql) == 1
    assert sum('FROM "titration_planevent"' in q for q in sql) == 1
    assert sum('FROM "titration_supplyentry"' in q for q in sql) == 1


def test_reporting_opioids_after_the_plan_began_hides_the_dose(client, patient):
    SafetyScreeningFactory(patient=patient, opioid_use=True)
    client.force_login(patient)
    body = client.get(reverse("today")).content.decode()
    assert "Please talk to your prescriber before your next dose" in body
    assert "I took it" not in body
    client.post(reverse("dose_take"))
    assert not DoseLog.objects.exists()


# Session, user, profile lock, plan, events, logs, diary side effects, the opioid check,
# the insert and the record-changed mark, then the card read again, and the diary week for
# the "Your week" card swapped beside it; session save. Fixed whatever the history.
DOSE_POST_QUERIES = 24


@pytest.mark.parametrize("days", [10, 90])
def test_a_dose_post_reads_the_plan_once_whatever_the_history(
    client, django_assert_num_queries, days
):
    user = onboarded_patient(start_date=timezone.now().date() - dt.timedelta(days=days))
    today = user.profile.local_today()
    plan = user.plans.get()
    for offset in range(1, days + 1):  # every night logged up to last night
        DoseLogFactory(plan=plan, date=today - dt.timedelta(days=offset))
    client.force_login(user)
    with django_assert_num_queries(DOSE_POST_QUERIES):
        response = client.post(
            reverse("dose_take"), {"day": today.isoformat()}, HTTP_HX_REQUEST="true"
        )
    assert response.status_code == 200
    assert "✓ Taken at" in response.content.decode()
    assert DoseLog.objects.get(patient=user, date=today).status == DoseLog.Status.TAKEN


@pytest.mark.parametrize("diary_done", [False, True])
@time_machine.travel(EVENING, tick=False)  # after midnight the button logs last night's dose
def test_the_card_after_i_took_it_invites_the_diary_only_if_it_is_not_done(client, diary_done):
    user = onboarded_patient(start_date=timezone.now().date() - dt.timedelta(days=10))
    today = user.profile.local_today()
    if diary_done:
        DiaryEntryFactory(patient=user, date=today, pain=4)
    DiaryEntryFactory(patient=user, date=today - dt.timedelta(days=1), pain=5)  # not today's
    client.force_login(user)
    response = client.post(reverse("dose_take"), {"day": today.isoformat()}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "✓ Taken at" in body
    assert ("How was your day?" in body) is not diary_done
    # The full page says the same.
    page = client.get(reverse("today")).content.decode()
    assert ("How was your day?" in page) is not diary_done


@time_machine.travel(EVENING, tick=False)
def test_the_card_htmx_swaps_in_is_posted_with_the_header_token_and_the_page_keeps_its_own():
    user = onboarded_patient(start_date=timezone.now().date() - dt.timedelta(days=10))
    today = user.profile.local_today()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get(reverse("today")).content.decode()
    assert page.count('name="csrfmiddlewaretoken"') >= 1  # "I took it" works without JavaScript
    token = client.cookies["csrftoken"].value
    htmx = {"HTTP_HX_REQUEST": "true"}

    card = client.post(reverse("dose_take"), {"day": today}, HTTP_X_CSRFTOKEN=token, **htmx)
    assert card.status_code == 200
    assert "✓ Taken at" in card.content.decode()
    assert "csrfmiddlewaretoken" not in card.content.decode()
    # Undo from that card: htmx sends the header (base.html's hx-headers); without it, refused.
    assert client.post(reverse("dose_undo"), {"day": today}, **htmx).status_code == 403
    assert DoseLog.objects.filter(patient=user, date=today).exists()
    undone = client.post(reverse("dose_undo"), {"day": today}, HTTP_X_CSRFTOKEN=token, **htmx)
    assert undone.status_code == 200
    assert "I took it" in undone.content.decode()
    assert not DoseLog.objects.filter(patient=user, date=today).exists()
