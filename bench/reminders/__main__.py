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


def wait_with_progress(count, target, stall_seconds=60, interval=0.05):
    """Wait until count() reaches target: (first arrival, last arrival) in perf_counter
    time, or None when it stops moving for a while."""
    first = None
    last, last_change = count(), time.perf_counter()
    while last < target:
        time.sleep(interval)
        now, current = time.perf_counter(), count()
        if current != last:
            last, last_change = current, now
            first = first or now
        elif now - last_change > stall_seconds:
            return None
    return first or last_change, last_change


def print_table(rows, floor, patients, sent_rows, loads, args):
    """Phase, count, seconds, rate; the send rate against the floor and the targets."""
    peak = rows[-2][2]
    rate = rows[-2][1] / peak
    ratio = rate / floor
    header = f"{'phase':<36} {'count':>8} {'seconds':>8} {'msg/s':>8}"
    print()
    print(header)
    print("-" * len(header))
    for phase, count, seconds in rows:
        print(f"{phase:<36} {count:>8} {seconds:>8.1f} {count / seconds:>8.0f}")
    print()
    projected = 100_000 / rate
    measured = "measured" if patients == 100_000 else f"projected from {patients}"
    print(f"{'rows sent':<36} {sent_rows} of {patients}")
    print(f"{'floor msg/s (same run)':<36} {floor:.0f}")
    print(f"{'ratio (peak window / floor)':<36} {ratio:.0%}  target >= 30%: "
          f"{'yes' if ratio >= 0.30 else 'no'}")  # fmt: skip
    print(f"{'100,000 in one window':<36} {projected:.0f} s ({measured})  target <= 120 s: "
          f"{'yes' if projected <= 120 else 'no'}")  # fmt: skip
    print(f"{'load average before / after send':<36} {loads[0]:.2f} / {loads[1]:.2f} "
          f"({os.cpu_count()} cores; concurrency {args.concurrency}, "
          f"batch {args.batch_size})")  # fmt: skip


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
    """Raw smtplib over one connection, the same messages pre-rendered (the very bytes the
    worker sends)."""
    from reminders.emails import Composer
    from reminders.models import Reminder
    from reminders.selectors import doses_still_due

    rows = list(Reminder.objects.select_related("patient__profile").order_by("id")[:sample])
    doses = doses_still_due([(r.patient_id, r.local_date) for r in rows])
    composer = Composer()
    rendered = []
    for row in rows:
        message = composer.compose(row, doses.get((row.patient_id, row.local_date), 1))
        rendered.append((composer.envelope_from, [message.to], message.raw))
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for sender, to, data in rendered:
            smtp.sendmail(sender, to, data)
    return len(rendered) / (time.perf_counter() - started)


def profile_tick_and_send(peak, batch_size, send_limit, top=25):
    """The tick, then the worker's function batch after batch, called here under cProfile
    with the same sink: where the time goes, without Celery in the way."""
    import cProfile
    import pstats

    from django.utils import timezone

    from reminders.services import reminders_send, reminders_tick

    def profiled(label, function):
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        result = function()
        profiler.disable()
        seconds = time.perf_counter() - started
        print(f"\n== {label}: {seconds:.2f} s (profiled) ==")
        pstats.Stats(profiler).sort_stats("tottime").print_stats(top)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(top)
        return result, seconds

    # The tick's enqueue goes to our idle Redis; nothing consumes it.
    result, _ = profiled("tick", lambda: reminders_tick(now=max(peak, timezone.now())))
    ids = result.enqueued[:send_limit]

    def send_all():
        for i in range(0, len(ids), batch_size):
            reminders_send(reminder_ids=ids[i : i + batch_size])

    _, seconds = profiled("send", send_all)
    print(f"in-process send: {len(ids)} in {seconds:.1f} s, "
          f"{seconds / max(len(ids), 1) * 1e3:.2f} ms a message (profiled)")  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--floor-sample", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile the tick and then send in this process (no worker) instead",
    )
    parser.add_argument("--profile-send-limit", type=int, default=5000)
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
        rows = [("seed (bulk_create)", args.patients, time.perf_counter() - started)]
        print(f"patients created: {args.patients} in {rows[0][2]:.1f} s")
        SweepMark.objects.update_or_create(
            pk=1, defaults={"covered_until": peak - dt.timedelta(minutes=1)}
        )
        if args.profile:
            profile_tick_and_send(peak, args.batch_size, args.profile_send_limit)
            return

        log = open(workdir / "worker.log", "wb")  # noqa: SIM115
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "ldn_tracker", "worker", "--loglevel",
             "WARNING", "--concurrency", str(args.concurrency), "--without-gossip",
             "--without-mingle", "--without-heartbeat"],
            cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        processes.append(worker)
        time.sleep(5)

        load_before = os.getloadavg()[0]
        tick_started = time.perf_counter()
        result = reminders_tick(now=max(peak, timezone.now()))
        tick_seconds = time.perf_counter() - tick_started
        rows.append(("tick (create rows + enqueue)", len(result.enqueued), tick_seconds))
        print(f"tick: {result.created} rows created, {len(result.enqueued)} enqueued")
        arrivals = wait_with_progress(lambda: counter.value, args.patients)
        if arrivals is None:
            print(f"only {counter.value} messages arrived; see {workdir / 'worker.log'}")
            arrivals = (tick_started, time.perf_counter())
        first_arrival, last_arrival = arrivals
        send_seconds = last_arrival - tick_started
        load_after = os.getloadavg()[0]
        wait(lambda: Reminder.objects.filter(status="sent").count() >= args.patients, 60, 1)
        sent_rows = Reminder.objects.filter(status="sent").count()
        delivered = counter.value
        rows.append(("send: first to last message", delivered, last_arrival - first_arrival))
        rows.append(("peak window: tick to last message", delivered, send_seconds))

        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(60)
        sample = min(args.floor_sample, args.patients)
        with counter.get_lock():
            counter.value = 0
        floor = floor_rate(smtp_port, sample)
        rows.append(("floor: raw smtplib, one connection", sample, sample / floor))
        print_table(rows, floor, args.patients, sent_rows, (load_before, load_after), args)
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
