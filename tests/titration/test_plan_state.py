"""The plan state's reading of the dose log: the same answers as the queryset, built lazily."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from titration import selectors
from titration.models import DoseLog

from ..factories import DoseLogFactory, PlanFactory

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
