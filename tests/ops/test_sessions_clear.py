"""Expired sessions are deleted once a day (beat runs `ops.tasks.sessions_clear`, Django's
clearsessions); a live session stays."""

import datetime as dt

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from ops.tasks import sessions_clear

pytestmark = pytest.mark.django_db


def session_expiring_at(when):
    store = SessionStore()
    store["_ldn_login_at"] = 0
    store.create()
    Session.objects.filter(session_key=store.session_key).update(expire_date=when)
    return store.session_key


def test_an_expired_session_is_removed_and_a_live_one_kept():
    now = timezone.now()
    expired = session_expiring_at(now - dt.timedelta(seconds=1))
    live = session_expiring_at(now + dt.timedelta(minutes=10))

    sessions_clear()

    assert list(Session.objects.values_list("session_key", flat=True)) == [live]
    assert expired != live


def test_beat_runs_it_once_a_day():
    [entry] = [
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "ops.tasks.sessions_clear"
    ]
    schedule = entry["schedule"]
    assert isinstance(schedule, crontab)
    assert len(schedule.hour) == 1 and len(schedule.minute) == 1
    assert schedule.day_of_week == set(range(7))
