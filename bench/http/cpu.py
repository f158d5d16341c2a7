"""CPU per request, in-process: `.venv/bin/python -m bench.http.cpu [--requests 300]`.

The HTTP benchmark's capacity figures move with whatever else the machine is doing; this one
does not. It sends the same authenticated, CSRF-valid POSTs as `bench.http` (floor, dose,
diary) through Django's test client, in this process, with the server's settings and the bench
database, and divides the process's CPU time (`time.process_time`: Python, templates, the
database driver; not PostgreSQL's own work) by the number of requests. Statements per request
are counted too (queries: BEGIN, COMMIT and savepoints are not among them). Read the ratio of
a view to the floor, measured in alternating rounds: the view's own cost is what is above 1.
"""

import argparse
import itertools
import statistics
import sys
import tempfile
import time

from bench import common, seed
from bench.http.__main__ import diary_values, dose_slots

_CLIENT = None


def _client(person):
    """One client (one handler, its middleware loaded once, as in a server's worker), with
    the person's cookies."""
    global _CLIENT
    from django.test import Client

    if _CLIENT is None:
        _CLIENT = Client(
            enforce_csrf_checks=True, SERVER_NAME="127.0.0.1", HTTP_ORIGIN="http://127.0.0.1"
        )
    _CLIENT.cookies.clear()
    _CLIENT.cookies["sessionid"] = person.session_key
    _CLIENT.cookies["csrftoken"] = person.csrf_secret
    return _CLIENT


def _floor(people):
    for person in itertools.cycle(people):
        data = {"csrfmiddlewaretoken": person.csrf_token}
        yield _client(person), "/bench/floor/post/", data, {}, 200


def _dose(people):
    for person, day in dose_slots(people):
        data = {"csrfmiddlewaretoken": person.csrf_token, "day": day.isoformat()}
        headers = {"HTTP_HX_REQUEST": "true", "HTTP_X_CSRFTOKEN": person.csrf_token}
        yield _client(person), "/dose/take/", data, headers, 200


def _diary(people):
    for k, person in enumerate(itertools.cycle(people)):
        data = diary_values(person, k)
        yield _client(person), "/diary/", data, {}, 302


WORKLOADS = {"floor": _floor, "dose": _dose, "diary": _diary}


def measure(name, source, requests):
    """CPU seconds per request and statements per request over `requests` POSTs."""
    from django.db import connection

    count = [0]

    def counting(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    cpu = 0.0
    with connection.execute_wrapper(counting):  # a counter: no SQL kept, unlike a debug cursor
        for _ in range(requests):
            client, path, data, headers, expected = next(source)
            start = time.process_time()
            response = client.post(path, data, **headers)
            cpu += time.process_time() - start
            if response.status_code != expected or b"alert alert-info" in response.content:
                sys.exit(f"{name}: {response.status_code} {response.content[:200]!r}")
    return 1000 * cpu / requests, count[0] / requests


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=100, help="per workload and round")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args(argv)

    env = common.prepare(
        patients=args.patients, static_root=tempfile.gettempdir() + "/ldn-bench-static"
    )
    common.django_setup(env)
    people = seed.sessions_create(seed.patients())
    seed.doses_reset()
    sources = {name: make(people) for name, make in WORKLOADS.items()}
    for name, source in sources.items():
        measure(name, source, 30)  # warm: templates, compiled queries, connections
    # Rounds interleave the workloads, so a change in the machine's speed (these are shared
    # virtual CPUs) moves a view and the floor measured next to it together.
    rounds = []
    for _ in range(args.rounds):
        rounds.append({name: measure(name, s, args.requests) for name, s in sources.items()})
    print(
        f"{'workload':<8} {'CPU/request':>12} {'queries':>8} {'vs floor':>9}"
        f"  (median of {args.rounds} rounds)"
    )
    for name in sources:
        cpu = statistics.median(r[name][0] for r in rounds)
        ratio = statistics.median(r[name][0] / r["floor"][0] for r in rounds)
        print(f"{name:<8} {cpu:9.2f} ms {rounds[0][name][1]:8.1f} {ratio:9.2f}")


if __name__ == "__main__":
    main()
