"""Soak: `.venv/bin/python -m bench.soak [--minutes 10]`.

Mixed patient traffic (and clinician traffic when the clinic app is installed) at half the
capacity measured at the start of the same run, for `--minutes`, against gunicorn with the
Celery worker and beat running (reminders fall due during the run and are delivered to a
local SMTP sink). Reports requests, errors (must be 0), latency, and the resident memory of
every process (gunicorn master and workers, Celery worker and its children, beat) at the
start and the end: memory should be flat.
"""

import argparse
import asyncio
import collections
import datetime as dt
import itertools
import random
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from bench import common, seed
from bench.http.__main__ import diary_values, post_headers

SAMPLE_EVERY = 30  # seconds between memory samples and progress lines
PATIENT_MIX = {
    "today": 30,
    "dose": 15,
    "diary_post": 15,
    "diary_get": 10,
    "plan": 10,
    "progress": 10,
}
CLINICIAN_MIX = {"panel": 5, "patient_detail": 5}


class Traffic:
    """One request of the mix at a time, from a patient who has nothing else in flight."""

    def __init__(self, port, people, doctor):
        self.port = port
        self.idle = collections.deque(people)
        self.people = people
        self.doctor = doctor
        self.dose_logged = {}  # person -> day their dose is logged for (to undo next time)
        mix = dict(PATIENT_MIX, **(CLINICIAN_MIX if doctor else {}))
        self.kinds, self.weights = list(mix), list(mix.values())
        self.random = random.Random(8)
        self.counter = itertools.count()

    async def get(self, person, path, marker=b"</html>"):
        r = await common.http_request(
            self.port, "GET", path, headers={"Cookie": person.cookie, "Accept-Encoding": "gzip"}
        )
        return r.status == 200 and marker in r.body, f"GET {path} {r.status}"

    async def dose(self, person):
        day = person.local_today()
        undo = self.dose_logged.get(person) == day
        body = urlencode({"csrfmiddlewaretoken": person.csrf_token, "day": day}).encode()
        r = await common.http_request(
            self.port,
            "POST",
            "/dose/undo/" if undo else "/dose/take/",
            headers=post_headers(self.port, person, htmx=True),
            body=body,
        )
        ok = r.status == 200 and b"dose-card" in r.body and b"alert alert-info" not in r.body
        if ok:
            self.dose_logged[person] = None if undo else day
        return ok, f"dose {'undo' if undo else 'take'} {r.status} {r.body[:200]!r}"

    async def diary(self, person):
        k = next(self.counter)
        values = diary_values(person, k, headache_every=0)
        r = await common.http_request(
            self.port,
            "POST",
            "/diary/",
            headers=post_headers(self.port, person),
            body=urlencode(values).encode(),
        )
        ok = r.status == 302 and r.headers.get("location") == ["/today/"]
        return ok, f"diary {r.status} {r.headers.get('location')}"

    async def make(self):
        kind = self.random.choices(self.kinds, self.weights)[0]
        if kind in CLINICIAN_MIX:
            if kind == "panel":
                ok, detail = await self.get(self.doctor, "/clinic/")
            else:
                patient = self.random.choice(self.people)
                ok, detail = await self.get(self.doctor, f"/clinic/patients/{patient.user_id}/")
            return kind, ok, detail
        person = self.idle.popleft()
        try:
            if kind == "today":
                ok, detail = await self.get(person, "/today/", b"dose-card")
            elif kind == "dose":
                ok, detail = await self.dose(person)
            elif kind == "diary_post":
                ok, detail = await self.diary(person)
            elif kind == "diary_get":
                ok, detail = await self.get(person, "/diary/")
            elif kind == "plan":
                ok, detail = await self.get(person, "/plan/")
            else:
                ok, detail = await self.get(person, "/progress/")
        finally:
            self.idle.append(person)
        return kind, ok, detail


def reminders_due_during(minutes):
    """Move the patients' reminder times into the coming minutes, so the beat's ticks find
    reminders due and the worker sends them throughout the run."""
    from django.apps import apps
    from django.utils import timezone

    from accounts.models import PatientProfile

    if not apps.is_installed("reminders"):
        return 0
    from reminders.models import Reminder, SweepMark

    # A kept seed remembers today's reminders from an earlier run: start from none.
    Reminder.objects.all().delete()
    SweepMark.objects.all().delete()
    now = timezone.now()
    profiles = list(PatientProfile.objects.all())
    for n, profile in enumerate(profiles):
        at = now + dt.timedelta(minutes=2 + n % max(minutes - 2, 1))
        profile.reminder_time = at.astimezone(profile.zone).time().replace(second=0, microsecond=0)
    PatientProfile.objects.bulk_update(profiles, ["reminder_time"], batch_size=1000)
    return len(profiles)


def reminders_sent(since):
    from django.apps import apps

    if not apps.is_installed("reminders"):
        return None
    from reminders.models import Reminder

    return collections.Counter(
        Reminder.objects.filter(created_at__gte=since).values_list("status", flat=True)
    )


async def soak(traffic, rate, seconds, roots):
    memory = [(0.0, common.process_rss(roots))]
    began = time.perf_counter()
    load = asyncio.create_task(common.open_loop(traffic.make, rate=rate, seconds=seconds))
    while not load.done():
        await asyncio.wait([load], timeout=SAMPLE_EVERY)
        elapsed = time.perf_counter() - began
        memory.append((elapsed, common.process_rss(roots)))
        total = sum(memory[-1][1].values()) / 1024
        print(f"  {elapsed / 60:4.1f} min: RSS total {total:.0f} MiB", file=sys.stderr)
    return load.result(), memory


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--probe-seconds", type=float, default=15)
    parser.add_argument("--fraction", type=float, default=0.5, help="of the measured capacity")
    args = parser.parse_args(argv)

    env = common.prepare(patients=args.patients)
    import redis

    redis.Redis.from_url(common.REDIS_URL).flushdb()
    seed.doses_reset()
    people = seed.sessions_create(seed.patients())
    doctor_user = seed.clinician()
    doctor = seed.sessions_create([doctor_user])[0] if doctor_user else None
    with tempfile.TemporaryDirectory() as logs:
        smtp_port = common.free_port()
        env["EMAIL_URL"] = f"smtp://{common.HOST}:{smtp_port}"
        celery = str(common.VENV_BIN / "celery")
        sink = common.start(
            [
                common.PYTHON,
                "-m",
                "aiosmtpd",
                "-n",
                "-c",
                "aiosmtpd.handlers.Sink",
                "-l",
                f"{common.HOST}:{smtp_port}",
            ],
            env,
            Path(logs) / "smtp.log",
        )
        worker = common.start(
            [celery, "-A", "ldn_tracker", "worker", "--loglevel", "WARNING"],
            env,
            Path(logs) / "worker.log",
        )
        beat = common.start(
            [
                celery,
                "-A",
                "ldn_tracker",
                "beat",
                "--loglevel",
                "WARNING",
                "--schedule",
                str(Path(logs) / "beat-schedule"),
            ],
            env,
            Path(logs) / "beat.log",
        )
        try:
            with common.Server(env, log_dir=logs) as server:
                traffic = Traffic(server.port, people, doctor)
                probe = asyncio.run(
                    common.closed_loop(traffic.make, concurrency=16, seconds=args.probe_seconds)
                )
                capacity = probe.throughput()
                rate = capacity * args.fraction
                print(
                    f"capacity of the mix {capacity:.0f} req/s (errors {probe.errors()}); "
                    f"soaking at {rate:.0f} req/s for {args.minutes:g} min",
                    file=sys.stderr,
                )
                due = reminders_due_during(int(args.minutes))
                started_at = dt.datetime.now(dt.UTC)
                roots = {
                    "gunicorn": server.proc.pid,
                    "celery worker": worker.pid,
                    "celery beat": beat.pid,
                }
                result, memory = asyncio.run(soak(traffic, rate, args.minutes * 60, roots))
                server_errors = server.errors_logged()
        finally:
            for proc in (beat, worker, sink):
                common.stop(proc)
        worker_errors = [
            line
            for name in ("worker.log", "beat.log")
            for line in (Path(logs) / name).read_text(errors="replace").splitlines()
            if "ERROR" in line or "Traceback" in line
        ]
    sent = reminders_sent(started_at)
    print(
        f"reminders: {due} patients due during the run; rows by status {dict(sent or {})}",
        file=sys.stderr,
    )
    for line in (server_errors + worker_errors)[:5]:
        print(f"  logged: {line[:200]}", file=sys.stderr)
    by_kind = collections.Counter(s.kind for s in result.samples)
    print(f"mix: {dict(by_kind)}; errors {result.error_details(5)}", file=sys.stderr)

    errors = result.errors() + result.shed()  # at half capacity nothing may be shed
    rows = [
        common.Row(
            "soak",
            f"mixed traffic, {args.minutes:g} min",
            result.throughput(),
            "req/s",
            capacity,
            f"{args.fraction:g} x capacity",
            None,
            f"{len(result.samples)} requests",
        ),
        common.Row(
            "soak",
            "request errors",
            float(errors),
            "",
            None,
            "0",
            errors == 0,
            "; ".join(result.error_details(3)),
        ),
        common.Row(
            "soak",
            "errors logged (web, worker, beat)",
            float(len(server_errors) + len(worker_errors)),
            "",
            None,
            "0",
            not server_errors and not worker_errors,
        ),
        common.Row("soak", "p95 latency", result.percentile(95), "ms"),
        common.Row("soak", "p99 latency", result.percentile(99), "ms"),
    ]
    if sent is not None:
        rows.append(
            common.Row(
                "soak", "reminders sent", float(sent.get("sent", 0)), "", note=str(dict(sent))
            )
        )
    # Flat means no growth after the first minute: the first requests and the first
    # reminders fill each process's caches (templates, URL resolvers, connections) once.
    start, end = memory[0][1], memory[-1][1]
    warm = next((sample for at, sample in memory if at >= 60), start)
    peak = {name: max(sample.get(name, 0) for _, sample in memory) for name in end}
    for name in sorted(end):
        if not start.get(name) or not warm.get(name):
            continue
        grew = end[name] / warm[name]
        rows.append(
            common.Row(
                "soak",
                f"RSS {name} (end vs start)",
                end[name] / 1024,
                "MiB",
                start[name] / 1024,
                "end <= 1.1 x after 1 min",
                grew <= 1.1,
                f"after 1 min {warm[name] / 1024:.0f} MiB, peak {peak[name] / 1024:.0f} MiB",
            )
        )
    common.emit(rows)


if __name__ == "__main__":
    main()
