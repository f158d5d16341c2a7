"""The plan state's readings: the same answers as the querysets, built lazily, in few statements."""

import datetime as dt

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from titration import selectors
from titration.models import DoseLog, PlanEvent

from ..factories import (
    DiaryEntryFactory,
    DoseLogFactory,
    PlanFactory,
    SafetyScreeningFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

START = dt.date(2026, 8, 3)


def _fields(log):
    return {f.attname: getattr(log, f.attname) for f in DoseLog._meta.concrete_fields}


def _logged(plan, pattern):
    for offset, status in enumerate(pattern):
        if status:
            DoseLogFactory(plan=plan, date=START + dt.timedelta(days=offset), status=status)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pattern=st.lists(
        st.sampled_from([None, DoseLog.Status.TAKEN, DoseLog.Status.SKIPPED]), max_size=30
    ),
    full=st.booleans(),
)
def test_dose_logs_answer_as_a_dict_of_the_querysets_rows(pattern, full):
    plan = PlanFactory(start_date=START)
    _logged(plan, pattern)
    expected = {log.date: log for log in DoseLog.objects.filter(patient=plan.patient)}
    logs = selectors.DoseLogs.of(plan.patient, full=full)

    assert logs.statuses == {day: log.status for day, log in expected.items()}
    assert list(logs) == list(expected)  # newest first, as the queryset orders them
    assert len(logs) == len(expected)
    for day in expected:
        assert day in logs
        assert _fields(logs[day]) == _fields(expected[day])
        assert logs.get(day) is logs[day]  # built once
    assert {d: _fields(v) for d, v in logs.items()} == {d: _fields(v) for d, v in expected.items()}
    missing = START - dt.timedelta(days=1)
    assert missing not in logs and logs.get(missing) is None
    with pytest.raises(KeyError):
        logs[missing]


def test_a_save_reads_the_statuses_and_a_whole_entry_only_when_asked(
    django_assert_num_queries,
):
    plan = PlanFactory(start_date=START)
    _logged(plan, [DoseLog.Status.TAKEN, DoseLog.Status.SKIPPED])
    with django_assert_num_queries(1):
        logs = selectors.DoseLogs.of(plan.patient, full=False)
        assert logs.statuses == {START: "taken", START + dt.timedelta(days=1): "skipped"}
        assert START in logs and logs.get(START - dt.timedelta(days=1)) is None
    with django_assert_num_queries(1):  # the first entry asked for reads them all
        assert logs[START].status == "taken"
    with django_assert_num_queries(0):
        assert logs[START + dt.timedelta(days=1)].status == "skipped"
    new = DoseLogFactory(plan=plan, date=START + dt.timedelta(days=2))
    unread = selectors.DoseLogs.of(plan.patient, full=False)
    with django_assert_num_queries(0):
        after = unread.with_log(new)
        assert after[new.date] is new
    with django_assert_num_queries(1):
        assert after[START].status == "taken"


def test_another_patients_doses_are_not_read():
    mine, theirs = PlanFactory(start_date=START), PlanFactory(start_date=START)
    _logged(mine, [DoseLog.Status.TAKEN])
    _logged(theirs, [DoseLog.Status.TAKEN, DoseLog.Status.SKIPPED])
    assert list(selectors.DoseLogs.of(mine.patient)) == [START]


def test_a_new_log_is_added_without_reading_again(django_assert_num_queries):
    plan = PlanFactory(start_date=START)
    _logged(plan, [DoseLog.Status.TAKEN, DoseLog.Status.TAKEN])
    logs = selectors.DoseLogs.of(plan.patient)
    new = DoseLogFactory(plan=plan, date=START + dt.timedelta(days=2))
    first = _fields(DoseLog.objects.get(patient=plan.patient, date=START))
    with django_assert_num_queries(0):
        after = logs.with_log(new)
        assert after[new.date] is new
        assert after.statuses[new.date] == DoseLog.Status.TAKEN
        assert len(after) == 3 and len(logs) == 2  # the first reading is unchanged
        assert _fields(after[START]) == first


def test_the_plan_state_reads_in_four_statements_whatever_the_history(
    django_assert_num_queries,
):
    """Plan (with the safety screen), events, dose log, diary: compiled once, read once."""
    for days in (3, 60):
        plan = PlanFactory(start_date=START)
        _logged(plan, [DoseLog.Status.TAKEN] * days)
        today = START + dt.timedelta(days=days)
        with django_assert_num_queries(4):
            current = selectors.current_plan(plan.patient)
            state = selectors.plan_state(plan.patient, current, today)
        assert current == plan
        assert len(state.logs) == days
        assert state.statuses == {
            START + dt.timedelta(days=n): DoseLog.Status.TAKEN for n in range(days)
        }


def _event_fields(event):
    return {f.attname: getattr(event, f.attname) for f in PlanEvent._meta.concrete_fields}


def _same_state(mine, expected):
    assert mine.plan == expected.plan
    assert mine.plan.opioids_reported == expected.plan.opioids_reported
    assert [_event_fields(e) for e in mine.events] == [_event_fields(e) for e in expected.events]
    assert list(mine.statuses.items()) == list(expected.statuses.items())  # order too
    assert mine.sleep_days == expected.sleep_days
    assert mine.spec == expected.spec
    assert mine.today == expected.today


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    pattern=st.lists(
        st.sampled_from([None, DoseLog.Status.TAKEN, DoseLog.Status.SKIPPED]), max_size=20
    ),
    side_effects=st.dictionaries(
        st.integers(min_value=-5, max_value=25),  # days from the start; some before the window
        st.tuples(st.sampled_from([None, 0, 1, 2, 3]), st.sampled_from([None, 0, 1, 2, 3])),
        max_size=10,
    ),
    holds=st.lists(
        st.tuples(st.integers(min_value=0, max_value=20), st.sampled_from([None, 0, 2, 5])),
        max_size=3,
    ),
    opioids=st.sampled_from([None, False, True]),
    days_in=st.integers(min_value=0, max_value=22),
)
def test_the_current_plan_state_is_the_plan_state_of_the_current_plan(
    pattern, side_effects, holds, opioids, days_in
):
    """On PostgreSQL one statement builds it; it must answer exactly as the four queries do."""
    old = PlanFactory(start_date=START - dt.timedelta(days=40))
    patient = old.patient
    DoseLogFactory(plan=old, date=START - dt.timedelta(days=30))  # an earlier plan's dose
    plan = PlanFactory(patient=patient, start_date=START)
    _logged(plan, pattern)
    if opioids is not None:
        SafetyScreeningFactory(patient=patient, opioid_use=opioids)
    for offset, (nausea, insomnia) in side_effects.items():
        DiaryEntryFactory(
            patient=patient,
            date=START + dt.timedelta(days=offset),
            nausea=nausea,
            insomnia=insomnia,
        )
    for offset, days in holds:
        PlanEvent.objects.create(
            plan=plan,
            kind=PlanEvent.Kind.HOLD,
            effective_date=START + dt.timedelta(days=offset),
            days=days,
            reason="Waiting for side effects to settle",
            automatic=days is None,
        )
    stranger = PlanFactory(start_date=START)  # another patient's history is never read
    _logged(stranger, [DoseLog.Status.SKIPPED] * 3)
    DiaryEntryFactory(patient=stranger.patient, date=START, nausea=3, insomnia=3)
    today = START + dt.timedelta(days=days_in)

    mine = selectors.current_plan_state(patient, today)
    expected = selectors.plan_state(patient, selectors.current_plan(patient), today)
    _same_state(mine, expected)
    assert mine.plan.pk == plan.pk
    assert not hasattr(mine.plan, "log_dates")  # the arrays are not left on the plan
    diary_today = (today - START).days in side_effects
    assert mine.diary_today == (diary_today if connection.vendor == "postgresql" else None)
    for day in expected.statuses:  # whole entries, read when asked for
        assert _fields(mine.logs[day]) == _fields(expected.logs[day])


def test_the_current_plan_state_is_one_statement_on_postgresql(django_assert_num_queries):
    plan = PlanFactory(start_date=START)
    _logged(plan, [DoseLog.Status.TAKEN] * 5)
    DiaryEntryFactory(patient=plan.patient, date=START, vivid_dreams=2)
    today = START + dt.timedelta(days=5)
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 4):
        state = selectors.current_plan_state(plan.patient, today)
    assert state.plan == plan and len(state.statuses) == 5
    assert state.sleep_days == {START}


def test_without_a_plan_there_is_no_current_plan_state():
    patient = UserFactory()
    assert selectors.current_plan_state(patient, START) is None
