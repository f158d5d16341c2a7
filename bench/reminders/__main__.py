"""Reminder throughput at the evening peak: `.venv/bin/python -m bench.reminders`.

N patients (default 100,000) spread over time zones, all due in one minute, among a
population of P patients (default N; `--population 1000000`) whose other members are due at
other minutes of the day. Measures:
  1. the tick: creating the rows and enqueueing their ids (one call, as beat makes it; it
     commits and enqueues as it goes, so sending starts before it ends);
  2. sending: from the tick until every message reached a local aiosmtpd sink, through our
     own redis-server and a real `celery worker` (prefork, the production concurrency
     unless --concurrency);
  3. the floor: raw smtplib sending the same kind of pre-rendered messages over one
     connection to the same sink, in this run;
  4. the plans (EXPLAIN ANALYZE, BUFFERS) of the queries that find the due patients.
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


def sink_main(port, counter, first_at, ready):
    """An aiosmtpd server in its own process that counts what it accepts and notes when the
    first message came (time.monotonic, the same clock in every process)."""
    import asyncio

    from aiosmtpd.smtp import SMTP

    class Count:
        async def handle_DATA(self, server, session, envelope):
            with counter.get_lock():
                if counter.value == 0:
                    first_at.value = time.monotonic()
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


def wait_for_count(count, target, stall_seconds=60, interval=0.05):
    """Wait until count() reaches target: the time of the last arrival (time.monotonic), or
    None when it stops moving for a while."""
    last, last_change = count(), time.monotonic()
    while last < target:
        time.sleep(interval)
        now, current = time.monotonic(), count()
        if current != last:
            last, last_change = current, now
        elif now - last_change > stall_seconds:
            return None
    return last_change


def print_table(rows, floor, patients, sent_rows, loads, cpu, args):
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
          f"batch {args.batch_size}, population {args.population})")  # fmt: skip
    print(f"{'CPU s in the window':<36} " + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()))


def create_database():
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def patients_create(population, due, peak):
    """Verified patients with a clear safety screen and a standard plan started ten days
    ago, in one INSERT ... SELECT FROM generate_series per table (a million in about a
    minute; bulk_create took 35-50 s for 100,000). Patients 0 .. due-1 have their reminder
    at `peak`'s wall time in their zone, the others at another minute of the day, spread
    evenly; one in a hundred is on home time."""
    import zoneinfo

    from django.db import connection

    from accounts.models import PatientProfile, User

    walls = [peak.astimezone(zoneinfo.ZoneInfo(zone)).time() for zone in ZONES]
    start = (peak - dt.timedelta(days=10)).date()
    params = {
        "population": population,
        "due": due,
        "zones": ZONES,
        "walls": walls,
        "start": start,
        "role": User.Role.PATIENT,
        "bedtime": PatientProfile.DoseTime.BEDTIME,
    }
    zone = "(%(zones)s::varchar[])[n %% 25 + 1]"
    statements = [
        "INSERT INTO accounts_user (id, password, is_superuser, email, first_name, role, "
        "is_staff, is_active, date_joined) SELECT n + 1, '!', false, "
        "'p' || n || '@bench.example.org', 'P' || n, %(role)s, false, true, now() "
        "FROM generate_series(0, %(population)s - 1) n",
        'INSERT INTO account_emailaddress (id, email, verified, "primary", user_id) '
        "SELECT n + 1, 'p' || n || '@bench.example.org', true, true, n + 1 "
        "FROM generate_series(0, %(population)s - 1) n",
        "INSERT INTO accounts_patientprofile (id, user_id, time_zone, dose_time, reminder_time, "
        "reminders_enabled, formulation, concentration_mg_per_ml, onboarded_at, created_at, "
        f"updated_at) SELECT n + 1, n + 1, {zone}, %(bedtime)s, "
        "(%(walls)s::time[])[n %% 25 + 1] + CASE WHEN n < %(due)s THEN interval '0' "
        "ELSE make_interval(mins => 1 + n %% 1439) END, true, "
        "CASE WHEN n %% 3 = 0 THEN 'liquid' ELSE 'capsule' END, "
        "CASE WHEN n %% 3 = 0 THEN 1 END, now(), now(), now() "
        "FROM generate_series(0, %(population)s - 1) n",
        "INSERT INTO titration_safetyscreening (id, patient_id, opioid_use, alcohol, "
        "liver_medications, liver_disease, opioid_free_confirmed, created_at) "
        "SELECT n + 1, n + 1, false, false, false, false, false, now() "
        "FROM generate_series(0, %(population)s - 1) n",
        "INSERT INTO titration_plan (id, patient_id, protocol, target_mg, start_date, "
        "custom_steps, start_step, created_at) "
        "SELECT n + 1, n + 1, 'standard', 4.5, %(start)s, '[]', 0, now() "
        "FROM generate_series(0, %(population)s - 1) n",
        "INSERT INTO titration_planevent (id, plan_id, kind, effective_date, days, reason, "
        "automatic, actor_id, confirmation_key, created_at) "
        "SELECT n + 1, n + 1, 'start', %(start)s, NULL, '', false, n + 1, '', now() "
        "FROM generate_series(0, %(population)s - 1) n",
        # One in a hundred stays on home time (at home now), so both due queries have work.
        "INSERT INTO reminders_remindersettings (id, patient_id, travel, home_time_zone, "
        f"nudge_enabled, updated_at) SELECT n / 100 + 1, n + 1, 'home', {zone}, true, now() "
        "FROM generate_series(0, %(population)s - 1, 100) n",
    ]
    tables = ["accounts_user", "account_emailaddress", "accounts_patientprofile",
              "titration_safetyscreening", "titration_plan", "titration_planevent",
              "reminders_remindersettings"]  # fmt: skip
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, params)
        for table in tables:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        cursor.execute("VACUUM ANALYZE")  # fresh bulk-loaded tables; autovacuum would do it


def due_query_plans(after, until):
    """EXPLAIN (ANALYZE, BUFFERS) of the queries that find the patients due in (after,
    until], with the zone lists shortened."""
    import re

    from reminders.selectors import first_reminder_candidates, nudge_candidates

    labels = ["first reminders, profile's clock", "first reminders, home time", "nudges"]
    queries = [*first_reminder_candidates(after, until), nudge_candidates(after, until)]
    for label, query in zip(labels, queries, strict=True):
        plan = query.explain(analyze=True, buffers=True)
        plan = re.sub(r"ANY \('\{[^}]*\}'::text\[\]\)", "ANY (<zones>)", plan)
        # One line per condition: the OR of 40 zone groups reads as one very long line.
        plan = re.sub(r"(.{200}).+", r"\1 ...", plan)
        print(f"\n-- {label}\n{plan}")


def cpu_seconds(pids):
    """User + system CPU seconds used so far by these processes (and their waited-for
    children), from /proc."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return total


def group_pids(pgid):
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def floor_rate(port, sample):
    """Raw smtplib over one connection, the same messages pre-rendered (the very bytes the
    worker sends)."""
    import email.policy

    from django.conf import settings

    from reminders.emails import reminder_email
    from reminders.models import Reminder
    from reminders.selectors import doses_still_due

    rows = list(Reminder.objects.select_related("patient__profile").order_by("id")[:sample])
    doses = doses_still_due([(r.patient_id, r.local_date) for r in rows])
    sender = settings.DEFAULT_FROM_EMAIL
    rendered = []
    for row in rows:
        message = reminder_email(row, doses.get((row.patient_id, row.local_date), 1))
        data = message.message(policy=email.policy.SMTP).as_bytes()
        rendered.append((sender, message.to, data))
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
    result, _ = profiled("tick", lambda: reminders_tick(now=peak))
    ids = result.enqueued[:send_limit]

    def send_all():
        for i in range(0, len(ids), batch_size):
            reminders_send(reminder_ids=ids[i : i + batch_size])

    _, seconds = profiled("send", send_all)
    print(f"in-process send: {len(ids)} in {seconds:.1f} s, "
          f"{seconds / max(len(ids), 1) * 1e3:.2f} ms a message (profiled)")  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=100_000, help="due in the peak minute")
    parser.add_argument(
        "--population", type=int, help="patients in the database (default: --patients)"
    )
    parser.add_argument("--floor-sample", type=int, default=10_000)
    parser.add_argument(
        "--concurrency", type=int, help="worker processes (default: the production setting)"
    )
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile the tick and then send in this process (no worker) instead",
    )
    parser.add_argument("--profile-send-limit", type=int, default=5000)
    args = parser.parse_args()
    args.population = max(args.population or args.patients, args.patients)
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
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    from reminders.models import Reminder, SweepMark
    from reminders.services import reminders_tick

    args.concurrency = args.concurrency or settings.CELERY_WORKER_CONCURRENCY
    call_command("migrate", verbosity=0)

    processes = []
    counter, first_at = multiprocessing.Value("l", 0), multiprocessing.Value("d", 0.0)
    ready = multiprocessing.Event()
    sink = multiprocessing.Process(
        target=sink_main, args=(smtp_port, counter, first_at, ready), daemon=True
    )
    sink.start()
    ready.wait(10)
    redis = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    processes.append(redis)
    try:
        # The tick runs as beat runs it at the end of the peak minute, whatever the time now:
        # a later `now` would widen the window to the next minutes' patients.
        peak = timezone.now().replace(second=0, microsecond=0)
        started = time.monotonic()
        patients_create(args.population, args.patients, peak)
        rows = [("seed (SQL)", args.population, time.monotonic() - started)]
        print(f"patients created: {args.population} ({args.patients} due) in {rows[0][2]:.1f} s")
        window_start = peak - dt.timedelta(minutes=1)
        SweepMark.objects.update_or_create(pk=1, defaults={"covered_until": window_start})
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
        now = peak
        postgres = group_pids_named("postgres")
        cpu_before = {
            "worker": cpu_seconds(group_pids(worker.pid)),
            "sink": cpu_seconds([sink.pid]),
            "postgres (machine-wide)": cpu_seconds(postgres),
        }
        tick_cpu = time.process_time()
        tick_started = time.monotonic()
        result = reminders_tick(now=now)
        tick_seconds = time.monotonic() - tick_started
        tick_cpu = time.process_time() - tick_cpu
        rows.append(("tick (create rows + enqueue)", len(result.enqueued), tick_seconds))
        print(f"tick: {result.created} rows created, {len(result.enqueued)} enqueued")
        last_arrival = wait_for_count(lambda: counter.value, args.patients)
        if last_arrival is None:
            print(f"only {counter.value} messages arrived; see {workdir / 'worker.log'}")
            last_arrival = time.monotonic()
        cpu = {
            "tick": tick_cpu,
            "worker": cpu_seconds(group_pids(worker.pid)) - cpu_before["worker"],
            "sink": cpu_seconds([sink.pid]) - cpu_before["sink"],
            "postgres (machine-wide)": cpu_seconds(postgres)
            - cpu_before["postgres (machine-wide)"],
        }
        load_after = os.getloadavg()[0]
        wait(lambda: Reminder.objects.filter(status="sent").count() >= args.patients, 60, 1)
        sent_rows = Reminder.objects.filter(status="sent").count()
        delivered = counter.value
        rows.append(("send: first to last message", delivered, last_arrival - first_at.value))
        rows.append(("peak window: tick to last message", delivered, last_arrival - tick_started))
        print(f"first message {first_at.value - tick_started:.1f} s after the tick started")

        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(60)
        sample = min(args.floor_sample, args.patients)
        with counter.get_lock():
            counter.value = 0
        floor = floor_rate(smtp_port, sample)
        rows.append(("floor: raw smtplib, one connection", sample, sample / floor))
        print_table(rows, floor, args.patients, sent_rows, (load_before, load_after), cpu, args)
        print(f"\nQueries that find the patients due in ({window_start:%H:%M}, {now:%H:%M:%S}] "
              f"UTC, {args.population} patients in the database:")  # fmt: skip
        due_query_plans(window_start, now)
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                if process is redis:
                    process.terminate()
                else:  # the worker leads its own process group (parent and children)
                    os.killpg(process.pid, signal.SIGTERM)
                process.wait(30)
        sink.terminate()


def group_pids_named(name):
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


if __name__ == "__main__":
    main()
