"""Builders for the progress, questionnaire, report and export tests."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from symptoms.models import DiaryEntry
from titration import schedule as engine
from titration.models import DoseLog

from ..factories import onboarded_patient

# 19:00 in London on Friday 20 November 2026: the patient's "today" is the 20th.
NOW = dt.datetime(2026, 11, 20, 19, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 20)

# Pain: 6 on every run-in day gives a baseline of 6.0. The last 7 days hold 4, 4, 4, 4, 5
# and two days with no pain rating: 21 / 5 = 4.2, exactly 30% lower.
RUN_IN_PAIN = 6
LAST_WEEK_PAIN = [None, None, 4, 4, 4, 4, 5]


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def patient_on_day(plan_days, *, email):
    """A patient whose plan started `plan_days` days ago (today is plan day `plan_days`)."""
    return onboarded_patient(email=email, start_date=TODAY - dt.timedelta(days=plan_days - 1))


def add_history(patient, *, notes_for=None):
    """A run-in week and every plan day up to today: diary entries and doses taken.

    Written with bulk_create so 180 days stay fast. `notes_for` maps dates to
    (notes, shared) for the entries that carry notes.
    """
    notes_for = notes_for or {}
    plan = patient.plans.get()
    start = plan.start_date
    first = start - dt.timedelta(days=7)
    days = (TODAY - first).days + 1
    entries = []
    for n in range(days):
        day = first + dt.timedelta(days=n)
        from_end = (TODAY - day).days
        pain = LAST_WEEK_PAIN[6 - from_end] if from_end < 7 else RUN_IN_PAIN
        notes, shared = notes_for.get(day, ("", False))
        entries.append(
            DiaryEntry(
                patient=patient,
                date=day,
                pain=pain,
                sleep=5,
                fatigue=6,
                fog=4,
                mood=5,
                headache=1 if n % 3 == 0 else 0,
                alcohol=n % 2 == 0,
                notes=notes,
                share_notes=shared,
            )
        )
    DiaryEntry.objects.bulk_create(entries)
    now = timezone.now()
    DoseLog.objects.bulk_create(
        DoseLog(
            patient=patient,
            plan=plan,
            date=d.day,
            status=DoseLog.Status.TAKEN,
            dose_mg=d.dose_mg,
            logged_at=now,
        )
        for d in engine.schedule(plan.spec(), until=TODAY)
        if d.is_due
    )
    return plan


def login_redirect(response):
    return response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
