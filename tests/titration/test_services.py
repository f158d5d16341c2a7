import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from titration import services
from titration.models import DoseLog, PlanEvent

from ..factories import (
    DoseLogFactory,
    PatientProfileFactory,
    SafetyScreeningFactory,
    UserFactory,
    onboarded_patient,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _evening():
    # The dose's window opens 6 hours before its time: these tests act in the evening.
    with time_machine.travel(dt.datetime(2026, 11, 20, 20, 0, tzinfo=dt.UTC), tick=False):
        yield


START = dt.date(2026, 11, 1)


@pytest.fixture
def plan(db):
    """A standard plan from START, every night taken up to the evening the tests run in (so
    the decision's schedule is the plan as written)."""
    plan = onboarded_patient(start_date=START).plans.get()
    for n in range(19):
        DoseLogFactory(plan=plan, date=START + dt.timedelta(days=n))
    return plan


def test_a_plan_cannot_start_after_an_opioid_answer(db):
    user = UserFactory()
    PatientProfileFactory(user=user)
    SafetyScreeningFactory(patient=user, opioid_use=True)
    with pytest.raises(services.PlanNotAllowed):
        services.plan_start(patient=user, start_date=START)
    assert not user.plans.exists()


def test_a_plan_cannot_start_without_a_safety_screen(db):
    user = UserFactory()
    PatientProfileFactory(user=user)
    with pytest.raises(services.PlanNotAllowed):
        services.plan_start(patient=user, start_date=START)


def test_plan_start_records_who_started_it(db):
    user = UserFactory()
    PatientProfileFactory(user=user)
    SafetyScreeningFactory(patient=user)
    plan = services.plan_start(patient=user, start_date=START)
    event = plan.events.get()
    assert (event.kind, event.actor, event.effective_date) == ("start", user, START)


def test_a_hold_is_recorded_with_who_and_why_and_delays_the_next_step(plan):
    services.plan_hold(
        plan=plan, actor=plan.patient, day=dt.date(2026, 11, 5), days=3, reason="Tired"
    )
    event = PlanEvent.objects.get(kind="hold")
    assert (event.actor, event.reason, event.days) == (plan.patient, "Tired", 3)
    assert plan.planned_dose_on(dt.date(2026, 11, 8)).dose_mg == Decimal("1.5")
    assert plan.planned_dose_on(dt.date(2026, 11, 11)).dose_mg == Decimal("3.0")


def test_a_hold_of_an_impossible_length_is_refused(plan):
    with pytest.raises(services.PlanChangeNotAllowed):
        services.plan_hold(plan=plan, actor=None, day=START, days=0, reason="")


def test_step_back_returns_to_the_previous_dose(plan):
    services.plan_step_back(
        plan=plan, actor=plan.patient, day=dt.date(2026, 11, 9), reason="Nausea"
    )
    assert plan.planned_dose_on(dt.date(2026, 11, 9)).dose_mg == Decimal("1.5")


def test_step_back_on_the_first_step_is_refused(plan):
    with pytest.raises(services.PlanChangeNotAllowed):
        services.plan_step_back(plan=plan, actor=plan.patient, day=START, reason="")


def test_step_up_moves_one_step_and_is_refused_at_the_top(plan):
    services.plan_step_up(plan=plan, actor=None, day=dt.date(2026, 11, 3), reason="Approved")
    assert plan.planned_dose_on(dt.date(2026, 11, 3)).dose_mg == Decimal("3.0")
    with pytest.raises(services.PlanChangeNotAllowed):
        services.plan_step_up(plan=plan, actor=None, day=dt.date(2026, 11, 30), reason="")


def test_pause_and_resume(plan):
    services.plan_pause(plan=plan, actor=None, day=dt.date(2026, 11, 3), reason="Surgery")
    assert plan.planned_dose_on(dt.date(2026, 11, 4)).dose_mg is None
    services.plan_resume(plan=plan, actor=None, day=dt.date(2026, 11, 6), reason="")
    assert plan.planned_dose_on(dt.date(2026, 11, 6)).dose_mg == Decimal("1.5")


def test_stop_needs_a_reason(plan):
    with pytest.raises(services.PlanChangeNotAllowed):
        services.plan_stop(plan=plan, actor=None, day=START, reason=" ")
    services.plan_stop(plan=plan, actor=None, day=dt.date(2026, 11, 5), reason="No benefit")
    assert plan.planned_dose_on(dt.date(2026, 11, 5)).dose_mg is None


def test_changing_the_target_continues_from_todays_dose_without_a_jump(plan):
    day = dt.date(2026, 11, 10)  # day 10: 3.0 mg, 3 days into the step
    new = services.plan_change(
        plan=plan, actor=None, day=day, reason="Go to 6", target_mg="6.0", protocol="sensitive"
    )
    assert new.planned_dose_on(day).dose_mg == Decimal("3.0")
    assert new.planned_dose_on(day + dt.timedelta(days=4)).dose_mg == Decimal("3.0")
    assert new.planned_dose_on(day + dt.timedelta(days=5)).dose_mg == Decimal("3.5")
    assert plan.planned_dose_on(day).dose_mg is None  # the old plan stopped
    doses = [new.planned_dose_on(day + dt.timedelta(days=n)).dose_mg for n in range(60)]
    assert max(doses) == Decimal("6.0")


def test_lowering_the_target_caps_the_dose_from_that_day(plan):
    day = dt.date(2026, 11, 20)  # 4.5 mg
    new = services.plan_change(plan=plan, actor=None, day=day, reason="Lower", target_mg="3.0")
    assert new.planned_dose_on(day).dose_mg == Decimal("3.0")


@pytest.mark.parametrize("target", ["6.5", "0.25"])
def test_a_target_outside_ldn_range_is_refused(plan, target):
    with pytest.raises(services.PlanChangeNotAllowed):
        services.plan_change(plan=plan, actor=None, day=START, reason="", target_mg=target)


def test_custom_steps_are_validated(plan):
    with pytest.raises(services.PlanChangeNotAllowed, match="multiple of 0.25"):
        services.plan_change(
            plan=plan,
            actor=None,
            day=START,
            reason="",
            custom_steps=[{"dose_mg": "1.1", "min_days": None}],
        )


def test_switching_to_morning_moves_the_reminder_and_is_recorded(plan):
    services.plan_dose_time_switch(
        plan=plan, actor=plan.patient, day=START, dose_time="morning", reason="Dreams"
    )
    plan.patient.profile.refresh_from_db()
    assert plan.patient.profile.reminder_time == dt.time(8, 0)
    with pytest.raises(services.PlanChangeNotAllowed):
        services.plan_dose_time_switch(
            plan=plan, actor=None, day=START, dose_time="morning", reason=""
        )


TONIGHT = dt.date(2026, 11, 20)
EVENING = dt.datetime(2026, 11, 20, 21, 0, tzinfo=dt.UTC)


def test_two_logs_for_one_day_are_impossible(plan):
    services.dose_log(patient=plan.patient, plan=plan, day=TONIGHT, status="taken", now=EVENING)
    with pytest.raises(services.DoseRefused, match="already logged"):
        services.dose_log(
            patient=plan.patient, plan=plan, day=TONIGHT, status="skipped", now=EVENING
        )
    assert DoseLog.objects.filter(date=TONIGHT).count() == 1


def test_a_future_date_cannot_be_logged(plan):
    with pytest.raises(services.DoseRefused):
        services.dose_log(
            patient=plan.patient,
            plan=plan,
            day=TONIGHT + dt.timedelta(days=1),
            status="taken",
            now=EVENING,
        )


def test_undo_is_refused_after_twelve_hours(plan):
    services.dose_log(patient=plan.patient, plan=plan, day=TONIGHT, status="taken", now=EVENING)
    with pytest.raises(services.NoUndo):
        services.dose_undo(
            patient=plan.patient, plan=plan, day=TONIGHT, now=EVENING + dt.timedelta(hours=13)
        )
    services.dose_undo(
        patient=plan.patient, plan=plan, day=TONIGHT, now=EVENING + dt.timedelta(hours=1)
    )
    assert not DoseLog.objects.filter(date=TONIGHT).exists()
