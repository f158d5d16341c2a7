"""Which plan changes fit, and the schedule each would leave (clinic/plan_actions.py)."""

import datetime as dt
from decimal import Decimal

import pytest

from clinic import plan_actions
from titration import schedule as engine

START = dt.date(2026, 12, 1)
STEPS = engine.protocol_steps("standard")


def spec(*events, **kwargs):
    return engine.PlanSpec(start_date=START, steps=STEPS, events=tuple(events), **kwargs)


def due(s, day):
    return engine.dose_on(s, day)


def test_the_first_step_offers_hold_and_pause_but_no_step_back_or_step_up():
    fits = plan_actions.available_changes(due(spec(), START), len(STEPS))
    assert fits == ["hold", "target", "custom", "dose_time", "pause", "stop"]


def test_a_held_step_up_is_approvable_and_a_requested_hold_can_end():
    held = spec(engine.Event(START + dt.timedelta(days=5), engine.EventKind.HOLD))
    fits = plan_actions.available_changes(due(held, START + dt.timedelta(days=9)), len(STEPS))
    assert {"step_up", "release", "step_back"} - set(fits) == {"step_back"}
    assert "hold" not in fits


def test_a_step_up_held_by_side_effects_is_approvable_but_has_no_hold_to_end():
    seventh = START + dt.timedelta(days=6)
    s = spec(worst_side_effect_by_day={seventh: 3})
    today = due(s, START + dt.timedelta(days=7))
    assert today.held_by == engine.HoldCause.SIDE_EFFECTS
    fits = plan_actions.available_changes(today, len(STEPS))
    assert "step_up" in fits and "release" not in fits and "hold" in fits


def test_at_the_target_there_is_nothing_to_hold_or_approve():
    fits = plan_actions.available_changes(due(spec(), START + dt.timedelta(days=30)), len(STEPS))
    assert "step_up" not in fits and "hold" not in fits and "step_back" in fits


def test_a_paused_plan_can_resume_and_a_stopped_one_offers_nothing():
    paused = spec(engine.Event(START, engine.EventKind.PAUSE))
    assert "resume" in plan_actions.available_changes(due(paused, START), len(STEPS))
    assert "pause" not in plan_actions.available_changes(due(paused, START), len(STEPS))
    stopped = spec(engine.Event(START, engine.EventKind.STOP))
    assert plan_actions.available_changes(due(stopped, START), len(STEPS)) == []


@pytest.mark.parametrize(
    "kind,days,words",
    [
        ("step_back", None, "tonight 1.5 mg; 3.0 mg from 17 December; 4.5 mg from 24 December"),
        ("step_up", None, "tonight 4.5 mg"),
        ("hold", 3, "tonight 3.0 mg; 4.5 mg from 18 December"),  # 15th + 3 held days
        ("hold", None, "tonight 3.0 mg until the hold ends"),
        ("pause", None, "tonight no dose (paused)"),
        ("stop", None, "tonight no dose (stopped)"),
    ],
)
def test_each_event_change_names_the_schedule_it_would_leave(kind, days, words):
    today = START + dt.timedelta(days=9)  # day 10: 3.0 mg, 4.5 mg from 15 December
    changed = plan_actions.with_event(spec(), today, kind, days)
    assert plan_actions.schedule_words(changed, today) == words


def test_the_words_for_a_plan_as_it_stands():
    assert plan_actions.schedule_words(spec(), START) == (
        "tonight 1.5 mg; 3.0 mg from 8 December; 4.5 mg from 15 December"
    )


def test_a_continued_plan_keeps_the_lower_steps_and_finishes_todays():
    today = due(spec(), START + dt.timedelta(days=9))
    ahead = (*STEPS[:2], engine.Step(Decimal("4.5"), 7), engine.Step(Decimal("6.0"), None))
    steps, start = engine.steps_continuing(STEPS, today, ahead, Decimal("6.0"))
    assert [s.dose_mg for s in steps] == [
        Decimal("1.5"),
        Decimal("3.0"),
        Decimal("4.5"),
        Decimal("6.0"),
    ]
    assert start == 1 and steps[1].min_days == 5 and steps[-1].min_days is None
