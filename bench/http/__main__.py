"""Dose and diary POSTs against the floor: `.venv/bin/python -m bench.http`.

Authenticated, CSRF-valid POSTs from many seeded patients (each with its own session) to
gunicorn, measured side by side with the floor's POST twin (bench/urls.py) in the same run:

1. capacity: `--concurrency` clients sending back to back for `--seconds` (closed loop), for
   the floor, dose, diary, then the floor again (the floor is the mean of the two, so drift
   during the run shows as their spread);
2. latency: requests started at a fixed rate of half the floor's capacity for
   `--latency-seconds` (open loop), p50/p95/p99 counted from each request's scheduled start.

A dose POST is what the Today page's button sends with htmx (`I took it`), for today or one
of the two days before; each (patient, day) is logged once, and the doses logged are removed
between phases, so every POST writes a new row. A diary POST saves today's short diary.
"""

import argparse
import asyncio
import datetime as dt
import itertools
import sys
import tempfile
from urllib.parse import urlencode

from bench import common, seed

SIDE_EFFECT_FIELDS = [
    "vivid_dreams",
    "insomnia",
    "headache",
    "nausea",
    "reduced_appetite",
    "stomach",
    "dizziness",
    "anxiety",
    "cramps",
    "other",
]


def diary_values(person, k, *, headache_every=7):
    """What the short diary page sends (12 weeks in, the short form is the one shown): pain,
    sleep and every side effect, a headache now and then."""
    values = {
        "csrfmiddlewaretoken": person.csrf_token,
        "diary_form": "short",
        "pain": 3 + k % 5,
        "sleep": 6,
    }
    values.update(
        {
            name: 1 if name == "headache" and headache_every and k % headache_every == 0 else 0
            for name in SIDE_EFFECT_FIELDS
        }
    )
    return values


def post_headers(port, person, *, htmx=False):
    headers = {
        "Cookie": person.cookie,
        "Origin": f"http://{common.HOST}:{port}",
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept-Encoding": "gzip, deflate, br",
    }
    if htmx:
        headers.update({"HX-Request": "true", "X-CSRFToken": person.csrf_token})
    return headers


def floor_post(port, people):
    cycle = itertools.cycle(people)

    async def make():
        person = next(cycle)
        body = urlencode({"csrfmiddlewaretoken": person.csrf_token}).encode()
        r = await common.http_request(
            port, "POST", "/bench/floor/post/", headers=post_headers(port, person), body=body
        )
        return "floor", r.status == 200, f"floor {r.status}"

    return make


def dose_slots(people):
    """Every (patient, day) the benchmark may log: today and the two days before, patient
    after patient, so consecutive POSTs come from different people."""
    slots = []
    for back in range(seed.FREE_DOSE_DAYS):
        for person in people:
            slots.append((person, person.local_today() - dt.timedelta(days=back)))
    return slots


def dose_take(port, people):
    slots = iter(dose_slots(people))

    async def make():
        try:
            person, day = next(slots)
        except StopIteration:
            return "exhausted", False, ""
        body = urlencode({"csrfmiddlewaretoken": person.csrf_token, "day": day}).encode()
        r = await common.http_request(
            port, "POST", "/dose/take/", headers=post_headers(port, person, htmx=True), body=body
        )
        # The dose card comes back; an "already logged" or "not allowed" message is an error.
        ok = r.status == 200 and b"dose-card" in r.body and b"alert alert-info" not in r.body
        return "dose", ok, f"dose {r.status} {r.body[:120]!r}" if not ok else ""

    return make


def diary_save(port, people):
    cycle = itertools.cycle(people)
    n = itertools.count()

    async def make():
        person = next(cycle)
        values = diary_values(person, next(n))
        r = await common.http_request(
            port,
            "POST",
            "/diary/",
            headers=post_headers(port, person),
            body=urlencode(values).encode(),
        )
        ok = r.status == 302 and r.headers.get("location") == ["/today/"]
        return "diary", ok, f"diary {r.status} {r.headers.get('location')}" if not ok else ""

    return make


def report(name, result):
    print(
        f"  {name}: {len(result.samples)} requests in {result.seconds:.1f} s, "
        f"{result.throughput():.0f}/s, p50 {result.percentile(50):.1f} ms, "
        f"p95 {result.percentile(95):.1f} ms, p99 {result.percentile(99):.1f} ms, "
        f"errors {result.errors()} {result.error_details(2)}, shed {result.shed()}",
        file=sys.stderr,
    )
    return result


async def measure(port, people, args):
    c, s = args.concurrency, args.seconds
    closed = common.closed_loop
    print(f"capacity: {c} clients back to back, {s:.0f} s each", file=sys.stderr)
    floor_1 = report("floor", await closed(floor_post(port, people), concurrency=c, seconds=s))
    seed.doses_reset()
    dose = report("dose", await closed(dose_take(port, people), concurrency=c, seconds=s))
    diary = report("diary", await closed(diary_save(port, people), concurrency=c, seconds=s))
    floor_2 = report("floor", await closed(floor_post(port, people), concurrency=c, seconds=s))
    floor = (floor_1.throughput() + floor_2.throughput()) / 2

    rate = floor / 2
    ls = args.latency_seconds
    print(f"latency: {rate:.0f} requests/s (half the floor), {ls:.0f} s each", file=sys.stderr)
    floor_lat = report(
        "floor", await common.open_loop(floor_post(port, people), rate=rate, seconds=ls)
    )
    seed.doses_reset()
    dose_lat = report(
        "dose", await common.open_loop(dose_take(port, people), rate=rate, seconds=ls)
    )
    diary_lat = report(
        "diary", await common.open_loop(diary_save(port, people), rate=rate, seconds=ls)
    )
    seed.doses_reset()

    rows = [
        common.Row(
            "http",
            "floor POST capacity",
            floor,
            "req/s",
            note=f"runs {floor_1.throughput():.0f} and {floor_2.throughput():.0f}",
        ),
    ]
    for name, cap, lat in (("dose", dose, dose_lat), ("diary", diary, diary_lat)):
        errors = cap.errors() + lat.errors()
        rows += [
            common.Row(
                "http",
                f"{name} POST capacity",
                cap.throughput(),
                "req/s",
                floor,
                ">= 0.5 x floor",
                cap.throughput() >= 0.5 * floor,
            ),
            common.Row(
                "http",
                f"{name} POST p50 @ {rate:.0f}/s",
                lat.percentile(50),
                "ms",
                floor_lat.percentile(50),
            ),
            common.Row(
                "http",
                f"{name} POST p95 @ {rate:.0f}/s",
                lat.percentile(95),
                "ms",
                floor_lat.percentile(95),
                "< 100 ms",
                lat.percentile(95) < 100,
                f"{lat.shed()} of {len(lat.samples)} not sent: more than 500 waiting, the rate"
                " is above this workload's capacity"
                if lat.shed()
                else "",
            ),
            common.Row(
                "http",
                f"{name} POST p99 @ {rate:.0f}/s",
                lat.percentile(99),
                "ms",
                floor_lat.percentile(99),
            ),
            common.Row(
                "http",
                f"{name} POST errors",
                float(errors),
                "",
                None,
                "0",
                errors == 0,
                "; ".join(cap.error_details(2) + lat.error_details(2)),
            ),
        ]
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--latency-seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=common.GUNICORN_WORKERS)
    args = parser.parse_args(argv)

    env = common.prepare(patients=args.patients)
    people = seed.sessions_create(seed.patients())
    with (
        tempfile.TemporaryDirectory() as logs,
        common.Server(env, workers=args.workers, log_dir=logs) as server,
    ):
        print(f"gunicorn: {args.workers} sync workers on {server.base}", file=sys.stderr)
        rows = asyncio.run(measure(server.port, people, args))
        logged = server.errors_logged()
    if logged:
        print(f"server logged {len(logged)} errors, e.g. {logged[:3]}", file=sys.stderr)
    common.emit(rows)


if __name__ == "__main__":
    main()
