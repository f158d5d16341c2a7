import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from accounts.models import PatientProfile
from titration.models import DoseLog, PlanEvent, SupplyEntry

from ..factories import DiaryEntryFactory, DoseLogFactory, onboarded_patient

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 19, 0, tzinfo=dt.UTC)  # 19:00 in London
PAGES = ["plan", "plan_calendar", "plan_hold", "step_back", "supply"]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def taken_every_day(user, start, until):
    """Doses logged every day: without them the missed-dose rule would hold the step-ups."""
    plan = user.plans.get()
    day = start
    while day <= until:
        DoseLogFactory(plan=plan, date=day)
        day += dt.timedelta(days=1)


@pytest.fixture
def me(frozen):
    user = onboarded_patient(email="me@example.org", start_date=dt.date(2026, 11, 10))
    taken_every_day(user, dt.date(2026, 11, 10), dt.date(2026, 11, 19))
    return user


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_visitors_are_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("name", [*PAGES, "dose_time_choice"])
def test_clinicians_get_404(client, clinician, name):
    client.force_login(clinician)
    method = client.post if name == "dose_time_choice" else client.get
    assert method(reverse(name)).status_code == 404


def test_plan_page_shows_the_timeline_the_next_step_and_adherence(client, me):
    DoseLog.objects.filter(patient=me, date=dt.date(2026, 11, 12)).delete()  # one missed day
    client.force_login(me)
    body = client.get(reverse("plan")).content.decode()
    assert "Next step: 4.5 mg from Tuesday 24 November" in body
    assert "6 of 6" in body  # tonight is not due yet
    assert "9 of 10 (90%)" in body
    assert "7 days in a row" in body
    assert "missed" in body
    assert "Plan started" in body


def test_the_calendar_shows_mg_and_ml_for_each_day(client, frozen):
    user = onboarded_patient(
        start_date=dt.date(2026, 11, 10), formulation="liquid", concentration_mg_per_ml=1
    )
    taken_every_day(user, dt.date(2026, 11, 10), dt.date(2026, 11, 19))
    client.force_login(user)
    body = client.get(
        reverse("plan_calendar_month", kwargs={"year": 2026, "month": 11})
    ).content.decode()
    assert "1.5 mg" in body and "1.5 mL" in body
    assert "4.5 mg" in body and "4.5 mL" in body


def test_an_impossible_month_is_404(client, me):
    client.force_login(me)
    url = reverse("plan_calendar_month", kwargs={"year": 2026, "month": 13})
    assert client.get(url).status_code == 404


def test_asking_to_hold_moves_the_next_step_back(client, me):
    client.force_login(me)
    response = client.post(reverse("plan_hold"), {"days": "7", "reason": "Still tired"})
    assert response.status_code == 302
    event = PlanEvent.objects.get(kind=PlanEvent.Kind.HOLD)
    assert (event.days, event.reason, event.actor) == (7, "Still tired", me)
    body = client.get(reverse("plan")).content.decode()
    assert "Why the hold: Still tired" in body
    assert "Next step: 4.5 mg from Tuesday 1 December" in body


def test_a_hold_length_outside_the_choices_is_refused(client, me):
    client.force_login(me)
    response = client.post(reverse("plan_hold"), {"days": "365", "reason": "kept"})
    assert response.status_code == 200
    assert "kept" in response.content.decode()
    assert not PlanEvent.objects.filter(kind=PlanEvent.Kind.HOLD).exists()


def test_a_severe_side_effect_offers_a_step_back_which_one_confirm_takes(client, me):
    DiaryEntryFactory(patient=me, date=dt.date(2026, 11, 20), nausea=3)
    client.force_login(me)
    assert "Go back to my previous dose" in client.get(reverse("step_back")).content.decode()
    client.post(reverse("step_back"), {"choice": "back"})
    event = PlanEvent.objects.get(kind=PlanEvent.Kind.STEP_BACK)
    assert event.actor == me
    assert me.plans.get().planned_dose_on(dt.date(2026, 11, 20)).dose_mg == Decimal("1.5")
    # Answered: the offer is gone.
    assert client.get(reverse("step_back")).status_code == 302


def test_keeping_the_dose_is_recorded_and_ends_the_offer(client, me):
    DiaryEntryFactory(patient=me, date=dt.date(2026, 11, 20), nausea=3)
    client.force_login(me)
    client.post(reverse("step_back"), {"choice": "keep"})
    assert PlanEvent.objects.filter(kind=PlanEvent.Kind.KEEP_DOSE).exists()
    assert me.plans.get().planned_dose_on(dt.date(2026, 11, 20)).dose_mg == Decimal("3.0")
    assert client.get(reverse("step_back")).status_code == 302


def test_no_offer_without_side_effects(client, me):
    client.force_login(me)
    assert client.get(reverse("step_back")).status_code == 302
    client.post(reverse("step_back"), {"choice": "back"})
    assert not PlanEvent.objects.filter(kind=PlanEvent.Kind.STEP_BACK).exists()


def test_switching_to_morning_moves_the_reminder(client, me):
    client.force_login(me)
    client.post(reverse("dose_time_choice"), {"choice": "morning"})
    me.profile.refresh_from_db()
    assert me.profile.dose_time == PatientProfile.DoseTime.MORNING
    assert me.profile.reminder_time == dt.time(8, 0)
    assert PlanEvent.objects.filter(kind=PlanEvent.Kind.DOSE_TIME).exists()


def test_recording_capsules_forecasts_the_run_out_date_and_flags_a_strength_problem(client, me):
    client.force_login(me)
    response = client.post(
        reverse("supply"),
        {
            "kind": "count",
            "received_on": "2026-11-20",
            "amount": "10",
            "capsule_strength_mg": "3.0",
        },
    )
    assert response.status_code == 302
    body = client.get(reverse("supply")).content.decode()
    # 3.0 mg tonight and tomorrow (2 capsules... no: one 3.0 capsule each), 4.5 from the 24th.
    assert "About 10 capsules left" in body
    assert "needs 4.5 mg, which 3.0 mg capsules can" in body


def test_liquid_past_its_discard_date_is_flagged(client, frozen):
    user = onboarded_patient(
        start_date=dt.date(2026, 11, 10), formulation="liquid", concentration_mg_per_ml=1
    )
    client.force_login(user)
    client.post(
        reverse("supply"),
        {
            "kind": "refill",
            "received_on": "2026-10-01",
            "amount": "100",
            "concentration_mg_per_ml": "1",
            "discard_on": "2026-11-15",
        },
    )
    body = client.get(reverse("supply")).content.decode()
    assert "discard date (15 November) has passed" in body
    assert "runs out on" in body


@pytest.mark.parametrize(
    "amount, message",
    [
        ("-5", "can&#x27;t be negative"),
        ("abc", "Please enter a number"),
        ("", "Please enter an amount"),
    ],
)
def test_bad_supply_input_is_refused_next_to_the_field(client, me, amount, message):
    client.force_login(me)
    response = client.post(
        reverse("supply"),
        {
            "kind": "refill",
            "received_on": "2026-11-20",
            "amount": amount,
            "capsule_strength_mg": "1.5",
        },
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not SupplyEntry.objects.exists()


def test_runs_out_date_counts_down_with_taken_doses(client, me):
    client.force_login(me)
    client.post(
        reverse("supply"),
        {
            "kind": "count",
            "received_on": "2026-11-20",
            "amount": "20",
            "capsule_strength_mg": "1.5",
        },
    )
    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        client.post(reverse("dose_take"))
        body = client.get(reverse("supply")).content.decode()
    assert DoseLog.objects.get(patient=me, date=dt.date(2026, 11, 20)).dose_mg == Decimal("3.00")
    assert "About 18 capsules left" in body  # the 10 logs before the count don't count


def test_today_warns_when_the_supply_is_about_to_run_out(client, me):
    client.force_login(me)
    client.post(
        reverse("supply"),
        {"kind": "count", "received_on": "2026-11-20", "amount": "3", "capsule_strength_mg": "1.5"},
    )
    body = client.get(reverse("today")).content.decode()
    assert "Time to order more" in body


def test_a_reason_that_only_repeats_the_kind_is_not_shown_twice():
    event = PlanEvent(kind=PlanEvent.Kind.START, reason="Plan started")
    assert event.reason_shown == ""
    event.reason = "Started by the clinic"
    assert event.reason_shown == "Started by the clinic"
