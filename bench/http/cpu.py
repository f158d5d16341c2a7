"""CPU per request, in-process: `.venv/bin/python -m bench.http.cpu [--requests 300]`.

The HTTP benchmark's capacity figures move with whatever else the machine is doing; these do
less. The same authenticated, CSRF-valid POSTs as `bench.http` (floor, dose, diary) go through
Django's test client, in this process, with the server's settings and the bench database. Per
request: this process's CPU time (`time.process_time`: Python, templates, the database driver),
the CPU time of the PostgreSQL backend that served it (from /proc: both run on this machine),
the wall time (which also counts each commit's flush to disk), and the statements (BEGIN,
COMMIT and savepoints not among them). Workloads alternate in rounds, so a change in the
machine's speed (shared virtual CPUs) moves a view and the floor beside it together; read the
ratios to the floor: what is above 1 is the view's own cost.
"""

import argparse
import itertools
import os
import statistics
import sys
import tempfile
import time

from bench import common, seed
from bench.http.__main__ import diary_values

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
    for person in people:  # one dose each: the one Today's card offers
        data = {"csrfmiddlewaretoken": person.csrf_token}
        headers = {"HTTP_HX_REQUEST": "true", "HTTP_X_CSRFTOKEN": person.csrf_token}
        yield _client(person), "/dose/take/", data, headers, 200


def _diary(people):
    for k, person in enumerate(itertools.cycle(people)):
        data = diary_values(person, k)
        yield _client(person), "/diary/", data, {}, 302


WORKLOADS = {"floor": _floor, "dose": _dose, "diary": _diary}


def _backend_cpu(pid) -> float:
    """CPU seconds used so far by the PostgreSQL backend serving this process (same machine)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(name, source, requests):
    """Per request: CPU ms here, statements, wall ms, and CPU ms of the PostgreSQL backend."""
    from django.db import connection

    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    backend_start = _backend_cpu(backend)

    count = [0]

    def counting(execute, sql, params, many, context):
        count[0] += 1
        return execute(sql, params, many, context)

    cpu = wall = 0.0
    with connection.execute_wrapper(counting):  # a counter: no SQL kept, unlike a debug cursor
        for _ in range(requests):
            client, path, data, headers, expected = next(source)
            start, started = time.process_time(), time.perf_counter()
            response = client.post(path, data, **headers)
            cpu += time.process_time() - start
            wall += time.perf_counter() - started
            if response.status_code != expected or b"alert alert-info" in response.content:
                sys.exit(f"{name}: {response.status_code} {response.content[:200]!r}")
    backend_cpu = _backend_cpu(backend) - backend_start
    return (
        1000 * cpu / requests,
        count[0] / requests,
        1000 * wall / requests,
        1000 * backend_cpu / requests,
    )


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
        f"{'workload':<8} {'CPU/request':>12} {'vs floor':>9} {'PostgreSQL':>11} "
        f"{'both vs floor':>13} {'wall':>9} {'queries':>8}  (median of {args.rounds} rounds)"
    )
    for name in sources:
        cpu = statistics.median(r[name][0] for r in rounds)
        ratio = statistics.median(r[name][0] / r["floor"][0] for r in rounds)
        backend = statistics.median(r[name][3] for r in rounds)
        both = statistics.median(
            (r[name][0] + r[name][3]) / (r["floor"][0] + r["floor"][3]) for r in rounds
        )
        wall = statistics.median(r[name][2] for r in rounds)
        print(
            f"{name:<8} {cpu:9.2f} ms {ratio:9.2f} {backend:8.2f} ms {both:13.2f} "
            f"{wall:6.2f} ms {rounds[0][name][1]:8.1f}"
        )


if __name__ == "__main__":
    main()
