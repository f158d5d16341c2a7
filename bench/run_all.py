"""Every benchmark, one combined table: `.venv/bin/python -m bench.run_all` (`make bench`).

Runs, each in its own process: bench.http, bench.today, bench.soak (ours), then
bench.dashboard and bench.reminders when they exist. Our modules print one
`BENCH-RESULT {json}` line per figure; the others print prose, which is parsed here for
their figures. A module that fails is reported as failed and the others still run.
"""

import argparse
import datetime as dt
import importlib.util
import json
import re
import subprocess
import sys
import time

from bench import common


def ours(module, *extra):
    return [common.PYTHON, "-m", module, *extra]


def dashboard_rows(output):
    """bench.dashboard.run: '<name>: median X ms (...); SQL floor median Y ms; ratio Zx'."""
    rows = []
    pattern = re.compile(r"^(.+?): median ([\d.]+) ms .*SQL floor median ([\d.]+) ms")
    for line in output.splitlines():
        match = pattern.match(line)
        if match:
            name, value, floor = match.group(1), float(match.group(2)), float(match.group(3))
            target = "<= 3 x floor" if name == "panel page" else ""
            met = value <= 3 * floor if target else None
            rows.append(common.Row("dashboard", name, value, "ms", floor, target, met))
    return rows


def reminders_rows(output):
    """bench.reminders prints prose; every line that states a ratio becomes a row."""
    rows = []
    for line in output.splitlines():
        # A whole word: "titration" in a printed query plan is not a ratio.
        match = re.search(r"\bratio\b[^\d]*([\d.]+)(%?)", line, re.IGNORECASE)
        if match:
            ratio = float(match.group(1)) / (100 if match.group(2) else 1)
            rows.append(
                common.Row("reminders", line.strip()[:70], ratio, "x", None, ">= 0.3", ratio >= 0.3)
            )
    return rows


def parse(output, fallback):
    rows = []
    for line in output.splitlines():
        if line.startswith(common.RESULT_PREFIX):
            rows.append(common.Row(**json.loads(line[len(common.RESULT_PREFIX) :])))
    return rows or (fallback(output) if fallback else [])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--soak-minutes", type=float, default=10)
    parser.add_argument("--skip", nargs="*", default=[], help="e.g. soak reminders")
    args = parser.parse_args(argv)

    plan = [
        ("http", ours("bench.http"), None),
        ("today", ours("bench.today"), None),
        ("soak", ours("bench.soak", "--minutes", str(args.soak_minutes)), None),
    ]
    if importlib.util.find_spec("bench.dashboard.run"):
        env_db = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/ldn_bench"}
        plan.append(("dashboard", ours("bench.dashboard.run"), dashboard_rows, env_db))
    if importlib.util.find_spec("bench.reminders.__main__"):
        plan.append(("reminders", ours("bench.reminders"), reminders_rows))

    began = dt.datetime.now(dt.UTC)
    rows, failed = [], []
    for name, command, fallback, *extra in plan:
        if name in args.skip:
            continue
        env = dict(__import__("os").environ, **(extra[0] if extra else {}))
        print(f"== {name}: {' '.join(command[1:])}", file=sys.stderr, flush=True)
        started = time.perf_counter()
        done = subprocess.run(command, cwd=common.BASE_DIR, env=env, capture_output=True, text=True)
        sys.stderr.write(done.stderr[-3000:])
        print(
            "\n".join(
                line
                for line in done.stdout.splitlines()
                if not line.startswith(common.RESULT_PREFIX)
            ),
            file=sys.stderr,
        )
        print(
            f"== {name}: {time.perf_counter() - started:.0f} s, exit {done.returncode}",
            file=sys.stderr,
            flush=True,
        )
        found = parse(done.stdout, fallback)
        if done.returncode != 0 or not found:
            failed.append(name)
        rows += found

    print(f"\nMachine: {common.machine()}")
    print(f"Date: {began:%Y-%m-%d %H:%M} UTC")
    print(common.table(rows))
    for row in rows:
        if row.note:
            print(f"  {row.bench} / {row.figure}: {row.note}")
    if failed:
        print(f"FAILED: {', '.join(failed)}")
    missed = [f"{r.bench} / {r.figure}" for r in rows if r.met is False]
    if missed:
        print(f"Targets not met: {'; '.join(missed)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
