"""A unique marker typed into every free-text field and rating never leaves the database:
not in logs (captured at DEBUG for the whole request cycle), email subjects, Celery task
messages, or Redis keys."""

import logging
import uuid

import pytest
import redis
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from kombu.messaging import Producer

from clinic.models import AlertAcknowledgement, CareLink, ClinicianNote
from symptoms.models import DiaryEntry
from titration.models import DoseLog, PlanEvent

from ..clinic.conftest import mfa_login
from ..services import redis_url_or_skip

MARKER = f"CANARY{uuid.uuid4().hex[:12]}"
# A rating nobody would type by chance, written as each field would be logged.
RATING_VALUES = {"pain": 7, "sleep": 3, "fatigue": 8, "fog": 2, "mood": 9}


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(
            " ".join([record.name, record.getMessage(), repr(record.args), record.exc_text or ""])
        )


@pytest.fixture
def captured_logs():
    """Every logger at DEBUG, into one handler, for the test."""
    handler = Capture()
    root = logging.getLogger()
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    saved = [(logger, logger.level, logger.disabled) for logger in [root, *loggers]]
    for logger in [root, *loggers]:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
    root.addHandler(handler)
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        for logger, level, disabled in saved:
            logger.setLevel(level)
            logger.disabled = disabled


@pytest.fixture
def published(monkeypatch):
    """What the app hands to the Celery broker: every message body and its headers."""
    messages = []

    def publish(self, body, *args, **kwargs):
        messages.append(repr((body, kwargs.get("headers"), kwargs)))

    monkeypatch.setattr(Producer, "publish", publish)
    return messages


def test_the_marker_goes_nowhere_but_the_database(
    world, captured_logs, published, django_capture_on_commit_callbacks
):
    a = world["patient_a"]
    patient = Client()
    patient.force_login(a)
    doctor = mfa_login(Client(), world["clinician_linked"])
    yesterday = world.objects["yesterday"].isoformat()

    with django_capture_on_commit_callbacks(execute=True):
        # The patient: diary (ratings, side effect text, notes), a skip, a hold, a code.
        patient.post(
            reverse("diary_day", args=[yesterday]),
            {**RATING_VALUES, "other": "1", "other_text": MARKER, "notes": MARKER},
        )
        patient.post(reverse("dose_skip"), {"reason": MARKER})
        patient.post(reverse("plan_hold"), {"days": "3", "reason": MARKER})
        patient.post(reverse("clinic:sharing"), {"code": MARKER})
        patient.post(reverse("clinic:sharing_accept", args=[MARKER]))
        patient.post(
            reverse("reminder_settings"),
            {"reminder_time": "21:30", "travel": "home", "home_time_zone": MARKER},
        )
        # The profile's name (it signs emails and greets on pages).
        patient.post(reverse("profile"), {"section": "name", "name-first_name": MARKER})
        # The clinician: a note, an alert acknowledgement, a plan message, an invitation,
        # a panel search.
        args = [a.pk]
        doctor.post(reverse("clinic:note_add", args=args), {"text": MARKER})
        doctor.post(
            reverse("clinic:alert_acknowledge", args=[a.pk, world.objects["alert"].pk]),
            {"note": MARKER},
        )
        doctor.post(
            reverse("clinic:patient_plan", args=args),
            {"change": "step_back", "step_back-reason": MARKER},
        )
        doctor.post(reverse("clinic:care_invite"), {"email": f"{MARKER.lower()}@example.org"})
        doctor.post(reverse("clinic:panel"), {"q": MARKER}, follow=True)
        doctor.post(reverse("clinic:patient_identity", args=args), {"mrn": MARKER[:40]})

    # The marker was really typed in and stored: otherwise this test proves nothing.
    entry = DiaryEntry.objects.get(patient=a, date=yesterday)
    assert entry.notes == MARKER and entry.other_text == MARKER
    assert entry.pain == RATING_VALUES["pain"]
    assert DoseLog.objects.filter(patient=a, skip_reason=MARKER).exists()
    assert PlanEvent.objects.filter(plan__patient=a, reason=MARKER).exists()
    assert ClinicianNote.objects.filter(patient=a, text=MARKER).exists()
    assert AlertAcknowledgement.objects.filter(note=MARKER).exists()
    assert mail.outbox, "the invitation email was sent"
    a.refresh_from_db()
    assert a.first_name == MARKER
    assert CareLink.objects.filter(patient=a, mrn=MARKER[:40]).exists()

    assert captured_logs, "logging was captured"
    leaks = [line for line in captured_logs if MARKER.lower() in line.lower()]
    assert not leaks, leaks
    ratings = [f"'{name}': {value}" for name, value in RATING_VALUES.items()]
    assert not [line for line in captured_logs if any(r in line for r in ratings)]
    assert not [m.subject for m in mail.outbox if MARKER.lower() in m.subject.lower()]
    assert not [m for m in published if MARKER.lower() in m.lower()]
    local_cache = getattr(cache, "_cache", {})
    assert not [key for key in local_cache if MARKER.lower() in str(key).lower()]


def test_no_redis_key_holds_the_marker(world, settings):
    """Whatever the app keeps in Redis (broker queues, cache) is named without health data."""
    url = redis_url_or_skip()
    client = Client()
    client.force_login(world["patient_a"])
    client.post(reverse("diary"), {"notes": MARKER, "pain": "5"})
    server = redis.Redis.from_url(url.rsplit("/", 1)[0])
    for db in range(16):
        keys = redis.Redis.from_url(f"{url.rsplit('/', 1)[0]}/{db}").scan_iter(
            match=f"*{MARKER}*", count=1000
        )
        assert not list(keys), f"a Redis key in database {db} holds the marker"
    server.close()
