"""Dose and diary POSTs against the floor: `.venv/bin/python -m bench.http`.

Authenticated, CSRF-valid POSTs from many seeded patients (each with its own session) to
gunicorn, measured side by side with the floor's POST twin (bench/urls.py) in the same run:

1. capacity: `--concurrency` clients sending back to back for `--seconds` (closed loop), in
   `--rounds` rounds of floor, dose, floor, diary, and the floor once more at the end: each
   slice of a workload is set against the mean of the floor's slices either side of it, and
   the figure is the median slice against the median of those floors (the machine's speed
   drifts within a minute);
2. latency: for the floor, the dose and the diary in turn, a window: the floor's capacity
   (`--floor-seconds`), requests started at a fixed rate of half of it for
   `--latency-seconds` (open loop; p50/p95/p99 counted from each request's scheduled start),
   the floor's capacity again. A window whose two floors differ by more than 15% ran while
   the machine changed speed and is measured again (up to `--attempts`; all reported).

A dose POST is what the Today page's button sends with htmx (`I took it`), for today or one
of the two days before; each (patient, day) is logged once, and the doses logged are removed
between phases, so every POST writes a new row. A diary POST saves today's short diary.
"""

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
from dataclasses import dataclass
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


def dose_take(port, people):
    # One dose per patient, the one Today's card offers (the dose decision's date: the form
    # sends no date): a second within 6 hours is refused, as it must be.
    slots = iter(people)

    async def make():
        try:
            person = next(slots)
        except StopIteration:
            return "exhausted", False, ""
        body = urlencode({"csrfmiddlewaretoken": person.csrf_token}).encode()
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


# The floor's capacity either side of a latency window may differ by this much; beyond it the
# machine changed speed during the window (these are shared virtual CPUs: the floor moved
# from 375 to 529 req/s between runs minutes apart), and the window is measured again.
STEADY = 0.15


@dataclass
class Window:
    attempts: list  # (result, rate, floor before, floor after) for each attempt

    @property
    def result(self) -> common.LoadResult:
        return self.attempts[-1][0]

    @property
    def rate(self) -> float:
        return self.attempts[-1][1]

    def errors(self) -> int:
        """Over every attempt: a repeated window's errors still count."""
        return sum(result.errors() for result, *_ in self.attempts)

    def error_details(self, limit) -> list[str]:
        return [d for result, *_ in self.attempts for d in result.error_details(limit)]

    def note(self) -> str:
        tries = ", ".join(f"{b:.0f} -> {a:.0f}" for *_, b, a in self.attempts)
        return f"floor before -> after the window: {tries} req/s"


async def latency_window(port, people, name, make, args, *, reset=False):
    """Half the floor's capacity, measured just before, for `--latency-seconds` (open loop),
    then the floor again. If the floor moved by more than STEADY the machine's speed changed
    under the window, which then says nothing about the workload: measured again, up to
    `--attempts` times, every attempt reported."""
    closed = common.closed_loop
    c, s = args.concurrency, args.floor_seconds
    attempts = []
    for _ in range(args.attempts):
        if reset:
            seed.doses_reset()
        before = (await closed(floor_post(port, people), concurrency=c, seconds=s)).throughput()
        rate = before / 2
        result = await common.open_loop(make(), rate=rate, seconds=args.latency_seconds)
        after = (await closed(floor_post(port, people), concurrency=c, seconds=s)).throughput()
        attempts.append((result, rate, before, after))
        report(f"{name} at {rate:.0f}/s (floor {before:.0f} -> {after:.0f})", result)
        if abs(after / before - 1) <= STEADY:
            break
    return Window(attempts)


async def measure(port, people, args):
    c, s = args.concurrency, args.seconds
    closed = common.closed_loop
    print(
        f"capacity: {c} clients back to back, {s:.0f} s each, {args.rounds} rounds of "
        "floor, dose, floor, diary (and the floor again at the end)",
        file=sys.stderr,
    )
    # Each slice of a workload sits between two slices of the floor, and its ratio is taken
    # to their mean: the machine's speed drifts (see STEADY), and a floor measured tens of
    # seconds away is not the same machine.
    seed.doses_reset()
    makers = {"dose": dose_take(port, people), "diary": diary_save(port, people)}
    floors = [report("floor", await closed(floor_post(port, people), concurrency=c, seconds=s))]
    slices = {name: [] for name in makers}
    for _ in range(args.rounds):
        for name, make in makers.items():
            result = report(name, await closed(make, concurrency=c, seconds=s))
            floors.append(
                report("floor", await closed(floor_post(port, people), concurrency=c, seconds=s))
            )
            around = (floors[-2].throughput() + floors[-1].throughput()) / 2
            slices[name].append((result, around))
    floor = statistics.median(f.throughput() for f in floors)

    print(
        f"latency: each workload at half the floor's capacity measured just before, "
        f"{args.latency_seconds:.0f} s, then the floor again",
        file=sys.stderr,
    )
    floor_lat = await latency_window(port, people, "floor", lambda: floor_post(port, people), args)
    dose_lat = await latency_window(
        port, people, "dose", lambda: dose_take(port, people), args, reset=True
    )
    diary_lat = await latency_window(port, people, "diary", lambda: diary_save(port, people), args)
    seed.doses_reset()

    rows = [
        common.Row(
            "http",
            "floor POST capacity",
            floor,
            "req/s",
            note="median of " + ", ".join(f"{f.throughput():.0f}" for f in floors),
        ),
    ]
    for name, window in (("dose", dose_lat), ("diary", diary_lat)):
        lat, rate = window.result, window.rate
        # Each slice against the floor around it; the figure is the median slice and the
        # median of the floors around the slices, so the table's ratio is theirs.
        ratios = [r.throughput() / around for r, around in slices[name]]
        throughput = statistics.median(r.throughput() for r, _ in slices[name])
        around = statistics.median(a for _, a in slices[name])
        errors = sum(r.errors() for r, _ in slices[name]) + window.errors()
        details = [d for r, _ in slices[name] for d in r.error_details(2)]
        details += window.error_details(2)
        rows += [
            common.Row(
                "http",
                f"{name} POST capacity",
                throughput,
                "req/s",
                around,
                ">= 0.5 x floor",
                throughput >= 0.5 * around,
                "each slice against the floor either side of it: "
                + ", ".join(f"{x:.2f}" for x in ratios),
            ),
            common.Row(
                "http",
                f"{name} POST p50 @ {rate:.0f}/s",
                lat.percentile(50),
                "ms",
                floor_lat.result.percentile(50),
                note=window.note(),
            ),
            common.Row(
                "http",
                f"{name} POST p95 @ {rate:.0f}/s",
                lat.percentile(95),
                "ms",
                floor_lat.result.percentile(95),
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
                floor_lat.result.percentile(99),
            ),
            common.Row(
                "http",
                f"{name} POST errors",
                float(errors),
                "",
                None,
                "0",
                errors == 0,
                "; ".join(details[:4]),
            ),
        ]
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5, help="each capacity slice")
    parser.add_argument("--rounds", type=int, default=3, help="capacity rounds")
    parser.add_argument("--latency-seconds", type=float, default=15)
    parser.add_argument("--floor-seconds", type=float, default=5, help="each side of a window")
    parser.add_argument("--attempts", type=int, default=3, help="per latency window")
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
