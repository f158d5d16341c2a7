"""Real parts: our own redis-server, a real `celery worker` process, a real SMTP server
(aiosmtpd) and the test database on PostgreSQL. Beat is this test calling the tick, the
same plain function beat's task calls."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from reminders.models import Reminder, SweepMark
from reminders.services import reminders_tick
from tests.factories import DoseLogFactory
from titration.models import Plan

from .conftest import patient_due_at, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ZONES = ["Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Adelaide", "UTC"]


def patients_due_now(count, prefix, now):
    return [
        patient_due_at(now, time_zone=ZONES[n % len(ZONES)], email=f"{prefix}{n}@example.org")
        for n in range(count)
    ]


def tick_from(start, now=None):
    """Beat's tick, owning the window from `start` (as if the previous tick ran then)."""
    SweepMark.objects.update_or_create(pk=1, defaults={"covered_until": start})
    return reminders_tick(now=now or timezone.now())


def test_two_hundred_patients_due_in_one_window_get_exactly_one_email_each(stack):
    now = timezone.now()
    due = patients_due_now(200, "due", now)
    logged = patients_due_now(10, "logged", now)
    for patient in logged:
        DoseLogFactory(plan=Plan.objects.get(patient=patient), date=patient.profile.local_today())

    first = tick_from(now - dt.timedelta(minutes=2))

    assert len(first.enqueued) == 200
    assert wait_for(lambda: len(stack.sink.messages) >= 200, 90), len(stack.sink.messages)
    assert wait_for(lambda: Reminder.objects.filter(status="sent").count() == 200, 30), (
        Reminder.objects.values("status").distinct()
    )

    second = reminders_tick(now=timezone.now())
    assert wait_for(lambda: False, 3) is False  # give a stray duplicate time to arrive
    assert second.enqueued == []
    assert sorted(stack.sink.to()) == sorted(p.email for p in due)
    assert len(set(stack.sink.message_ids())) == 200


def test_two_beats_at_once_send_each_reminder_once(stack):
    now = timezone.now()
    patients_due_now(40, "twice", now)
    SweepMark.objects.update_or_create(
        pk=1, defaults={"covered_until": now - dt.timedelta(minutes=2)}
    )
    results = []

    def beat():
        try:
            results.append(reminders_tick(now=timezone.now()))
        finally:
            connection.close()  # each thread has its own connection

    beats = [threading.Thread(target=beat) for _ in range(2)]
    for thread in beats:
        thread.start()
    for thread in beats:
        thread.join()

    assert wait_for(lambda: Reminder.objects.filter(status="sent").count() == 40, 60)
    wait_for(lambda: False, 2)
    assert Reminder.objects.count() == 40
    assert len(stack.sink.messages) == 40
    assert len(set(stack.sink.to())) == 40
