"""A real Celery worker, consuming from the real Redis broker, runs a task that writes to the
database. No eager mode: the task is published to Redis and picked up by the worker.

The worker runs in a thread of this process (celery.contrib.testing.worker.start_worker), so
it uses the test database pytest-django set up. The test is transactional (`transactional_db`)
because the worker thread has its own connection: it cannot see rows inside the test's
transaction, and the test could not see the worker's.
"""

import time
import uuid

import pytest
from celery.contrib.testing.worker import start_worker

from ldn_tracker.celery import app as celery_app
from ops.models import WorkerHeartbeat
from ops.tasks import heartbeat
from tests.services import celery_broker, redis_url_or_skip

pytestmark = pytest.mark.integration

WAIT_SECONDS = 20


@pytest.fixture
def redis_worker(transactional_db):
    """A solo worker on the Redis test database, consuming only a queue of its own, so no
    other worker on this machine (or another test run) can take its tasks."""
    queue = f"test-{uuid.uuid4().hex}"
    with celery_broker(celery_app, redis_url_or_skip()) as app:
        routing = app.amqp.queues
        consume_from = routing._consume_from
        try:
            with start_worker(
                app,
                pool="solo",
                queues=[queue],
                # The ping check needs a result backend and the default queue; we have neither.
                perform_ping_check=False,
                shutdown_timeout=WAIT_SECONDS,
            ) as worker:
                worker.test_queue = queue
                yield worker
        finally:
            # Redis keeps the queue's binding after the worker stops; declaring it on this
            # channel first lets kombu delete the binding along with the queue.
            with app.connection_for_write() as conn:
                test_queue = routing[queue](conn.default_channel)
                test_queue.declare()
                test_queue.delete()
            # Starting the worker narrowed the app's queues to ours (celery has no public
            # "undo" for that); a later worker in this process consumes the configured ones.
            routing._consume_from = consume_from
            routing.pop(queue, None)


def wait_for(condition, seconds=WAIT_SECONDS):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_the_worker_runs_a_heartbeat_published_to_redis(redis_worker, client):
    assert not WorkerHeartbeat.objects.exists()

    heartbeat.apply_async(queue=redis_worker.test_queue)

    # Any row will do: the test database starts empty, and the embedded worker reports the
    # machine's host name rather than its node name (it skips the CLI worker's set-up).
    beat_saved = wait_for(WorkerHeartbeat.objects.exists)
    assert beat_saved, f"the worker wrote no heartbeat within {WAIT_SECONDS} s"
    health = client.get("/healthz").json()
    assert health["broker"] == "ok"
    assert health["worker"]["status"] == "ok"
