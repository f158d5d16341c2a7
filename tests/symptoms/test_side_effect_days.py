"""The diary's one reading of side effects, as titration's tolerance rules use it."""

import datetime as dt

import pytest

from symptoms.models import DiaryEntry, Severity

from ..factories import DiaryEntryFactory, UserFactory

pytestmark = pytest.mark.django_db

DAY = dt.date(2026, 11, 20)


def test_one_query_gives_the_worst_severity_and_the_sleep_days(django_assert_num_queries):
    patient = UserFactory()
    DiaryEntryFactory(patient=patient, date=DAY, nausea=Severity.MODERATE, vivid_dreams=1)
    DiaryEntryFactory(patient=patient, date=DAY + dt.timedelta(days=1), insomnia=Severity.SEVERE)
    DiaryEntryFactory(patient=patient, date=DAY + dt.timedelta(days=2), headache=Severity.MILD)
    DiaryEntryFactory(patient=patient, date=DAY + dt.timedelta(days=3), pain=7)  # no side effect
    DiaryEntryFactory(patient=UserFactory(), date=DAY, insomnia=Severity.SEVERE)  # someone else
    with django_assert_num_queries(1):
        days = DiaryEntry.objects.side_effects_between(patient, DAY, DAY + dt.timedelta(days=3))
    assert days.worst_by_day == {
        DAY: Severity.MODERATE,
        DAY + dt.timedelta(days=1): Severity.SEVERE,
        DAY + dt.timedelta(days=2): Severity.MILD,
        DAY + dt.timedelta(days=3): 0,
    }
    assert days.sleep_days == {DAY, DAY + dt.timedelta(days=1)}


def test_days_outside_the_window_are_left_out():
    patient = UserFactory()
    DiaryEntryFactory(patient=patient, date=DAY - dt.timedelta(days=1), insomnia=Severity.MILD)
    days = DiaryEntry.objects.side_effects_between(patient, DAY, DAY + dt.timedelta(days=6))
    assert days.worst_by_day == {}
    assert days.sleep_days == frozenset()
