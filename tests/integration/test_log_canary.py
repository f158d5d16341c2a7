"""A diary note written through the real view, then read by a real Celery worker process
(production settings, JSON logs at DEBUG), appears in no log line of either; the worker's
lines for the task carry its id and name."""

import json
import os
import secrets
import shutil
import uuid

import pytest
from django.urls import reverse

from accounts.models import PatientProfile
from clinic.models import AlertReview
from clinic.tasks import alerts_review_changed
from ldn_tracker.celery import app as celery_app
from symptoms.models import DiaryEntry
from tests.clinic.conftest import link
from tests.ops.test_logs import JsonLines
from tests.reminders.conftest import RedisServer, Worker, database_url, free_port, wait_for
from tests.services import (
    celery_broker,
    every_logger_at_debug,
    require_postgresql,
    require_service,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MARKER = f"CANARY{uuid.uuid4().hex[:12]}"


@pytest.fixture
def web_logs():
    """This process's log lines through the production formatter, every logger at DEBUG."""
    with every_logger_at_debug(JsonLines()) as handler:
        yield handler


@pytest.fixture
def production_worker(transactional_db, tmp_path):
    """`celery worker` as production starts it (DEBUG off, so JSON logs by default), at
    DEBUG level, on a redis-server of its own and the test database."""
    require_postgresql()  # the worker process must see the test's rows
    require_service("redis-server", shutil.which("redis-server") is not None, "binary not found")
    redis = RedisServer(free_port(), tmp_path)
    redis.start()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CELERY_", "PYTEST", "DJANGO_"))
        and key not in ("DEBUG", "LOG_FORMAT", "LOG_LEVEL")
    }
    env.update(
        ENV_FILE="/dev/null",
        DJANGO_SETTINGS_MODULE="ldn_tracker.settings",
        SECRET_KEY=secrets.token_urlsafe(45),
        ALLOWED_HOSTS="ldn.example.org",
        EMAIL_URL="smtp://127.0.0.1:1",  # never used: the review sends nothing here
        DATABASE_URL=database_url(),
        REDIS_URL=redis.url,
        CONN_MAX_AGE="0",
        LOG_LEVEL="DEBUG",
        WORKER_CONCURRENCY="1",
    )
    worker = Worker(env, tmp_path / "worker.log")
    with celery_broker(celery_app, redis.url, {"max_retries": 1}):
        worker.start()
        try:
            yield worker
        finally:
            worker.stop()
            redis.stop()


def test_a_diary_note_reaches_no_log_line_of_the_web_or_the_worker(
    client, patient, clinician, production_worker, web_logs
):
    link(patient, clinician=clinician)
    client.force_login(patient)

    response = client.post(reverse("diary"), {"pain": "6", "notes": MARKER})

    assert response.status_code in (200, 302)
    entry = DiaryEntry.objects.get(patient=patient)
    assert entry.notes == MARKER, "the note was stored: otherwise this test proves nothing"
    changed_at = PatientProfile.objects.get(user=patient).record_changed_at
    assert changed_at is not None

    # The minute sweep reads the changed record (the diary with the note) in the worker.
    sent = alerts_review_changed.apply_async()
    seen = AlertReview.objects.filter(patient=patient, record_seen_at__gte=changed_at)
    reviewed = wait_for(seen.exists, 60)
    worker_log = production_worker.log_path.read_text()
    assert reviewed, "the worker did not review the patient:\n" + worker_log[-3000:]
    production_worker.stop()
    worker_log = production_worker.log_path.read_text()

    # Web: the diary request's line, and nothing holding the note.
    (diary_line,) = [line for line in web_logs.requests() if line["method"] == "POST"]
    assert diary_line["path"] == "/diary/" and diary_line["user_id"] == patient.pk
    assert MARKER.lower() not in "\n".join(web_logs.lines).lower()

    # Worker: JSON lines only (bar the banner Celery prints before logging starts), the task's
    # own lines with its id and name, and nothing holding the note.
    records = []
    for text in worker_log.splitlines():
        if text.startswith("{"):
            records.append(json.loads(text))
    assert records, worker_log[-3000:]
    task_lines = [r for r in records if r.get("task_id") == sent.id]
    assert task_lines, "no worker line carries the task id:\n" + worker_log[-3000:]
    assert {r["task_name"] for r in task_lines} == {"clinic.tasks.alerts_review_changed"}
    assert MARKER.lower() not in worker_log.lower()
    assert patient.email not in worker_log
