"""Reminder throughput at the evening peak: `.venv/bin/python -m bench.reminders`.

N patients (default 100,000) spread over time zones, all due in one minute. Measures:
  1. the tick: creating the rows and enqueueing their ids (one call, as beat makes it);
  2. sending: from the tick until every message reached a local aiosmtpd sink, through our
     own redis-server and a real `celery worker` (prefork, 2 processes);
  3. the floor: raw smtplib sending the same kind of pre-rendered messages over one
     connection to the same sink, in this run.
Uses its own PostgreSQL database (ldn_tracker_bench, dropped and re-created), its own Redis
and SMTP ports; nothing shared is touched.
"""

import argparse
import datetime as dt
import email.policy
import multiprocessing
import os
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
PG = "postgres://postgres@127.0.0.1:5432"
DB_NAME = "ldn_tracker_bench"
ZONES = [
    "Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver",
    "America/Chicago", "America/New_York", "America/Sao_Paulo", "Atlantic/Azores",
    "Europe/London", "Europe/Paris", "Europe/Athens", "Europe/Moscow", "Asia/Dubai",
    "Asia/Karachi", "Asia/Kolkata", "Asia/Kathmandu", "Asia/Dhaka", "Asia/Bangkok",
    "Asia/Shanghai", "Asia/Tokyo", "Australia/Adelaide", "Australia/Sydney",
    "Pacific/Auckland", "Pacific/Chatham", "UTC",
]  # fmt: skip


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sink_main(port, counter, ready):
    """An aiosmtpd server in its own process that counts what it accepts."""
    import asyncio

    from aiosmtpd.smtp import SMTP

    class Count:
        async def handle_DATA(self, server, session, envelope):
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    async def serve():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: SMTP(Count()), "127.0.0.1", port)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


def wait(condition, seconds, interval=0.1):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False


def wait_with_progress(count, target, stall_seconds=60):
    """Wait until count() reaches target; give up when it stops moving for a while."""
    last, last_change = count(), time.monotonic()
    while count() < target:
        time.sleep(0.2)
        if count() != last:
            last, last_change = count(), time.monotonic()
        elif time.monotonic() - last_change > stall_seconds:
            return False
    return True


def create_database():
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def patients_create(count, peak):
    """Bulk rows: verified patients with a clear safety screen and a standard plan, each
    with a reminder at `peak`'s wall time in their zone."""
    import zoneinfo

    from allauth.account.models import EmailAddress

    from accounts.models import PatientProfile, User
    from titration.models import Plan, PlanEvent, SafetyScreening

    users = User.objects.bulk_create(
        [
            User(email=f"p{n}@bench.example.org", first_name=f"P{n}", password="!")
            for n in range(count)
        ],
        batch_size=5000,
    )
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users],
        batch_size=5000,
    )
    profiles = []
    for n, user in enumerate(users):
        zone = ZONES[n % len(ZONES)]
        wall = peak.astimezone(zoneinfo.ZoneInfo(zone))
        profiles.append(
            PatientProfile(
                user=user,
                time_zone=zone,
                dose_time="bedtime",
                reminder_time=dt.time(wall.hour, wall.minute),
                formulation="liquid" if n % 3 == 0 else "capsule",
                concentration_mg_per_ml=1 if n % 3 == 0 else None,
            )
        )
    PatientProfile.objects.bulk_create(profiles, batch_size=5000)
    SafetyScreening.objects.bulk_create(
        [
            SafetyScreening(
                patient=u,
                opioid_use=False,
                alcohol=False,
                liver_medications=False,
                liver_disease=False,
            )
            for u in users
        ],
        batch_size=5000,
    )
    start = (peak - dt.timedelta(days=10)).date()
    plans = Plan.objects.bulk_create(
        [Plan(patient=u, start_date=start) for u in users], batch_size=5000
    )
    PlanEvent.objects.bulk_create(
        [PlanEvent(plan=p, kind="start", effective_date=start, actor=p.patient) for p in plans],
        batch_size=5000,
    )


def floor_rate(port, sample):
    """Raw smtplib over one connection, the same messages pre-rendered."""
    from reminders.emails import reminder_email
    from reminders.models import Reminder
    from reminders.selectors import doses_still_due

    rows = list(Reminder.objects.select_related("patient__profile").order_by("id")[:sample])
    doses = doses_still_due([(r.patient_id, r.local_date) for r in rows])
    rendered = []
    for row in rows:
        message = reminder_email(row, doses.get((row.patient_id, row.local_date), 1))
        data = message.message(policy=email.policy.SMTP).as_bytes()
        rendered.append((message.from_email, message.to, data))
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for sender, to, data in rendered:
            smtp.sendmail(sender, to, data)
    return len(rendered) / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--floor-sample", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=100)
    args = parser.parse_args()
    if not shutil.which("redis-server"):
        sys.exit("redis-server is needed")

    workdir = Path(tempfile.mkdtemp(prefix="bench-reminders-"))
    redis_port, smtp_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CELERY_")}
    env.update(
        DEBUG="true",
        ENV_FILE="/dev/null",
        DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "ldn_tracker.settings"),
        DATABASE_URL=f"{PG}/{DB_NAME}",
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        REMINDER_BATCH_SIZE=str(args.batch_size),
        LOG_LEVEL="WARNING",
    )
    os.environ.update(env)
    create_database()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from reminders.models import Reminder, SweepMark
    from reminders.services import reminders_tick

    call_command("migrate", verbosity=0)

    processes = []
    counter, ready = multiprocessing.Value("l", 0), multiprocessing.Event()
    sink = multiprocessing.Process(target=sink_main, args=(smtp_port, counter, ready), daemon=True)
    sink.start()
    ready.wait(10)
    redis = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    processes.append(redis)
    try:
        peak = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        started = time.perf_counter()
        patients_create(args.patients, peak)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh bulk-loaded tables; autovacuum would do it
        print(f"patients created: {args.patients} in {time.perf_counter() - started:.1f} s")

        log = open(workdir / "worker.log", "wb")  # noqa: SIM115
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "ldn_tracker", "worker", "--loglevel",
             "WARNING", "--concurrency", str(args.concurrency), "--without-gossip",
             "--without-mingle", "--without-heartbeat"],
            cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        processes.append(worker)
        time.sleep(5)

        SweepMark.objects.update_or_create(
            pk=1, defaults={"covered_until": peak - dt.timedelta(minutes=1)}
        )
        tick_started = time.perf_counter()
        result = reminders_tick(now=max(peak, timezone.now()))
        tick_seconds = time.perf_counter() - tick_started
        print(
            f"tick: {result.created} rows created and {len(result.enqueued)} enqueued "
            f"in {tick_seconds:.1f} s"
        )
        if not wait_with_progress(lambda: counter.value, args.patients):
            print(f"only {counter.value} messages arrived; see {workdir / 'worker.log'}")
        send_seconds = time.perf_counter() - tick_started
        wait(lambda: Reminder.objects.filter(status="sent").count() >= args.patients, 60, 1)
        sent = Reminder.objects.filter(status="sent").count()
        rate = counter.value / send_seconds
        print(
            f"sent: {counter.value} messages reached the sink ({sent} rows sent) "
            f"{send_seconds:.1f} s after the tick started: {rate:.0f} messages/s"
        )

        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(60)
        with counter.get_lock():
            counter.value = 0
        floor = floor_rate(smtp_port, min(args.floor_sample, args.patients))
        print(f"floor (raw smtplib, one connection, pre-rendered): {floor:.0f} messages/s")
        print(f"ratio: {rate / floor:.0%} of the floor (target >= 30%)")
        print(
            f"peak window sent in {send_seconds:.1f} s "
            f"(target <= 120 s for 100,000: {'met' if send_seconds <= 120 else 'NOT met'}"
            f"{'' if args.patients == 100_000 else f', measured with {args.patients}'})"
        )
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                if process is redis:
                    process.terminate()
                else:  # the worker leads its own process group (parent and children)
                    os.killpg(process.pid, signal.SIGTERM)
                process.wait(30)
        sink.terminate()


if __name__ == "__main__":
    main()
