import copy
import datetime as dt
import socket
import threading
import time
from contextlib import contextmanager

import pytest
import time_machine
from django.conf import settings
from django.db import connections
from django.db.utils import load_backend
from django.utils import timezone

from ldn_tracker.celery import app as celery_app
from ops import views
from ops.services import heartbeat_record
from tests.services import celery_broker, redis_url_or_skip

NOW = dt.datetime(2026, 3, 10, 21, 0, tzinfo=dt.UTC)

# Nothing listens on port 1: connecting is refused at once.
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@contextmanager
def default_database_unreachable():
    """Swap this thread's default connection for one aimed at nothing, then put it back.

    The view then meets a real connection failure (a refused port on PostgreSQL, a file that
    cannot be opened on SQLite) through its own error handling, where mocking the cursor
    would only test the mock. Re-pointing the real test connection is not an option: the
    test's transaction lives on it, and the SQLite test database lives in memory and would
    vanish with its last connection.
    """
    real = connections["default"]
    settings_dict = copy.deepcopy(real.settings_dict)
    if real.vendor == "sqlite":
        settings_dict["NAME"] = "/nonexistent-directory/ldn.sqlite3"
    else:
        settings_dict.update(HOST="127.0.0.1", PORT="1")
    dead = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "default")
    connections["default"] = dead
    try:
        yield
    finally:
        connections["default"] = real
        dead.close()


def test_it_answers_an_anonymous_visitor_with_json(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["database"] == "ok"


def test_it_is_never_cached(client, db):
    response = client.get("/healthz")

    assert "no-cache" in response["Cache-Control"]


def test_it_only_answers_get(client, db):
    assert client.post("/healthz").status_code == 405


@pytest.mark.integration
def test_it_reports_the_broker_ok_when_redis_answers(client, db):
    with celery_broker(celery_app, redis_url_or_skip()):
        response = client.get("/healthz")

    assert response.json()["broker"] == "ok"


def test_it_reports_the_broker_down_but_stays_up_when_redis_refuses(client, db):
    with celery_broker(celery_app, UNREACHABLE_REDIS):
        response = client.get("/healthz")

    # Web pages work without the broker, so the load balancer must keep sending traffic.
    assert response.status_code == 200
    assert response.json()["broker"] == "down"


def test_it_reports_the_broker_down_when_redis_accepts_but_never_answers(client, db, monkeypatch):
    monkeypatch.setattr(views, "BROKER_CHECK_TIMEOUT_SECONDS", 0.2)
    # A listening socket nobody reads from: the TCP handshake succeeds, PING gets no reply.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        # Should the check ever lose its timeout, closing the socket ends the wait, so this
        # test fails on the duration below instead of hanging the suite.
        safety_net = threading.Timer(5, silent.close)
        safety_net.start()
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        started = time.monotonic()
        with celery_broker(celery_app, url):
            response = client.get("/healthz")
        elapsed = time.monotonic() - started
        safety_net.cancel()

    assert response.json()["broker"] == "down"
    assert elapsed < 2


def test_it_reports_no_worker_before_the_first_heartbeat(client, db):
    response = client.get("/healthz")

    assert response.json()["worker"] == {"status": "none", "last_seen": None}


def test_it_reports_the_worker_ok_after_a_recent_heartbeat(client, db, frozen_now):
    heartbeat_record(worker="celery@web-1", now=frozen_now - dt.timedelta(seconds=30))

    response = client.get("/healthz")

    assert response.json()["worker"] == {
        "status": "ok",
        "last_seen": "2026-03-10T20:59:30+00:00",
    }


def test_it_still_counts_a_heartbeat_exactly_at_the_maximum_age(client, db, frozen_now):
    heartbeat_record(worker="celery@web-1", now=frozen_now - settings.WORKER_HEARTBEAT_MAX_AGE)

    response = client.get("/healthz")

    assert response.json()["worker"]["status"] == "ok"


def test_it_reports_the_worker_stale_when_the_last_heartbeat_is_too_old(client, db, frozen_now):
    too_old = frozen_now - settings.WORKER_HEARTBEAT_MAX_AGE - dt.timedelta(seconds=1)
    heartbeat_record(worker="celery@web-1", now=too_old)

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["worker"] == {"status": "stale", "last_seen": too_old.isoformat()}


def test_it_goes_by_the_most_recent_of_several_workers(client, db, frozen_now):
    heartbeat_record(worker="celery@old-box", now=frozen_now - dt.timedelta(hours=6))
    heartbeat_record(worker="celery@web-1", now=frozen_now - dt.timedelta(seconds=10))

    response = client.get("/healthz")

    assert response.json()["worker"]["status"] == "ok"


def test_it_answers_503_when_the_database_does_not_answer(client, db):
    heartbeat_record(worker="celery@web-1", now=timezone.now())

    with default_database_unreachable():
        response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "down"
    # Without the database the heartbeat cannot be read, whatever the worker is doing.
    assert body["worker"] == {"status": "unknown", "last_seen": None}
