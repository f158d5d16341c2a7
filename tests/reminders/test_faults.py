"""Faults with real parts: an SMTP server that refuses, a worker killed mid-batch, Redis
stopped for 30 seconds. Every process stopped here was started here."""

import datetime as dt

import pytest
from django.utils import timezone

from reminders.models import Reminder, SweepMark
from reminders.services import reminders_tick
from titration.models import DoseLog

from .conftest import patient_due_at, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def tick_from(start, now=None):
    SweepMark.objects.update_or_create(pk=1, defaults={"covered_until": start})
    return reminders_tick(now=now or timezone.now())


def test_three_temporary_refusals_then_delivered_once_on_attempt_four(stack):
    patient = patient_due_at(timezone.now(), email="retry@example.org")
    stack.sink.replies.extend(["451 4.3.0 Try again later"] * 3)

    tick_from(timezone.now() - dt.timedelta(minutes=2))

    assert wait_for(lambda: Reminder.objects.filter(status="sent").exists(), 60)
    row = Reminder.objects.get(patient=patient)
    assert row.attempts == 4
    assert len(stack.sink.refusals) == 3
    assert stack.sink.to() == ["retry@example.org"]


def test_a_permanent_refusal_fails_the_row_and_is_not_retried(stack):
    patient_due_at(timezone.now(), email="nobody@example.org")
    stack.sink.replies.append("550 5.1.1 No such user here")

    tick_from(timezone.now() - dt.timedelta(minutes=2))

    assert wait_for(lambda: Reminder.objects.filter(status="failed").exists(), 30)
    wait_for(lambda: False, 3)
    row = Reminder.objects.get()
    assert (row.attempts, row.status) == (1, "failed")
    assert "550" in row.detail
    assert stack.sink.messages == [] and len(stack.sink.refusals) == 1


def test_a_worker_killed_mid_batch_and_restarted_delivers_everything_once(stack, settings):
    settings.REMINDER_BATCH_SIZE = 20
    # One sending process, so the kill lands while it waits on the 25th message. With two,
    # the other child can be killed between the server's "250 accepted" and its status
    # write: that message is the ambiguous failure the stable Message-ID exists for (it is
    # sent again with the same id), not a bug this test should flake on.
    stack.worker.stop()
    stack.worker.env["WORKER_CONCURRENCY"] = "1"
    stack.worker.start()
    now = timezone.now()
    patients = [patient_due_at(now, email=f"kill{n}@example.org") for n in range(60)]
    killed = []

    def kill_on_the_25th(envelope):
        # SIGKILL while the 25th message is in flight: the worker never sees it accepted,
        # so the server does not keep it (as a real server would roll back the transaction).
        if len(stack.sink.messages) == 24 and not killed:
            stack.worker.kill()
            killed.append(True)
            return "421 4.3.2 Service shutting down"
        return None

    stack.sink.before_data = kill_on_the_25th
    tick_from(now - dt.timedelta(minutes=2))
    assert wait_for(lambda: killed, 60), "the worker was never killed"
    assert len(stack.sink.messages) == 24
    stranded = Reminder.objects.filter(status="sending").count()
    assert stranded > 0

    stack.worker.start()
    # The lease (5 s here) runs out; the next tick takes the stranded rows back.
    wait_for(lambda: False, 6)
    result = reminders_tick(now=timezone.now())
    assert result.released == stranded

    assert wait_for(lambda: Reminder.objects.filter(status="sent").count() == 60, 60)
    ids = stack.sink.message_ids()
    assert len(ids) == len(set(ids)) == 60
    assert sorted(stack.sink.to()) == sorted(p.email for p in patients)


def test_redis_stopped_for_30_seconds_then_reminders_resume_without_duplicates(stack, client):
    now = timezone.now()
    before = [patient_due_at(now, email=f"before{n}@example.org") for n in range(10)]
    tick_from(now - dt.timedelta(minutes=2))
    assert wait_for(lambda: len(stack.sink.messages) == 10, 60)

    stack.redis.stop()
    outage_started = timezone.now()
    during = [patient_due_at(outage_started, email=f"during{n}@example.org") for n in range(10)]
    # Half of them log their dose in the web app while Redis is down.
    statuses = []
    for patient in during[:5]:
        client.force_login(patient)
        statuses.append(client.get("/today/").status_code)
        statuses.append(client.post("/dose/take/").status_code)
    outage_tick = tick_from(outage_started - dt.timedelta(minutes=2))  # must not raise
    wait_for(lambda: False, max(0, 30 - (timezone.now() - outage_started).total_seconds()))
    assert all(code < 500 for code in statuses), statuses
    assert DoseLog.objects.filter(patient__in=during[:5], status="taken").count() == 5
    assert len(outage_tick.enqueued) == 5

    stack.redis.start()  # empty: whatever was queued is gone; the database still knows
    # The worker reconnects with a backoff of up to 30 s between tries; on a loaded 2-core
    # CI machine (the suite runs beside it) resuming took longer than 90 s in two CI-style
    # runs (stops 11 and 12). Run alone, the whole test passes in 41-51 s.
    assert wait_for(
        lambda: (reminders_tick(now=timezone.now()), len(stack.sink.messages) >= 15)[1],
        180,
        interval=2,
    ), stack.sink.to()
    wait_for(lambda: False, 3)

    to = stack.sink.to()
    assert len(to) == len(set(to)) == 15
    assert sorted(to) == sorted([p.email for p in before] + [p.email for p in during[5:]])
