"""The one dose decision (titration/decision.py): pure, no database.

Each test is a defect from the "One dose truth" issue or a rule of DOMAIN.md, Dose safety.
"""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from titration import decision
from titration import schedule as engine
from titration.decision import TAKEN, Clock, Inputs, LogEntry, decide

LONDON = ZoneInfo("Europe/London")
KOLKATA = ZoneInfo("Asia/Kolkata")
SYDNEY = ZoneInfo("Australia/Sydney")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
AUCKLAND = ZoneInfo("Pacific/Auckland")

TEN_PM = dt.time(22, 0)
SIX_HOURS = dt.timedelta(hours=6)
START = dt.date(2026, 1, 5)


def standard(start=START, **kwargs):
    return engine.PlanSpec(start_date=start, steps=engine.protocol_steps("standard"), **kwargs)


def at(zone, *args):
    return dt.datetime(*args, tzinfo=zone)


def taken(day_dose_mg, instant):
    return LogEntry(TAKEN, Decimal(day_dose_mg), logged_at=instant, taken_at=instant)


def record_take(inputs, now):
    """What "I took it" does: record the decision's date as taken now, if allowed."""
    decided = decide(inputs, now)
    assert decided.take is None, decided.take
    logs = {**inputs.logs, decided.dose_day: taken(decided.due.dose_mg, now)}
    return Inputs(
        inputs.spec, logs, inputs.clock, inputs.concentration_mg_per_ml, inputs.blocked
    ), decided


def every(start, end, step=dt.timedelta(minutes=5)):
    instant = start
    while instant < end:
        yield instant
        instant += step


# After midnight: last night's dose, then no second dose.


def test_at_0030_with_last_night_not_logged_the_decision_offers_last_nights_dose():
    inputs = Inputs(standard(), {}, Clock(LONDON, TEN_PM))
    decided = decide(inputs, at(LONDON, 2026, 1, 12, 0, 30))
    assert decided.dose_day == dt.date(2026, 1, 11)
    assert decided.is_earlier_day
    assert decided.can_take
    assert decided.due.dose_mg == Decimal("1.5")


def test_after_recording_last_nights_dose_at_0030_a_second_tap_is_refused():
    now = at(LONDON, 2026, 1, 12, 0, 30)
    inputs, _ = record_take(Inputs(standard(), {}, Clock(LONDON, TEN_PM)), now)
    again = decide(inputs, now + dt.timedelta(seconds=5))
    assert again.take is not None
    assert again.last_taken_at == now


def test_the_refusal_after_the_0030_dose_allows_the_next_one_no_sooner_than_six_hours():
    now = at(LONDON, 2026, 1, 12, 0, 30)
    inputs, _ = record_take(Inputs(standard(), {}, Clock(LONDON, TEN_PM)), now)
    refusal = decide(inputs, at(LONDON, 2026, 1, 12, 0, 35)).take
    assert refusal is not None
    assert refusal.allowed_from is not None
    assert refusal.allowed_from >= at(LONDON, 2026, 1, 12, 6, 30)


def test_the_refusal_after_the_0030_dose_says_when_the_last_dose_was_taken():
    # DOMAIN.md, Spacing: "A refusal says, in plain words, when the last dose was taken and
    # from when the next one may be taken."
    now = at(LONDON, 2026, 1, 12, 0, 30)
    inputs, _ = record_take(Inputs(standard(), {}, Clock(LONDON, TEN_PM)), now)
    refusal = decide(inputs, at(LONDON, 2026, 1, 12, 0, 35)).take
    assert "00:30" in refusal.reason
    assert "16:00" in refusal.reason


def test_no_take_is_offered_at_any_instant_within_six_hours_of_the_0030_dose():
    now = at(LONDON, 2026, 1, 12, 0, 30)
    inputs, _ = record_take(Inputs(standard(), {}, Clock(LONDON, TEN_PM)), now)
    for instant in every(now, now + SIX_HOURS):
        assert not decide(inputs, instant).can_take, instant


# The late-entry form at 08:00.


def test_at_0800_the_late_entry_form_lists_today_only_to_say_when_it_opens():
    inputs = Inputs(standard(), {}, Clock(LONDON, TEN_PM))
    now = at(LONDON, 2026, 1, 12, 8, 0)
    assert dt.date(2026, 1, 12) in decision.late_days(inputs, now)
    refusal = decision.check_late(inputs, dt.date(2026, 1, 12), TAKEN, now, now)
    assert refusal is not None and "from 16:00 today" in refusal.reason


def test_at_0800_a_late_entry_of_todays_dose_taken_now_is_refused():
    inputs = Inputs(standard(), {}, Clock(LONDON, TEN_PM))
    now = at(LONDON, 2026, 1, 12, 8, 0)
    assert decision.check_late(inputs, dt.date(2026, 1, 12), TAKEN, now, now) is not None


def test_at_0800_todays_dose_can_be_taken_from_the_window_start_at_1600():
    inputs = Inputs(standard(), {}, Clock(LONDON, TEN_PM))
    now = at(LONDON, 2026, 1, 12, 8, 0)
    spec = decide(inputs, now).spec
    refusal = decision.check_take(inputs, spec, dt.date(2026, 1, 12), now, now)
    assert refusal is not None
    assert refusal.allowed_from == at(LONDON, 2026, 1, 12, 16, 0)


def test_last_nights_late_dose_at_0800_then_no_second_dose_at_0830():
    inputs = Inputs(standard(), {}, Clock(LONDON, TEN_PM))
    now = at(LONDON, 2026, 1, 12, 8, 0)
    last_night = dt.date(2026, 1, 11)
    assert decision.check_late(inputs, last_night, TAKEN, now, now) is None
    inputs = Inputs(inputs.spec, {last_night: taken("1.5", now)}, inputs.clock)
    later = decide(inputs, at(LONDON, 2026, 1, 12, 8, 30))
    assert not later.can_take
    assert later.take.allowed_from >= now + SIX_HOURS


# A stale tab.


def test_stale_tab_dose_taken_at_2130_then_at_0030_the_take_is_refused():
    inputs = Inputs(standard(), {}, Clock(LONDON, TEN_PM))
    inputs, decided = record_take(inputs, at(LONDON, 2026, 1, 11, 21, 30))
    assert decided.dose_day == dt.date(2026, 1, 11)
    fresh = decide(inputs, at(LONDON, 2026, 1, 12, 0, 30))
    assert fresh.take is not None
    assert fresh.dose_day == dt.date(2026, 1, 12)


# Travel: the patient's zone changes, the instants of doses taken do not.


def travel(inputs, zone):
    return Inputs(inputs.spec, inputs.logs, Clock(zone, inputs.clock.dose_time))


def test_london_to_kolkata_two_hours_after_a_dose_the_take_is_refused():
    dose = at(LONDON, 2026, 1, 11, 22, 0)
    inputs, _ = record_take(Inputs(standard(), {}, Clock(LONDON, TEN_PM)), dose)
    inputs = travel(inputs, KOLKATA)
    assert not decide(inputs, dose + dt.timedelta(hours=2)).can_take
    for instant in every(dose, dose + SIX_HOURS):
        assert not decide(inputs, instant).can_take, instant


def test_sydney_to_los_angeles_after_a_dose_no_take_is_offered_within_six_hours():
    dose = at(SYDNEY, 2026, 1, 11, 22, 0)
    inputs, _ = record_take(Inputs(standard(), {}, Clock(SYDNEY, TEN_PM)), dose)
    inputs = travel(inputs, LOS_ANGELES)
    for instant in every(dose, dose + SIX_HOURS):
        decided = decide(inputs, instant)
        assert not decided.can_take, (instant, decided.dose_day)


def test_sydney_to_los_angeles_the_missed_earlier_night_is_not_offered_after_a_later_dose():
    dose = at(SYDNEY, 2026, 1, 11, 22, 0)
    inputs, _ = record_take(Inputs(standard(), {}, Clock(SYDNEY, TEN_PM)), dose)
    inputs = travel(inputs, LOS_ANGELES)
    decided = decide(inputs, dose + dt.timedelta(hours=7))
    # Los Angeles, 04:00 on the 11th: the 10th's window is open but a later date is taken.
    assert decided.dose_day == dt.date(2026, 1, 10)
    assert not decided.can_take


def test_los_angeles_to_auckland_five_hours_one_minute_after_a_dose_no_take():
    dose = at(LOS_ANGELES, 2026, 1, 11, 22, 0)
    inputs, _ = record_take(Inputs(standard(), {}, Clock(LOS_ANGELES, TEN_PM)), dose)
    inputs = travel(inputs, AUCKLAND)
    decided = decide(inputs, dose + dt.timedelta(hours=5, minutes=1))
    assert not decided.can_take
    assert decided.take.allowed_from is None or decided.take.allowed_from >= dose + SIX_HOURS
    for instant in every(dose, dose + SIX_HOURS):
        assert not decide(inputs, instant).can_take, instant


def test_los_angeles_to_auckland_the_spacing_refusal_names_the_last_dose():
    dose = at(LOS_ANGELES, 2026, 1, 11, 22, 0)
    inputs, _ = record_take(Inputs(standard(), {}, Clock(LOS_ANGELES, TEN_PM)), dose)
    inputs = travel(inputs, AUCKLAND)
    refusal = decide(inputs, dose + dt.timedelta(hours=5, minutes=1)).take
    # 22:00 in Los Angeles is 19:00 the next day in Auckland; the next dose from 01:00.
    assert "19:00" in refusal.reason
    assert refusal.allowed_from == dose + SIX_HOURS


# Clock changes in Europe/London (forward 2026-03-29, back 2026-10-25).


@pytest.mark.parametrize("dose_time", [dt.time(1, 30), TEN_PM, dt.time(0, 30), dt.time(23, 59)])
@pytest.mark.parametrize("night", [dt.date(2026, 3, 29), dt.date(2026, 10, 25)])
def test_windows_around_a_clock_change_are_contiguous_and_do_not_overlap(dose_time, night):
    clock = Clock(LONDON, dose_time)
    days = [night + dt.timedelta(days=offset) for offset in range(-3, 4)]
    for day, following in zip(days, days[1:], strict=False):
        start, end = clock.window(day)
        assert start < end
        assert end == clock.window(following)[0]
        assert clock.scheduled(day) - start == SIX_HOURS


@pytest.mark.parametrize("dose_time", [dt.time(1, 30), TEN_PM])
@pytest.mark.parametrize("night", [dt.date(2026, 3, 29), dt.date(2026, 10, 25)])
def test_every_instant_of_a_clock_change_night_lies_in_exactly_one_window(dose_time, night):
    clock = Clock(LONDON, dose_time)
    first = at(dt.UTC, night.year, night.month, night.day) - dt.timedelta(days=1)
    for instant in every(first, first + dt.timedelta(days=3), dt.timedelta(minutes=10)):
        day = clock.window_day(instant)
        start, end = clock.window(day)
        assert start <= instant < end
        others = [day + dt.timedelta(days=offset) for offset in (-2, -1, 1, 2)]
        assert not any(
            clock.window(other)[0] <= instant < clock.window(other)[1] for other in others
        )


@pytest.mark.parametrize("dose_time", [dt.time(1, 30), TEN_PM])
@pytest.mark.parametrize("night", [dt.date(2026, 3, 29), dt.date(2026, 10, 25)])
def test_doses_on_time_every_night_across_a_clock_change_are_all_accepted(dose_time, night):
    spec = standard(start=night - dt.timedelta(days=10))
    inputs = Inputs(spec, {}, Clock(LONDON, dose_time))
    for offset in range(-3, 4):
        day = night + dt.timedelta(days=offset)
        inputs, decided = record_take(inputs, inputs.clock.scheduled(day))
        assert decided.dose_day == day
    instants = sorted(entry.taken_at for entry in inputs.logs.values())
    assert all(b - a >= SIX_HOURS for a, b in zip(instants, instants[1:], strict=False))


# Liquid.


def test_liquid_075_mg_at_5_mg_per_ml_is_01_ml_with_a_warning_never_02():
    liquid = decision.liquid_dose(Decimal("0.75"), Decimal("5"))
    assert liquid.ml == Decimal("0.1")
    assert liquid.delivers_mg == Decimal("0.50")
    assert liquid.warning
    assert "1 mg/mL" in liquid.warning


def test_liquid_15_mg_at_1_mg_per_ml_is_15_ml_without_a_warning():
    liquid = decision.liquid_dose(Decimal("1.5"), Decimal("1"))
    assert liquid.ml == Decimal("1.5")
    assert liquid.warning == ""


@pytest.mark.parametrize("concentration", ["2", "3", "4.5", "5"])
def test_liquid_small_doses_at_strong_solutions_are_never_rounded_up_silently(concentration):
    for dose in (Decimal("0.5"), Decimal("0.75"), Decimal("1.0"), Decimal("1.25")):
        liquid = decision.liquid_dose(dose, Decimal(concentration))
        if abs(liquid.delivers_mg - dose) > dose * Decimal("0.1"):
            assert liquid.warning, (dose, concentration)


def test_the_decision_gives_the_liquid_dose_for_a_liquid_patient():
    inputs = Inputs(standard(), {}, Clock(LONDON, TEN_PM), Decimal("1"))
    decided = decide(inputs, at(LONDON, 2026, 1, 5, 21, 0))
    assert decided.dose_ml == Decimal("1.5")


# Blocked, and targets the engine refuses.


def test_blocked_inputs_refuse_take_and_skip():
    inputs = Inputs(standard(), {}, Clock(LONDON, TEN_PM), blocked=True)
    decided = decide(inputs, at(LONDON, 2026, 1, 5, 22, 0))
    assert not decided.can_take
    assert not decided.can_skip
    day = dt.date(2026, 1, 5)
    now = at(LONDON, 2026, 1, 6, 9, 0)
    assert decision.check_late(inputs, day, TAKEN, at(LONDON, 2026, 1, 5, 22, 0), now)
    assert decision.check_late(inputs, day, decision.SKIPPED, None, now)


@pytest.mark.parametrize("target", ["0.25", "0", "-1"])
def test_the_engine_refuses_targets_below_half_a_milligram(target):
    with pytest.raises(ValueError):
        engine.protocol_steps("standard", Decimal(target))


# Holds reach the decision (so the reminder, which uses it, names the same dose as Today).


def test_a_clinician_step_up_after_missed_dose_holds_moves_on_and_the_next_day_is_not_held():
    clock = Clock(LONDON, TEN_PM)
    # Days 1-2 taken, days 3-7 missed: day 8 is held at 1.5 mg by the missed-dose rule.
    logs = {
        START + dt.timedelta(days=n): taken("1.5", clock.scheduled(START + dt.timedelta(days=n)))
        for n in (0, 1)
    }
    day8 = START + dt.timedelta(days=7)
    held = decide(Inputs(standard(), logs, clock), clock.scheduled(day8))
    assert held.dose_day == day8
    assert held.due.held_by == engine.HoldCause.MISSED_DOSES
    assert held.due.dose_mg == Decimal("1.5")

    spec = standard(events=(engine.Event(day8, engine.EventKind.STEP_UP),))
    approved = decide(Inputs(spec, logs, clock), clock.scheduled(day8))
    assert approved.due.dose_mg == Decimal("3.0")
    assert approved.due.held_by is None

    inputs = Inputs(spec, logs, clock)
    inputs, _ = record_take(inputs, clock.scheduled(day8))
    day9 = day8 + dt.timedelta(days=1)
    following = decide(inputs, clock.scheduled(day9))
    assert following.dose_day == day9
    assert following.due.dose_mg == Decimal("3.0")
    assert following.due.held_by != engine.HoldCause.MISSED_DOSES
    assert following.due.status == engine.DayStatus.ACTIVE


def test_after_an_approved_step_up_and_seven_nights_taken_the_plan_reaches_the_target():
    clock = Clock(LONDON, TEN_PM)
    day8 = START + dt.timedelta(days=7)
    logs = {
        START + dt.timedelta(days=n): taken("1.5", clock.scheduled(START + dt.timedelta(days=n)))
        for n in (0, 1)
    }
    spec = standard(events=(engine.Event(day8, engine.EventKind.STEP_UP),))
    inputs = Inputs(spec, logs, clock)
    for n in range(7):
        inputs, decided = record_take(inputs, clock.scheduled(day8 + dt.timedelta(days=n)))
        assert decided.due.dose_mg == Decimal("3.0")
    day15 = day8 + dt.timedelta(days=7)
    assert decide(inputs, clock.scheduled(day15)).due.dose_mg == Decimal("4.5")


def test_a_moderate_side_effect_on_day_7_holds_day_8_at_15_mg_in_the_decision():
    clock = Clock(LONDON, TEN_PM)
    day7, day8 = START + dt.timedelta(days=6), START + dt.timedelta(days=7)
    logs = {
        START + dt.timedelta(days=n): taken("1.5", clock.scheduled(START + dt.timedelta(days=n)))
        for n in range(7)
    }
    spec = standard(worst_side_effect_by_day={day7: 2})
    decided = decide(Inputs(spec, logs, clock), at(LONDON, 2026, 1, 12, 19, 0))
    assert decided.dose_day == day8
    assert decided.due.dose_mg == Decimal("1.5")
    assert decided.due.status == engine.DayStatus.HELD
    assert decided.due.held_by == engine.HoldCause.SIDE_EFFECTS
    # Without the side effect, the same night is the next step.
    plain = decide(Inputs(standard(), logs, clock), at(LONDON, 2026, 1, 12, 19, 0))
    assert plain.due.dose_mg == Decimal("3.0")


# Undo, and the decision as a value.


def test_undo_is_offered_for_tonights_entry_and_not_for_a_week_old_one():
    clock = Clock(LONDON, TEN_PM)
    now = at(LONDON, 2026, 1, 12, 22, 0)
    inputs, decided = record_take(Inputs(standard(), {}, clock), now)
    assert decide(inputs, now + dt.timedelta(minutes=1)).undo_day == decided.dose_day
    assert decision.check_undo(inputs, decided.dose_day, now + dt.timedelta(minutes=1)) is None
    assert decision.check_undo(inputs, decided.dose_day, now + dt.timedelta(days=7)) is not None


def test_the_decision_is_the_same_for_the_same_inputs_at_the_same_instant():
    clock = Clock(LONDON, TEN_PM)
    now = at(LONDON, 2026, 1, 12, 0, 30)
    inputs, _ = record_take(Inputs(standard(), {}, clock), now)
    later = now + dt.timedelta(hours=1)
    assert decide(inputs, later) == decide(inputs, later)
