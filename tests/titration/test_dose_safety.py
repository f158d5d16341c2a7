"""The defects of the one-dose-truth issue, each as a request a patient makes (DOMAIN.md,
dose safety): no second dose within 6 hours, whatever the screen, tab, clock or zone."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import PatientProfile
from reminders import selectors as reminder_selectors
from symptoms.models import DiaryEntry
from titration import selectors
from titration.models import DoseLog, PlanEvent

from ..factories import DoseLogFactory, onboarded_patient

pytestmark = pytest.mark.django_db

START = dt.date(2026, 11, 10)
UTC = dt.UTC


def _at(year, month, day, hour, minute=0):
    return dt.datetime(year, month, day, hour, minute, tzinfo=UTC)


def _patient(start=START, **profile):
    with time_machine.travel(_at(2026, 11, 10, 12), tick=False):
        user = onboarded_patient(start_date=start, **profile)
    return user


def _taken_every_night(user, until: dt.date):
    plan = user.plans.get()
    day = plan.start_date
    while day <= until:
        DoseLogFactory(plan=plan, date=day)
        day += dt.timedelta(days=1)


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _taken_instants(user):
    return sorted(DoseLog.objects.filter(patient=user, status="taken").values_list("taken_at"))


def test_late_entry_of_today_in_the_morning_then_last_night_is_refused():
    user = _patient()
    _taken_every_night(user, dt.date(2026, 11, 18))
    client = _client(user)
    with time_machine.travel(_at(2026, 11, 20, 8), tick=False):
        # Today's dose (due 21:30) cannot be recorded as taken at 08:00: its window opens
        # at 15:30.
        response = client.post(
            reverse("dose_late"),
            {"day": "2026-11-20", "status": "taken", "taken_at": "2026-11-20T08:00"},
        )
        assert response.status_code == 200
        assert "can be taken from 15:30" in response.content.decode()
        # Last night's dose can be taken now; then nothing more for 6 hours.
        client.post(reverse("dose_take"), {"day": "2026-11-19"})
    with time_machine.travel(_at(2026, 11, 20, 8, 30), tick=False):
        body = client.get(reverse("today")).content.decode()
        assert "I took it" not in body
        client.post(reverse("dose_take"), {"day": "2026-11-20"})
    assert DoseLog.objects.filter(patient=user, date=dt.date(2026, 11, 20)).count() == 0


def test_a_second_tap_after_midnight_records_one_dose_and_says_when_the_next_may_be_taken():
    user = _patient()
    _taken_every_night(user, dt.date(2026, 11, 19))
    client = _client(user)
    with time_machine.travel(_at(2026, 11, 21, 0, 30), tick=False):
        card = client.post(reverse("dose_take"), headers={"HX-Request": "true"})
        body = card.content.decode()
        assert "I took it" not in body
        assert "Taken at 00:30" in body
    with time_machine.travel(
        _at(
            2026,
            11,
            21,
            0,
            30,
        )
        + dt.timedelta(seconds=5),
        tick=False,
    ):
        # The swapped card posts nothing it did not show; a replayed form posts last night.
        client.post(reverse("dose_take"), headers={"HX-Request": "true"})
        client.post(reverse("dose_take"), {"day": "2026-11-20"})
        client.post(reverse("dose_take"), {"day": "2026-11-21"})
    assert DoseLog.objects.filter(patient=user, date__gte=dt.date(2026, 11, 20)).count() == 1
    assert DoseLog.objects.get(patient=user, date=dt.date(2026, 11, 20)).status == "taken"


def test_a_tab_left_open_cannot_take_tonights_dose_three_hours_after_the_last():
    user = _patient()
    _taken_every_night(user, dt.date(2026, 11, 19))
    stale, other = _client(user), _client(user)
    with time_machine.travel(_at(2026, 11, 20, 21), tick=False):
        assert "I took it" in stale.get(reverse("today")).content.decode()
    with time_machine.travel(_at(2026, 11, 20, 21, 30), tick=False):
        other.post(reverse("dose_take"), {"day": "2026-11-20"})
    with time_machine.travel(_at(2026, 11, 21, 0, 30), tick=False):
        stale.post(reverse("dose_take"), {"day": "2026-11-20"})
        fresh = stale.get(reverse("today")).content.decode()
        stale.post(reverse("dose_take"), {"day": "2026-11-21"})
    assert "I took it" not in fresh
    assert DoseLog.objects.filter(patient=user, date__gte=dt.date(2026, 11, 20)).count() == 1


@pytest.mark.parametrize(
    ("home", "away", "hours_after"),
    [
        ("Europe/London", "Asia/Kolkata", 2),
        ("Australia/Sydney", "America/Los_Angeles", 1),
        ("America/Los_Angeles", "Pacific/Auckland", 5),
    ],
)
def test_travel_after_a_dose_never_offers_another_within_six_hours(home, away, hours_after):
    user = _patient(time_zone=home)
    profile = user.profile
    plan = user.plans.get()
    with time_machine.travel(_at(2026, 11, 20, 12), tick=False):
        taken_day = profile.local_today()
    taken_at = dt.datetime.combine(taken_day, profile.dose_clock_time, tzinfo=profile.zone)
    day = plan.start_date
    while day <= taken_day:
        DoseLogFactory(plan=plan, date=day)
        day += dt.timedelta(days=1)
    PatientProfile.objects.filter(user=user).update(time_zone=away)
    client = _client(user)
    for minutes in range(0, 6 * 60, 29):
        at = taken_at + dt.timedelta(hours=hours_after) + dt.timedelta(minutes=minutes)
        if at - taken_at >= dt.timedelta(hours=6):
            break
        with time_machine.travel(at, tick=False):
            assert "I took it" not in client.get(reverse("today")).content.decode()
            client.post(reverse("dose_take"))
            due = reminder_selectors.doses_still_due(
                [(user.pk, profile.local_today(at))], now=at, sending=True
            )
            assert due == {}
    taken = _taken_instants(user)
    gaps = [b[0] - a[0] for a, b in zip(taken, taken[1:], strict=False)]
    assert all(gap >= dt.timedelta(hours=6) for gap in gaps)


def test_the_reminder_names_the_held_dose_before_the_hold_is_recorded():
    user = _patient()
    _taken_every_night(user, dt.date(2026, 11, 16))  # days 1-7
    DiaryEntry.objects.create(patient=user, date=dt.date(2026, 11, 16), headache=2)
    evening = _at(2026, 11, 17, 21, 30)  # day 8: the step-up waits for side effects
    with time_machine.travel(evening, tick=False):
        body = _client(user).get(reverse("today")).content.decode()
        due = reminder_selectors.doses_still_due(
            [(user.pk, dt.date(2026, 11, 17))], now=evening, sending=True
        )
    assert not PlanEvent.objects.filter(kind="hold").exists()  # not recorded yet
    assert due == {(user.pk, dt.date(2026, 11, 17)): Decimal("1.5")}
    assert "1.5 mg" in body.split("Next step")[0]
    d = selectors.dose_decision(user, user.plans.get(), evening)
    assert d.dose_mg == Decimal("1.5")


def test_after_approving_a_held_step_the_dose_moves_up_and_a_next_step_is_shown():
    from titration import services

    user = _patient()
    plan = user.plans.get()
    # Days 1-3 taken, then missed nights: the step-up to 3.0 mg on day 8 waits.
    _taken_every_night(user, dt.date(2026, 11, 12))
    with time_machine.travel(_at(2026, 11, 20, 21), tick=False):
        assert selectors.dose_decision(user, plan).dose_mg == Decimal("1.5")
        services.plan_step_up(plan=plan, actor=None, day=dt.date(2026, 11, 20), reason="ok")
        d = selectors.dose_decision(user, plan)
        t = selectors.tonight(user, plan)
    assert d.dose_mg == Decimal("3.0")
    assert t.next_step is not None and t.next_step_dose_mg == Decimal("4.5")
    assert not t.at_target


@pytest.mark.django_db(transaction=True)
def test_simultaneous_taps_and_step_back_confirms_record_one_each():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks (CI runs it)")
    user = _patient()
    _taken_every_night(user, dt.date(2026, 11, 19))
    now = _at(2026, 11, 20, 21)

    def tap(path, data):
        with time_machine.travel(now, tick=False):
            _client(user).post(reverse(path), data)
        connection.close()

    threads = [
        threading.Thread(target=tap, args=("dose_take", {"day": "2026-11-20"})) for _ in range(5)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert DoseLog.objects.filter(patient=user, date=dt.date(2026, 11, 20)).count() == 1

    DiaryEntry.objects.create(patient=user, date=dt.date(2026, 11, 20), nausea=3)
    threads = [
        threading.Thread(target=tap, args=("step_back", {"choice": "back"})) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert PlanEvent.objects.filter(kind="step_back").count() == 1
