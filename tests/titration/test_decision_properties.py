"""Properties of the dose decision over random plans, side effects, clocks, travel and taps.

A patient acts at random instants over a few weeks (take, skip, a late entry at a stated
time, undo), sometimes travelling to another zone; only what the decision allows is recorded.
Whatever happens, DOMAIN.md's Dose safety rules must hold.
"""

import datetime as dt
from decimal import Decimal
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from titration import decision
from titration import schedule as engine
from titration.decision import SKIPPED, TAKEN, Clock, Inputs, LogEntry, decide

PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SIX_HOURS = dt.timedelta(hours=6)
ZONES = [
    ZoneInfo(name)
    for name in (
        "Europe/London",
        "America/Los_Angeles",
        "Australia/Sydney",
        "Pacific/Auckland",
        "Asia/Kolkata",
        "Pacific/Kiritimati",
        "America/St_Johns",
    )
]
DOSE_TIMES = [dt.time(0, 30), dt.time(1, 30), dt.time(8, 0), dt.time(22, 0), dt.time(23, 59)]
DOSES = [Decimal("0.5") + Decimal("0.25") * i for i in range(23)]  # 0.5 to 6.0 mg
CONCENTRATIONS = [None, Decimal("1"), Decimal("2"), Decimal("3"), Decimal("4.5"), Decimal("5")]
# Around both European clock changes of 2026 and the southern ones of April/October.
STARTS = st.one_of(
    st.dates(dt.date(2026, 3, 15), dt.date(2026, 4, 10)),
    st.dates(dt.date(2026, 9, 20), dt.date(2026, 10, 30)),
    st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31)),
)
EVENT_KINDS = [
    engine.EventKind.HOLD,
    engine.EventKind.RELEASE,
    engine.EventKind.STEP_UP,
    engine.EventKind.STEP_BACK,
    engine.EventKind.PAUSE,
    engine.EventKind.RESUME,
]


@st.composite
def specs(draw):
    start = draw(STARTS)
    protocol = draw(st.sampled_from(["standard", "gentle", "sensitive", "custom"]))
    custom = []
    if protocol == "custom":
        doses = sorted(draw(st.sets(st.sampled_from(DOSES), min_size=1, max_size=6)))
        custom = [engine.Step(dose, draw(st.integers(1, 10))) for dose in doses]
    steps = engine.protocol_steps(protocol, draw(st.sampled_from(DOSES)), custom)
    days = st.integers(-2, 24).map(lambda n: start + dt.timedelta(days=n))
    events = draw(
        st.lists(
            st.builds(
                engine.Event,
                days,
                st.sampled_from(EVENT_KINDS),
                st.one_of(st.none(), st.integers(1, 5)),
            ),
            max_size=4,
        )
    )
    side_effects = draw(st.dictionaries(days, st.integers(0, 3), max_size=8))
    return engine.PlanSpec(
        start_date=start,
        steps=steps,
        events=tuple(events),
        worst_side_effect_by_day=side_effects,
    )


gaps = st.one_of(
    st.integers(0, 30).map(lambda s: dt.timedelta(seconds=s)),  # a double tap, a resend
    st.integers(1, 30 * 60).map(lambda m: dt.timedelta(minutes=m)),
    st.integers(22 * 60, 26 * 60).map(lambda m: dt.timedelta(minutes=m)),  # about a day
)
actions = st.tuples(
    gaps,
    st.sampled_from(["take"] * 4 + ["skip", "late_take", "late_take", "late_skip", "undo"]),
    st.integers(0, 2),  # which late-entry date
    st.integers(0, 36 * 60).map(lambda m: dt.timedelta(minutes=m)),  # stated time, back from now
    st.one_of(st.none(), st.none(), st.none(), st.sampled_from(ZONES)),  # travel
)


@st.composite
def histories(draw):
    spec = draw(specs())
    clock = Clock(draw(st.sampled_from(ZONES)), draw(st.sampled_from(DOSE_TIMES)))
    # From a little before the first dose's window opens.
    first = clock.window(spec.start_date)[0] - dt.timedelta(minutes=draw(st.integers(0, 600)))
    return (
        spec,
        clock,
        draw(st.sampled_from(CONCENTRATIONS)),
        first,
        draw(st.lists(actions, min_size=8, max_size=40)),
    )


def assert_safe(inputs):
    """The invariants of the recorded log, at any moment."""
    taken = sorted(
        (day, entry.taken_at)
        for day, entry in inputs.logs.items()
        if entry.status == TAKEN and entry.taken_at is not None
    )
    instants = sorted(instant for _, instant in taken)
    for a, b in pairwise(instants):
        assert b - a >= SIX_HOURS, (a, b)
    # A later date is never taken before an earlier one.
    for (_, a), (_, b) in pairwise(taken):
        assert a < b
    for entry in inputs.logs.values():
        if entry.status == TAKEN:
            assert engine.MIN_DOSE_MG <= entry.dose_mg <= engine.MAX_DOSE_MG


def assert_decision(inputs, decided, now):
    clock = inputs.clock
    start, end = clock.window(decided.window_day)
    assert start <= now < end
    if decided.due.dose_mg is not None:
        assert engine.MIN_DOSE_MG <= decided.due.dose_mg <= engine.MAX_DOSE_MG
        assert decided.due.dose_mg in {step.dose_mg for step in inputs.spec.steps}
    if decided.can_take:
        start, end = clock.window(decided.dose_day)
        assert start <= now < end, "a take is offered outside its date's window"
        assert decided.dose_day not in inputs.logs
        assert decided.due.is_due
    if decided.liquid is not None:
        dose, liquid = decided.due.dose_mg, decided.liquid
        assert liquid.ml == liquid.ml.quantize(Decimal("0.1"))
        if not liquid.warning:
            assert abs(liquid.delivers_mg - dose) <= dose * Decimal("0.1")


def simulate(spec, clock, concentration, first, steps):
    """Apply the actions, recording only what the decision allows; check as we go."""
    inputs = Inputs(spec, {}, clock, concentration)
    now = first
    for gap, action, late_index, stated_back, zone in steps:
        now += gap
        if zone is not None:
            inputs = Inputs(
                inputs.spec, inputs.logs, Clock(zone, inputs.clock.dose_time), concentration
            )
        decided = decide(inputs, now)
        assert decided == decide(inputs, now)  # deterministic
        assert_decision(inputs, decided, now)
        logs = dict(inputs.logs)
        if action == "take" and decided.can_take:
            logs[decided.dose_day] = LogEntry(TAKEN, decided.due.dose_mg, now, now)
        elif action == "skip" and decided.can_skip:
            logs[decided.dose_day] = LogEntry(SKIPPED, decided.due.dose_mg, now, None)
        elif action in ("late_take", "late_skip"):
            days = decision.late_days(inputs, now)
            if days:
                day = days[late_index % len(days)]
                status = TAKEN if action == "late_take" else SKIPPED
                taken_at = now - stated_back if status == TAKEN else None
                if decision.check_late(inputs, day, status, taken_at, now) is None:
                    assert day not in logs
                    due = engine.dose_on(decided.spec, day)
                    if status == TAKEN:
                        start, end = inputs.clock.window(day)
                        assert start <= taken_at < end, "a stated time outside its window"
                        assert taken_at <= now + decision.STATED_TIME_SKEW
                    logs[day] = LogEntry(status, due.dose_mg, now, taken_at)
        elif (
            action == "undo"
            and decided.undo_day is not None
            and decision.check_undo(inputs, decided.undo_day, now) is None
        ):
            del logs[decided.undo_day]
        inputs = Inputs(inputs.spec, logs, inputs.clock, concentration)
        assert_safe(inputs)
    return inputs, now


@PROPERTY
@given(histories())
def test_whatever_the_patient_taps_taken_doses_are_six_hours_apart_and_in_their_windows(
    history,
):
    simulate(*history)


@PROPERTY
@given(histories())
def test_each_days_dose_rises_at_most_one_step_from_the_day_before(history):
    spec = history[0]
    inputs, now = simulate(*history)
    final = decide(inputs, now).spec
    days = engine.schedule(final, until=inputs.clock.window_day(now) + dt.timedelta(days=1))
    for before, after in pairwise(days):
        assert after.step_index <= before.step_index + 1, (before, after)
        if (
            before.dose_mg is not None
            and after.dose_mg is not None
            and after.dose_mg > before.dose_mg
        ):
            higher = [step.dose_mg for step in spec.steps if step.dose_mg > before.dose_mg]
            assert after.dose_mg == min(higher), (before, after)
    # The doses recorded on consecutive dates, each as decided at the time, too.
    recorded = sorted(
        (day, entry.dose_mg) for day, entry in inputs.logs.items() if entry.status == TAKEN
    )
    for (day_a, mg_a), (day_b, mg_b) in pairwise(recorded):
        if (day_b - day_a).days == 1 and mg_b > mg_a:
            higher = [step.dose_mg for step in spec.steps if step.dose_mg > mg_a]
            assert mg_b == min(higher), ((day_a, mg_a), (day_b, mg_b))


@PROPERTY
@given(histories(), st.integers(0, 72 * 60).map(lambda m: dt.timedelta(minutes=m)))
def test_the_decision_is_deterministic_and_the_same_for_every_caller(history, later):
    inputs, now = simulate(*history)
    instant = now + later
    today, reminder = decide(inputs, instant), decide(inputs, instant)
    assert today == reminder
    assert today.due.dose_mg == reminder.due.dose_mg
    assert today.dose_ml == reminder.dose_ml


@PROPERTY
@given(st.sampled_from(DOSES), st.sampled_from(CONCENTRATIONS[1:]))
def test_liquid_never_delivers_more_than_ten_percent_off_without_a_warning(dose, concentration):
    liquid = decision.liquid_dose(dose, concentration)
    assert liquid.ml == liquid.ml.quantize(Decimal("0.1"))
    assert liquid.delivers_mg == (liquid.ml * concentration).quantize(Decimal("0.01"))
    # Halves round down: never more than half a tenth of a mL over the exact volume.
    assert liquid.ml * concentration <= dose + concentration * Decimal("0.05")
    if not liquid.warning:
        assert abs(liquid.delivers_mg - dose) <= dose * Decimal("0.1")


@PROPERTY
@given(
    st.sampled_from(ZONES),
    st.sampled_from(DOSE_TIMES),
    st.dates(dt.date(2025, 1, 1), dt.date(2027, 12, 31)),
)
def test_windows_meet_end_to_start_and_every_instant_has_one_date(zone, dose_time, day):
    clock = Clock(zone, dose_time)
    start, end = clock.window(day)
    assert start < end
    assert end == clock.window(day + dt.timedelta(days=1))[0]
    for instant in (start, start + (end - start) / 2, end - dt.timedelta(seconds=1)):
        assert clock.window_day(instant) == day
