"""Properties of the titration engine over random plans and random event histories."""

import datetime as dt
from collections import defaultdict, deque
from decimal import Decimal
from itertools import pairwise

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from titration.schedule import (
    MAX_DOSE_MG,
    DayStatus,
    Event,
    EventKind,
    PlanSpec,
    Step,
    _walk,
    dose_on,
    next_step_date,
    protocol_steps,
    schedule,
    validate_custom_steps,
)

HORIZON_DAYS = 130

# The autouse cache-clearing fixture in tests/conftest.py is harmless to re-use across
# examples: these tests never touch the cache. The safety properties get more examples than
# the consistency ones, and the whole file still runs in seconds.
PROPERTY = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
CONSISTENCY = settings(PROPERTY, max_examples=100)

DOSES = [Decimal("0.5") + Decimal("0.25") * i for i in range(23)]  # 0.5 to 6.0 mg

starts = st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2027, 12, 31))
targets = st.sampled_from(DOSES)


@st.composite
def custom_steps(draw):
    doses = sorted(draw(st.sets(st.sampled_from(DOSES), min_size=1, max_size=6)))
    return [Step(dose, draw(st.integers(1, 21))) for dose in doses]


@st.composite
def plans(draw, events=lambda start: st.just(())):
    start = draw(starts)
    protocol = draw(st.sampled_from(["standard", "gentle", "sensitive", "custom"]))
    custom = draw(custom_steps()) if protocol == "custom" else []
    target = draw(targets)
    return PlanSpec(start, protocol_steps(protocol, target, custom), draw(events(start)))


def event_on(start, kinds=tuple(EventKind)):
    """One event on a random day from a few days before the start to ~120 days after it."""
    offsets = st.integers(min_value=-5, max_value=120)
    return st.builds(
        lambda offset, kind, days: Event(
            start + dt.timedelta(days=offset),
            kind,
            # Holds are timed (1-21 days) or open (None); other kinds carry no days.
            days if kind == EventKind.HOLD else None,
        ),
        offsets,
        st.sampled_from(kinds),
        st.one_of(st.none(), st.integers(min_value=1, max_value=21)),
    )


# STOP ends everything, so it is rarer than the rest to leave most histories interesting.
MOSTLY_NOT_STOP = [k for k in EventKind if k != EventKind.STOP] * 3 + [EventKind.STOP]


def histories(start):
    return st.lists(event_on(start, MOSTLY_NOT_STOP), max_size=14).map(tuple)


plans_with_history = plans(events=histories)


def whole_schedule(plan):
    return schedule(plan, until=plan.start_date + dt.timedelta(days=HORIZON_DAYS))


def effective_day(plan, event):
    # Events recorded before the start take effect on the start date.
    return max(event.day, plan.start_date)


def step_up_days(plan):
    return {effective_day(plan, e) for e in plan.events if e.kind == EventKind.STEP_UP}


def rises(days):
    """The days on which the step index went up, with the day before."""
    return [
        (before, after) for before, after in pairwise(days) if after.step_index > before.step_index
    ]


@PROPERTY
@given(plans_with_history)
def test_the_dose_is_never_above_the_target_or_6_mg(plan):
    target = plan.steps[-1].dose_mg
    assert target <= MAX_DOSE_MG
    for entry in whole_schedule(plan):
        if entry.is_due:
            assert entry.dose_mg <= target <= MAX_DOSE_MG
            assert entry.dose_mg == plan.steps[entry.step_index].dose_mg


@PROPERTY
@given(plans_with_history)
def test_nothing_is_due_while_paused_or_stopped_and_a_stop_is_final(plan):
    days = whole_schedule(plan)
    for entry in days:
        assert entry.is_due == (entry.status in (DayStatus.ACTIVE, DayStatus.HELD))
    stopped = [i for i, entry in enumerate(days) if entry.status == DayStatus.STOPPED]
    if stopped:
        assert all(entry.status == DayStatus.STOPPED for entry in days[stopped[0] :])


@PROPERTY
@given(plans_with_history)
def test_the_dose_rises_by_at_most_one_step_a_day(plan):
    days = whole_schedule(plan)
    assert days[0].step_index <= 1  # the start date may carry one recorded step-up
    for before, after in pairwise(days):
        assert after.step_index <= before.step_index + 1


@PROPERTY
@given(plans_with_history)
def test_it_never_steps_up_on_its_own_before_the_minimum_days(plan):
    days = whole_schedule(plan)
    explicit = step_up_days(plan)
    run_start = 0  # where the current step began
    for i in range(1, len(days)):
        before, after = days[i - 1], days[i]
        if after.step_index > before.step_index and after.day not in explicit:
            counted = sum(1 for d in days[run_start:i] if d.status == DayStatus.ACTIVE)
            min_days = plan.steps[before.step_index].min_days
            assert min_days is not None
            assert counted >= min_days
        if after.step_index != before.step_index:
            run_start = i


@PROPERTY
@given(plans(), st.integers(0, 100), st.integers(1, 21))
def test_a_timed_hold_moves_every_later_step_up_back_by_its_days(plan, offset, held_days):
    hold_day = plan.start_date + dt.timedelta(days=offset)
    held = PlanSpec(plan.start_date, plan.steps, (Event(hold_day, EventKind.HOLD, held_days),))
    until = plan.start_date + dt.timedelta(days=HORIZON_DAYS)
    base_ups = [after.day for _, after in rises(schedule(plan, until=until))]
    held_days_later = until + dt.timedelta(days=held_days)
    held_ups = [after.day for _, after in rises(schedule(held, until=held_days_later))]
    shift = dt.timedelta(days=held_days)
    assert held_ups == [up if up < hold_day else up + shift for up in base_ups]


@PROPERTY
@given(plans(), st.integers(0, 100), st.integers(1, 21))
def test_an_open_hold_released_after_n_days_is_a_timed_hold_of_n_days(plan, offset, held_days):
    hold_day = plan.start_date + dt.timedelta(days=offset)
    release_day = hold_day + dt.timedelta(days=held_days)
    timed = (Event(hold_day, EventKind.HOLD, held_days),)
    opened = (Event(hold_day, EventKind.HOLD), Event(release_day, EventKind.RELEASE))
    until = plan.start_date + dt.timedelta(days=HORIZON_DAYS)
    assert schedule(PlanSpec(plan.start_date, plan.steps, timed), until=until) == schedule(
        PlanSpec(plan.start_date, plan.steps, opened), until=until
    )


@PROPERTY
@given(plans_with_history, st.data())
def test_a_step_back_returns_to_the_previous_steps_dose(plan, data):
    # Half the time on a day the dose would otherwise step up, where a step back is most
    # likely to be lost.
    ups = [after.day for _, after in rises(whole_schedule(plan))]
    any_day = st.integers(0, 120).map(lambda n: plan.start_date + dt.timedelta(days=n))
    back_day = data.draw(st.one_of(any_day, st.sampled_from(ups)) if ups else any_day)
    # The step back is the only event of its day, so nothing else moves the step.
    others = tuple(e for e in plan.events if effective_day(plan, e) != back_day)
    plan = PlanSpec(plan.start_date, plan.steps, (*others, Event(back_day, EventKind.STEP_BACK)))
    days = schedule(plan, until=back_day, since=back_day - dt.timedelta(days=1))
    before, after = days
    previous = before.step_index if before.status != DayStatus.NOT_STARTED else 0
    assert after.step_index == max(previous - 1, 0)
    if after.is_due:
        assert after.dose_mg == plan.steps[after.step_index].dose_mg
        if previous > 0:
            assert after.dose_mg < plan.steps[previous].dose_mg


@CONSISTENCY
@given(plans_with_history, st.randoms(use_true_random=False))
def test_the_same_history_in_any_order_gives_the_same_schedule(plan, rnd):
    first = whole_schedule(plan)
    assert whole_schedule(plan) == first
    # Shuffle across days, keeping the recorded order of events within each day.
    same_day = defaultdict(deque)
    for event in plan.events:
        same_day[event.day].append(event)
    shuffled = [same_day[e.day].popleft() for e in rnd.sample(plan.events, len(plan.events))]
    assert whole_schedule(PlanSpec(plan.start_date, plan.steps, tuple(shuffled))) == first


@CONSISTENCY
@given(plans_with_history, st.integers(0, HORIZON_DAYS))
def test_dose_on_a_day_is_that_days_entry_in_the_schedule(plan, offset):
    day = plan.start_date + dt.timedelta(days=offset)
    entry = dose_on(plan, day)
    assert entry == schedule(plan, until=day)[-1]
    assert entry.day == day
    assert entry == whole_schedule(plan)[offset]


@CONSISTENCY
@given(plans_with_history, st.integers(-30, HORIZON_DAYS))
def test_events_after_a_day_do_not_change_that_day(plan, offset):
    day = plan.start_date + dt.timedelta(days=offset)
    so_far = tuple(e for e in plan.events if effective_day(plan, e) <= day)
    assert dose_on(plan, day) == dose_on(PlanSpec(plan.start_date, plan.steps, so_far), day)


@CONSISTENCY
@given(plans_with_history, st.integers(1, 30))
def test_nothing_is_due_before_the_start_date(plan, days_before):
    entry = dose_on(plan, plan.start_date - dt.timedelta(days=days_before))
    assert entry.status == DayStatus.NOT_STARTED
    assert not entry.is_due


@CONSISTENCY
@given(plans_with_history, st.integers(-10, HORIZON_DAYS))
def test_the_next_step_date_is_the_first_change_of_step(plan, offset):
    day = plan.start_date + dt.timedelta(days=offset)
    found = next_step_date(plan, day)
    if found is None:
        return
    assert found > day
    today = dose_on(plan, day)
    between = schedule(plan, until=found, since=day)
    assert between[-1].is_due
    if today.status == DayStatus.NOT_STARTED:
        assert not any(d.is_due for d in between[:-1])
    else:
        assert between[-1].step_index != today.step_index
        assert all(d.step_index == today.step_index or not d.is_due for d in between[1:-1])


@CONSISTENCY
@given(st.lists(st.tuples(st.sampled_from(DOSES), st.integers(1, 21)), min_size=1, max_size=8))
def test_increasing_custom_steps_are_valid_and_followed_exactly(pairs):
    steps = [Step(dose, days) for dose, days in sorted(dict(pairs).items())]
    assert validate_custom_steps(steps) == []
    built = protocol_steps("custom", MAX_DOSE_MG, steps)
    assert [s.dose_mg for s in built] == [s.dose_mg for s in steps]
    assert [s.min_days for s in built[:-1]] == [s.min_days for s in steps[:-1]]
    assert built[-1].min_days is None


@CONSISTENCY
@given(
    st.lists(
        st.tuples(
            st.decimals(min_value=-1, max_value=8, places=2),
            st.one_of(st.none(), st.integers(-2, 30)),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_custom_steps_are_valid_exactly_when_they_follow_the_rules(pairs):
    steps = [Step(dose, days) for dose, days in pairs]
    doses = [s.dose_mg for s in steps]
    follows_rules = (
        all(Decimal("0.5") <= d <= MAX_DOSE_MG and d % Decimal("0.25") == 0 for d in doses)
        and all(a < b for a, b in pairwise(doses))
        and all(s.min_days is not None and s.min_days >= 1 for s in steps[:-1])
    )
    assert (validate_custom_steps(steps) == []) == follows_rules


def next_change_by_walking_everything(plan, day, horizon_days=400):
    """`next_step_date` as its docstring defines it, from the whole schedule, no shortcuts."""
    days = schedule(
        plan, until=max(day, plan.start_date) + dt.timedelta(days=horizon_days), since=day
    )
    today = days[0]
    if today.status == DayStatus.STOPPED:
        return None
    if today.status == DayStatus.NOT_STARTED:
        return next((later.day for later in days[1:] if later.is_due), None)
    return next(
        (
            later.day
            for later in days[1:]
            if later.step_index != today.step_index and later.dose_mg is not None
        ),
        None,
    )


@CONSISTENCY
@given(plans_with_history, st.integers(min_value=-10, max_value=140))
def test_the_next_step_date_stops_early_without_changing_the_answer(plan, offset):
    day = plan.start_date + dt.timedelta(days=offset)
    assert next_step_date(plan, day) == next_change_by_walking_everything(plan, day)


def _fresh(plan):
    """The same plan as a new spec: nothing walked yet."""
    return PlanSpec(
        plan.start_date,
        plan.steps,
        plan.events,
        plan.worst_side_effect_by_day,
        plan.logged,
        plan.as_of,
    )


@CONSISTENCY
@given(
    plans_with_history,
    st.lists(
        st.tuples(st.integers(-10, HORIZON_DAYS), st.integers(-10, HORIZON_DAYS + 30)),
        min_size=1,
        max_size=8,
    ),
)
def test_a_spec_asked_again_answers_as_a_new_walk(plan, questions):
    """The days walked for one question are kept on the spec and answer the next ones: in
    any order, each answer is the one a walk from the start date gives."""
    for since_offset, until_offset in questions:
        since = plan.start_date + dt.timedelta(days=since_offset)
        until = plan.start_date + dt.timedelta(days=until_offset)
        assert schedule(plan, until=until, since=since) == list(_walk(plan, until, since))
        assert next_step_date(plan, since) == next_step_date(_fresh(plan), since)
        assert dose_on(plan, until) == list(_walk(_fresh(plan), until, until))[-1]


statuses = st.sampled_from(["taken", "skipped"])
